// temperature_kl.wgsl — fused temperature-softmax KL distillation loss (plus optional hard
// cross-entropy): per-row loss and gradient w.r.t. the student logits in one dispatch.
// For row r with student logits s, teacher logits t (both [classes]), temperature T,
// hard-loss weight α and label y, with p_t = softmax(t/T), p_s = softmax(s/T), q = softmax(s):
//   loss[r]    = (1 − α)·T²·KL(p_t ‖ p_s) + α·(logsumexp(s) − s_y)
//   grad[r, c] = (1 − α)·T·(p_s[c] − p_t[c]) + α·(q[c] − [c == y])   (d loss[r] / d s[r, c])
// Numerics. Logits are shifted by their row maxima before scaling, a = (t − max t)/T and
// b = (s − max s)/T, so logits of ±1e4 keep full precision. With r = a − b, r̄ = E_pt[r]:
//   KL = log1p(Φ),  Φ = E_pt[φ(r − r̄)],  φ(w) = e^{−w} − 1 + w ≥ 0  (series near 0),
// a sum of non-negative terms that stays accurate when the student is close to the teacher
// (the textbook r̄ + log Σe^b − log Σe^a cancels badly there). When r̄ ≥ 60 the exponentials
// in Φ could overflow; KL is then large and the textbook form is used. Teacher classes whose
// probability underflows to 0 contribute 0. A label ≥ classes makes its row NaN.
// The gradient's p_s − p_t uses z = log(p_s/p_t) = −(r + log(Σe^b/Σe^a)) (series when small),
// which needs no Φ, so the group entries compute Φ and the gradient in the same pass.
// Sums are pairwise (a binary counter of partial sums per invocation, then a tree): Kahan
// compensation is optimised away by some drivers (Mesa lavapipe), pairwise sums cannot be.
// The group entries add BLOCK terms of each of the four vec4 components in order before the
// counter, and up to FLAT_REDUCE_LANES lane totals in groups of eight.
// Bindings: params {rows, classes, temperature, alpha}, student [rows, classes] (read),
// teacher [rows, classes] (read), labels u32 [rows] (read; *_labelled entries only),
// loss [rows] (write), grad [rows, classes] (write). Row-major. The *4 entries (classes % 4
// = 0) bind student, teacher and grad as student4, teacher4, grad4: array<vec4f>.
// Dispatch: temperature_kl_rows[_labelled]: one invocation per row, 64 rows per workgroup,
// for small class counts; temperature_kl_group[4][_labelled]: LANES invocations per row
// (override constants: LANES a power of two ≤ WG_SIZE ≤ 256), WG_SIZE / LANES rows per
// workgroup, three strided passes per row (maxima; Σe^a, Σe^b, Σe^a·r, Σ e^{s − max s};
// Φ and the gradient), then a fourth over the gradient that corrects log(p_s/p_t) once KL is
// known (z_shift). Workgroup grids past 65535 fold into 2-D (index = x + y · nx).
// Backward: scaleRows (src/ops/elementwise.ts) multiplies the saved gradient by d loss[row].

struct Params { rows: u32, classes: u32, temperature: f32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> student: array<f32>;
@group(0) @binding(2) var<storage, read> teacher: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

const WG = 256u; // the largest WG_SIZE (scratch's length)
const SERIAL_ROWS_PER_GROUP = 64u;
// Beyond this r̄, e^{b + r̄} in Φ could overflow (Σ over 2^32 classes of e^60 still fits f32).
const PHI_LIMIT = 60.0;
// |x| below this uses the series of e^x; the truncation error is < 1e-9 relative there.
const SERIES_LIMIT = 0.5;

var<workgroup> scratch: array<vec4f, WG>;

// ---- pairwise summation ---------------------------------------------------------------

struct PairwiseSum { partial: array<vec4f, 24>, depth: u32, count: u32 }

fn pairwise_add(acc: ptr<function, PairwiseSum>, value: vec4f) {
  var carry = value;
  (*acc).count += 1u;
  var bits = (*acc).count;
  while ((bits & 1u) == 0u) {
    (*acc).depth -= 1u;
    carry += (*acc).partial[(*acc).depth];
    bits >>= 1u;
  }
  (*acc).partial[(*acc).depth] = carry;
  (*acc).depth += 1u;
}

fn pairwise_total(acc: ptr<function, PairwiseSum>) -> vec4f {
  var total = vec4f(0.0);
  for (var d = (*acc).depth; d > 0u; d--) { total += (*acc).partial[d - 1u]; }
  return total;
}

// ---- series -----------------------------------------------------------------------------

// (e^x − 1 − x) / x², accurate for |x| < SERIES_LIMIT.
fn exp_tail(x: f32) -> f32 {
  var p = 1.0 / 3628800.0;
  p = p * x + 1.0 / 362880.0;
  p = p * x + 1.0 / 40320.0;
  p = p * x + 1.0 / 5040.0;
  p = p * x + 1.0 / 720.0;
  p = p * x + 1.0 / 120.0;
  p = p * x + 1.0 / 24.0;
  p = p * x + 1.0 / 6.0;
  return p * x + 0.5;
}

// log(1 + x) for x ≥ 0, via 2·atanh(x / (2 + x)) for small x (no 1 + x − 1 to cancel).
fn log1p_nonnegative(x: f32) -> f32 {
  if (x >= 0.25) { return log(1.0 + x); }
  let y = x / (2.0 + x);
  let y2 = y * y;
  var p = 1.0 / 11.0;
  p = p * y2 + 1.0 / 9.0;
  p = p * y2 + 1.0 / 7.0;
  p = p * y2 + 1.0 / 5.0;
  p = p * y2 + 1.0 / 3.0;
  return 2.0 * y * (p * y2 + 1.0);
}

// ---- per-element terms shared by both variants -----------------------------------------

struct RowStats {
  teacher_max: f32,
  student_max: f32,
  inv_teacher_sum: f32,  // 1 / Σ e^a
  inv_student_sum: f32,  // 1 / Σ e^b
  mean_r: f32,           // r̄ = E_pt[a − b]
  log_ratio: f32,        // log(Σe^b / Σe^a)
  use_phi: bool,
  label_shift: f32,      // s_y − max s
  inv_hard_sum: f32,     // 1 / Σ e^{s − max s}
  rest_sum: f32,         // Σ_{c ≠ y} e^{s_c − max s}
}

fn scaled(logit: f32, row_max: f32) -> f32 {
  return (logit - row_max) / params.temperature;
}

// r = a − b = ((t − s) − (max t − max s))/T with the teacher − student difference taken
// first: exact when the two are close, where (t − max t) − (s − max s) would have rounded
// each logit first and lost the small difference (2e-4 relative in the loss at ~1e-3 apart).
fn scaled_difference(t: f32, s: f32, maxima: vec2f) -> f32 {
  return ((t - s) - (maxima.x - maxima.y)) / params.temperature;
}

fn scaled_difference4(t: vec4f, s: vec4f, maxima: vec2f) -> vec4f {
  return ((t - s) - (maxima.x - maxima.y)) / params.temperature;
}

// Terms of Σe^a, Σe^b, Σ e^a·(a − b) and (if hard) Σ_{c ≠ y} e^{s − max s}; leaving the label
// out of the last keeps 1 − q_y and the cross-entropy accurate when q_y is close to 1.
fn sums_term(c: u32, t: f32, s: f32, maxima: vec2f, label: u32, hard: bool) -> vec4f {
  let a = scaled(t, maxima.x);
  let b = scaled(s, maxima.y);
  let ea = exp(a);
  let weighted_r = select(0.0, ea * scaled_difference(t, s, maxima), ea > 0.0);
  return vec4f(ea, exp(b), weighted_r, select(0.0, exp(s - maxima.y), hard && c != label));
}

fn row_stats(maxima: vec2f, sums: vec4f, label_logit: f32) -> RowStats {
  var st: RowStats;
  st.teacher_max = maxima.x;
  st.student_max = maxima.y;
  st.inv_teacher_sum = 1.0 / sums.x;
  st.inv_student_sum = 1.0 / sums.y;
  st.mean_r = sums.z / sums.x;
  st.log_ratio = log(sums.y / sums.x);
  st.use_phi = st.mean_r < PHI_LIMIT;
  st.label_shift = label_logit - maxima.y;
  st.rest_sum = sums.w;
  st.inv_hard_sum = 1.0 / (sums.w + exp(st.label_shift));
  return st;
}

// p_t[c]·φ(w), w = r − r̄; p_t·e^{−w} is written e^{b + r̄}/Σe^a so it never needs p_t.
fn phi_term(t: f32, s: f32, st: RowStats) -> f32 {
  if (!st.use_phi) { return 0.0; }
  let a = scaled(t, st.teacher_max);
  let b = scaled(s, st.student_max);
  let p_teacher = exp(a) * st.inv_teacher_sum;
  let w = scaled_difference(t, s, vec2f(st.teacher_max, st.student_max)) - st.mean_r;
  if (abs(w) < SERIES_LIMIT) { return p_teacher * w * w * exp_tail(-w); }
  let linear = select(0.0, p_teacher * (1.0 - w), p_teacher > 0.0);
  return exp(b + st.mean_r) * st.inv_teacher_sum - linear;
}

fn finish_kl(st: RowStats, phi_sum: f32) -> f32 {
  return select(st.mean_r + st.log_ratio, log1p_nonnegative(phi_sum), st.use_phi);
}

// d loss / d s[c]. p_s − p_t = p_t·expm1(z), z = log(p_s/p_t) = −(w + KL), by series when
// small (the difference of two nearly equal probabilities would cancel).
fn grad_term(c: u32, t: f32, s: f32, st: RowStats, kl: f32, label: u32, hard: bool) -> f32 {
  let a = scaled(t, st.teacher_max);
  let b = scaled(s, st.student_max);
  let p_teacher = exp(a) * st.inv_teacher_sum;
  // With r̄ large, r − r̄ + KL would cancel: take log(p_s/p_t) = −(r + log_ratio) directly.
  let r = scaled_difference(t, s, vec2f(st.teacher_max, st.student_max));
  let z = select(-(r + st.log_ratio), -((r - st.mean_r) + kl), st.use_phi);
  var soft_diff = exp(b) * st.inv_student_sum - p_teacher;
  if (abs(z) < SERIES_LIMIT) { soft_diff = p_teacher * (z + z * z * exp_tail(z)); }
  // α = 1 ignores the teacher here as in the loss (0 · NaN would be NaN for a bad teacher).
  var g = select((1.0 - params.alpha) * params.temperature * soft_diff, 0.0, params.alpha == 1.0);
  if (hard) {
    let q = exp(s - st.student_max) * st.inv_hard_sum;
    g += params.alpha * select(q, -st.rest_sum * st.inv_hard_sum, c == label); // q_y − 1 = −rest / Σ
  }
  return g;
}

// logsumexp(s) − s_y = log1p(rest · e^{−(s_y − max s)}), accurate when q_y ≈ 1. Past −40
// the product could overflow; the loss is ≥ 40 there and the plain form is accurate.
fn cross_entropy(st: RowStats) -> f32 {
  if (st.label_shift > -40.0) { return log1p_nonnegative(st.rest_sum * exp(-st.label_shift)); }
  return log(st.rest_sum + exp(st.label_shift)) - st.label_shift;
}

fn row_loss(st: RowStats, kl: f32, hard: bool) -> f32 {
  let T = params.temperature;
  // α = 1 ignores the teacher, even where its KL is infinite.
  var total = select((1.0 - params.alpha) * T * T * kl, 0.0, params.alpha == 1.0);
  if (hard) { total += params.alpha * cross_entropy(st); }
  return total;
}

fn nan() -> f32 {
  var bits = 0x7fc00000u; // a var, so it is not const-folded (NaN is not a valid constant)
  return bitcast<f32>(bits);
}

// ---- one invocation per row -------------------------------------------------------------

fn kl_row_serial(row: u32, label: u32, hard: bool) {
  let C = params.classes;
  let base = row * C;
  var maxima = vec2f(-3.4e38);
  for (var c = 0u; c < C; c++) {
    maxima = max(maxima, vec2f(teacher[base + c], student[base + c]));
  }
  var sums = PairwiseSum();
  for (var c = 0u; c < C; c++) {
    pairwise_add(&sums, sums_term(c, teacher[base + c], student[base + c], maxima, label, hard));
  }
  let label_logit = student[base + min(label, C - 1u)];
  let st = row_stats(maxima, pairwise_total(&sums), label_logit);
  var phi = PairwiseSum();
  for (var c = 0u; c < C; c++) {
    pairwise_add(&phi, vec4f(phi_term(teacher[base + c], student[base + c], st), 0.0, 0.0, 0.0));
  }
  let kl = finish_kl(st, pairwise_total(&phi).x);
  let bad = hard && label >= C;
  for (var c = 0u; c < C; c++) {
    let g = grad_term(c, teacher[base + c], student[base + c], st, kl, label, hard);
    grad[base + c] = select(g, nan(), bad);
  }
  loss[row] = select(row_loss(st, kl, hard), nan(), bad);
}

fn serial_row_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * SERIAL_ROWS_PER_GROUP;
}

@compute @workgroup_size(64)
fn temperature_kl_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = serial_row_index(gid, groups);
  if (row >= params.rows) { return; }
  kl_row_serial(row, 0u, false);
}

@compute @workgroup_size(64)
fn temperature_kl_rows_labelled(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = serial_row_index(gid, groups);
  if (row >= params.rows) { return; }
  kl_row_serial(row, labels[row], true);
}

// ---- a group of LANES invocations per row, WG / LANES rows per workgroup ---------------

// Invocations per row (a power of two, 1..WG) and per workgroup (a power of two, ≤ 256). The
// reductions use the whole workgroup's barriers, so every invocation reaches them, including
// those of rows past the end (they loop over nothing).
override LANES: u32 = 8u;
override WG_SIZE: u32 = 64u;
// Up to this many lanes every lane adds its row's partials itself (two barriers); above, a tree.
const FLAT_REDUCE_LANES = 32u;
// Inner loop length: each lane adds this many vec4 terms in order before the pairwise counter.
const BLOCK = 16u;

struct Lane { row: u32, lane: u32, segment: u32, in_range: bool }

fn group_lane(wid: vec3u, groups: vec3u, lid: u32) -> Lane {
  let rows_per_group = WG_SIZE / LANES;
  let row = (wid.x + wid.y * groups.x) * rows_per_group + lid / LANES;
  let lane = lid % LANES;
  return Lane(row, lane, lid - lane, row < params.rows);
}

// Reduces value over the row's lanes (sum, or max when take_max); every lane gets the result.
fn group_reduce(at: Lane, value: vec4f, take_max: bool) -> vec4f {
  if (LANES == 1u) { return value; }
  scratch[at.segment + at.lane] = value;
  workgroupBarrier();
  var result: vec4f;
  if (LANES <= FLAT_REDUCE_LANES) {
    // Groups of 8 in order, then the group totals: ≤ 8 + LANES / 8 additions deep.
    var total = scratch[at.segment];
    var part = vec4f(0.0);
    if (take_max) {
      for (var i = 1u; i < LANES; i++) { total = max(total, scratch[at.segment + i]); }
    } else {
      total = vec4f(0.0);
      for (var i = 0u; i < LANES; i++) {
        part += scratch[at.segment + i];
        if ((i & 7u) == 7u) { total += part; part = vec4f(0.0); }
      }
      total += part;
    }
    result = total;
  } else {
    for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
      if (at.lane < stride) {
        let other = scratch[at.segment + at.lane + stride];
        let mine = scratch[at.segment + at.lane];
        scratch[at.segment + at.lane] = select(mine + other, max(mine, other), take_max);
      }
      workgroupBarrier();
    }
    result = scratch[at.segment];
  }
  workgroupBarrier();
  return result;
}

fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

// Constants of a row for the last pass (Φ and the gradient together).
struct RowPass {
  shift: f32,            // r̄ when Φ is used, else 0: e^{b + shift} is computed once per class
  student_scale: f32,    // e^{−shift} / Σe^b, so p_s = e^{b + shift} · student_scale
}

fn row_pass(st: RowStats) -> RowPass {
  let shift = select(0.0, st.mean_r, st.use_phi);
  return RowPass(shift, exp(-shift) * st.inv_student_sum);
}

fn exp_tail4(x: vec4f) -> vec4f {
  var p = vec4f(1.0 / 3628800.0);
  p = p * x + 1.0 / 362880.0;
  p = p * x + 1.0 / 40320.0;
  p = p * x + 1.0 / 5040.0;
  p = p * x + 1.0 / 720.0;
  p = p * x + 1.0 / 120.0;
  p = p * x + 1.0 / 24.0;
  p = p * x + 1.0 / 6.0;
  return p * x + 0.5;
}

// Σe^a, Σe^b, Σe^a·(a − b), Σ_{c ≠ y} e^{s − max s} of four classes (valid: inside the row).
struct SumTerms { ea: vec4f, eb: vec4f, weighted_r: vec4f, rest: vec4f }

fn sums_terms4(t: vec4f, s: vec4f, maxima: vec2f, classes: vec4u, valid: vec4<bool>, label: u32, hard: bool) -> SumTerms {
  let a = (t - maxima.x) / params.temperature;
  let b = (s - maxima.y) / params.temperature;
  let ea = select(vec4f(0.0), exp(a), valid);
  let eb = select(vec4f(0.0), exp(b), valid);
  let weighted_r = select(vec4f(0.0), ea * scaled_difference4(t, s, maxima), ea > vec4f(0.0));
  let rest = select(vec4f(0.0), exp(s - maxima.y), valid & (classes != vec4u(label)) & vec4<bool>(hard));
  return SumTerms(ea, eb, weighted_r, rest);
}

// p_t·φ(w) (Φ's terms) and d loss / d s of four classes; see phi_term and grad_term.
fn last_terms4(t: vec4f, s: vec4f, st: RowStats, rp: RowPass, classes: vec4u, valid: vec4<bool>, label: u32, hard: bool, grad_out: ptr<function, vec4f>) -> vec4f {
  let a = (t - st.teacher_max) / params.temperature;
  let b = (s - st.student_max) / params.temperature;
  let p_teacher = exp(a) * st.inv_teacher_sum;
  let e_shifted = exp(b + rp.shift);  // e^{b + r̄} (Φ) and, scaled, p_s
  let r = scaled_difference4(t, s, vec2f(st.teacher_max, st.student_max));
  let w = r - st.mean_r;
  // Φ: series near w = 0, else e^{b + r̄}/Σe^a − p_t·(1 − w).
  let linear = select(vec4f(0.0), p_teacher * (1.0 - w), p_teacher > vec4f(0.0));
  let phi_far = e_shifted * st.inv_teacher_sum - linear;
  let phi_near = p_teacher * w * w * exp_tail4(-w);
  let phi = select(phi_far, phi_near, abs(w) < vec4f(SERIES_LIMIT));
  // p_s − p_t = p_t·expm1(z), z = log(p_s/p_t) = −(r + log(Σe^b/Σe^a)), by series when small.
  // (Not −(w + KL), which needs Φ's total first; the rounding of both is ~ε·(|r| + log C).)
  let z = -(r + st.log_ratio);
  let diff_far = e_shifted * rp.student_scale - p_teacher;
  let diff_near = p_teacher * (z + z * z * exp_tail4(z));
  let soft_diff = select(diff_far, diff_near, abs(z) < vec4f(SERIES_LIMIT));
  // α = 1 ignores the teacher here as in the loss (0 · NaN would be NaN for a bad teacher).
  var g = select((1.0 - params.alpha) * params.temperature * soft_diff, vec4f(0.0), params.alpha == 1.0);
  if (hard) {
    let q = exp(s - st.student_max) * st.inv_hard_sum;
    g += params.alpha * select(q, vec4f(-st.rest_sum * st.inv_hard_sum), classes == vec4u(label));
  }
  *grad_out = g;
  return select(vec4f(0.0), select(vec4f(0.0), phi, valid), vec4<bool>(st.use_phi));
}

// The multi-lane passes take log(p_s/p_t) as z = −(r + log(Σe^b/Σe^a)) because KL is not
// known yet; its rounding costs ~2e-4 of near-identical rows' gradients. Once Φ is summed,
// the exact z is z + δ with δ = (r̄ + log(Σe^b/Σe^a)) − KL, the same for the whole row:
// classes that took the series branch get p_t·e^z·expm1(δ) more (zero when α = 1).
fn z_shift(st: RowStats, phi_sum: f32) -> f32 {
  if (!st.use_phi || params.alpha == 1.0) { return 0.0; }
  return (st.mean_r + st.log_ratio) - finish_kl(st, phi_sum);
}

fn z_correction4(t: vec4f, s: vec4f, st: RowStats, delta: f32, valid: vec4<bool>) -> vec4f {
  let a = (t - st.teacher_max) / params.temperature;
  let r = scaled_difference4(t, s, vec2f(st.teacher_max, st.student_max));
  let z = -(r + st.log_ratio);
  let expm1_delta = select(exp(delta) - 1.0, delta + delta * delta * exp_tail(delta), abs(delta) < SERIES_LIMIT);
  let extra = (1.0 - params.alpha) * params.temperature * exp(a + z) * st.inv_teacher_sum * expm1_delta;
  return select(vec4f(0.0), extra, valid & (abs(z) < vec4f(SERIES_LIMIT)));
}

fn row_finish(at: Lane, st: RowStats, phi_sum: f32, label: u32, hard: bool) {
  if (at.in_range && at.lane == 0u) {
    let kl = finish_kl(st, phi_sum);
    loss[at.row] = select(row_loss(st, kl, hard), nan(), hard && label >= params.classes);
  }
}

fn lane_quads(at: Lane, quads: u32) -> u32 { return select(0u, quads, at.in_range); }

// The class indices of quad q.
fn quad_classes(q: u32) -> vec4u { return 4u * q + vec4u(0u, 1u, 2u, 3u); }

// ---- scalar loads (any C): four classes at a time, so both variants share the maths ----

// Classes 4q .. 4q + 3 of a row (starting at base) one by one; those past its end read as fill.
fn teacher_quad(base: u32, q: u32, fill: f32) -> vec4f {
  var out = vec4f(fill);
  for (var j = 0u; j < 4u; j++) {
    if (4u * q + j < params.classes) { out[j] = teacher[base + 4u * q + j]; }
  }
  return out;
}

fn student_quad(base: u32, q: u32, fill: f32) -> vec4f {
  var out = vec4f(fill);
  for (var j = 0u; j < 4u; j++) {
    if (4u * q + j < params.classes) { out[j] = student[base + 4u * q + j]; }
  }
  return out;
}

fn kl_row_group(at: Lane, label: u32, hard: bool) {
  let C = params.classes;
  let Q = lane_quads(at, (C + 3u) / 4u);
  let base = at.row * C;
  var local_max = vec2f(-3.4e38);
  for (var q = at.lane; q < Q; q += LANES) {
    let t = teacher_quad(base, q, -3.4e38);
    let s = student_quad(base, q, -3.4e38);
    local_max = max(local_max, vec2f(max(max(t.x, t.y), max(t.z, t.w)), max(max(s.x, s.y), max(s.z, s.w))));
  }
  let maxima = group_reduce(at, vec4f(local_max, 0.0, 0.0), true).xy;
  var sums = PairwiseSum();
  for (var q0 = at.lane; q0 < Q; q0 += BLOCK * LANES) {
    var acc = SumTerms(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    for (var q = q0; q < min(Q, q0 + BLOCK * LANES); q += LANES) {
      let classes = quad_classes(q);
      let x = sums_terms4(teacher_quad(base, q, 0.0), student_quad(base, q, 0.0), maxima, classes, classes < vec4u(C), label, hard);
      acc.ea += x.ea; acc.eb += x.eb; acc.weighted_r += x.weighted_r; acc.rest += x.rest;
    }
    pairwise_add(&sums, vec4f(hsum(acc.ea), hsum(acc.eb), hsum(acc.weighted_r), hsum(acc.rest)));
  }
  let label_logit = student[min(base + min(label, C - 1u), params.rows * C - 1u)];
  let st = row_stats(maxima, group_reduce(at, pairwise_total(&sums), false), label_logit);
  let rp = row_pass(st);
  let bad = hard && label >= C;
  var phi = PairwiseSum();
  for (var q0 = at.lane; q0 < Q; q0 += BLOCK * LANES) {
    var acc = vec4f(0.0);
    for (var q = q0; q < min(Q, q0 + BLOCK * LANES); q += LANES) {
      let classes = quad_classes(q);
      var g: vec4f;
      acc += last_terms4(teacher_quad(base, q, 0.0), student_quad(base, q, 0.0), st, rp, classes, classes < vec4u(C), label, hard, &g);
      for (var j = 0u; j < 4u; j++) {
        if (classes[j] < C) { grad[base + classes[j]] = select(g[j], nan(), bad); }
      }
    }
    pairwise_add(&phi, vec4f(hsum(acc), 0.0, 0.0, 0.0));
  }
  let phi_sum = group_reduce(at, pairwise_total(&phi), false).x;
  let delta = z_shift(st, phi_sum);
  if (delta != 0.0 && !bad) {
    // Each lane revisits the classes it wrote above.
    for (var q = at.lane; q < Q; q += LANES) {
      let classes = quad_classes(q);
      let extra = z_correction4(teacher_quad(base, q, 0.0), student_quad(base, q, 0.0), st, delta, classes < vec4u(C));
      for (var j = 0u; j < 4u; j++) {
        if (classes[j] < C) { grad[base + classes[j]] += extra[j]; }
      }
    }
  }
  row_finish(at, st, phi_sum, label, hard);
}

@compute @workgroup_size(WG_SIZE)
fn temperature_kl_group(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  kl_row_group(group_lane(wid, groups, lid), 0u, false);
}

@compute @workgroup_size(WG_SIZE)
fn temperature_kl_group_labelled(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let at = group_lane(wid, groups, lid);
  kl_row_group(at, labels[min(at.row, params.rows - 1u)], true);
}

// ---- vec4 loads (C % 4 = 0): the same buffers viewed as array<vec4f> --------------------

@group(0) @binding(6) var<storage, read> student4: array<vec4f>;
@group(0) @binding(7) var<storage, read> teacher4: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> grad4: array<vec4f>;

fn kl_row_group4(at: Lane, label: u32, hard: bool) {
  let C = params.classes;
  let Q = lane_quads(at, C / 4u);
  let base = at.row * (C / 4u);
  var local_max = vec4f(-3.4e38);
  for (var q = at.lane; q < Q; q += LANES) {
    let t = teacher4[base + q];
    let s = student4[base + q];
    local_max = max(local_max, vec4f(max(t.x, t.y), max(t.z, t.w), max(s.x, s.y), max(s.z, s.w)));
  }
  let maxima = group_reduce(at, vec4f(max(local_max.x, local_max.y), max(local_max.z, local_max.w), 0.0, 0.0), true).xy;
  var sums = PairwiseSum();
  let valid = vec4<bool>(true);
  for (var q0 = at.lane; q0 < Q; q0 += BLOCK * LANES) {
    var acc = SumTerms(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    for (var q = q0; q < min(Q, q0 + BLOCK * LANES); q += LANES) {
      let x = sums_terms4(teacher4[base + q], student4[base + q], maxima, quad_classes(q), valid, label, hard);
      acc.ea += x.ea; acc.eb += x.eb; acc.weighted_r += x.weighted_r; acc.rest += x.rest;
    }
    pairwise_add(&sums, vec4f(hsum(acc.ea), hsum(acc.eb), hsum(acc.weighted_r), hsum(acc.rest)));
  }
  let y = min(label, C - 1u);
  let label_logit = student4[min(at.row, params.rows - 1u) * (C / 4u) + y / 4u][y % 4u];
  let st = row_stats(maxima, group_reduce(at, pairwise_total(&sums), false), label_logit);
  let rp = row_pass(st);
  let bad = hard && label >= C;
  var phi = PairwiseSum();
  for (var q0 = at.lane; q0 < Q; q0 += BLOCK * LANES) {
    var acc = vec4f(0.0);
    for (var q = q0; q < min(Q, q0 + BLOCK * LANES); q += LANES) {
      var g: vec4f;
      acc += last_terms4(teacher4[base + q], student4[base + q], st, rp, quad_classes(q), valid, label, hard, &g);
      grad4[base + q] = select(g, vec4f(nan()), bad);
    }
    pairwise_add(&phi, vec4f(hsum(acc), 0.0, 0.0, 0.0));
  }
  let phi_sum = group_reduce(at, pairwise_total(&phi), false).x;
  let delta = z_shift(st, phi_sum);
  if (delta != 0.0 && !bad) {
    // Each lane revisits the classes it wrote above.
    for (var q = at.lane; q < Q; q += LANES) {
      grad4[base + q] += z_correction4(teacher4[base + q], student4[base + q], st, delta, valid);
    }
  }
  row_finish(at, st, phi_sum, label, hard);
}

@compute @workgroup_size(WG_SIZE)
fn temperature_kl_group4(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  kl_row_group4(group_lane(wid, groups, lid), 0u, false);
}

@compute @workgroup_size(WG_SIZE)
fn temperature_kl_group4_labelled(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let at = group_lane(wid, groups, lid);
  kl_row_group4(at, labels[min(at.row, params.rows - 1u)], true);
}
