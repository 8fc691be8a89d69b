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
// Sums are pairwise (a binary counter of partial sums per invocation, then a tree): Kahan
// compensation is optimised away by some drivers (Mesa lavapipe), pairwise sums cannot be.
// Bindings: params {rows, classes, temperature, alpha}, student [rows, classes] (read),
// teacher [rows, classes] (read), labels u32 [rows] (read; *_labelled entries only),
// loss [rows] (write), grad [rows, classes] (write). Row-major.
// Dispatch: temperature_kl_rows[_labelled]: one invocation per row, 64 rows per workgroup,
// for small class counts; temperature_kl_group[_labelled]: LANES invocations per row (the
// override constant, a power of two up to 256 = one workgroup per row), 256 / LANES rows per
// workgroup of 256, strided loops and tree reductions in workgroup memory. Workgroup grids
// past 65535 fold into 2-D (workgroup index = x + y · nx).

struct Params { rows: u32, classes: u32, temperature: f32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> student: array<f32>;
@group(0) @binding(2) var<storage, read> teacher: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

const WG = 256u;
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

// Terms of Σe^a, Σe^b, Σ e^a·(a − b) and (if hard) Σ_{c ≠ y} e^{s − max s}; leaving the label
// out of the last keeps 1 − q_y and the cross-entropy accurate when q_y is close to 1.
fn sums_term(c: u32, t: f32, s: f32, maxima: vec2f, label: u32, hard: bool) -> vec4f {
  let a = scaled(t, maxima.x);
  let b = scaled(s, maxima.y);
  let ea = exp(a);
  let weighted_r = select(0.0, ea * (a - b), ea > 0.0);
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
  let w = (a - b) - st.mean_r;
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
  let z = select(-((a - b) + st.log_ratio), -(((a - b) - st.mean_r) + kl), st.use_phi);
  var soft_diff = exp(b) * st.inv_student_sum - p_teacher;
  if (abs(z) < SERIES_LIMIT) { soft_diff = p_teacher * (z + z * z * exp_tail(z)); }
  var g = (1.0 - params.alpha) * params.temperature * soft_diff;
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

// ---- a group of LANES invocations per row, 256 / LANES rows per workgroup ---------------

// Invocations per row (a power of two, 1..256). Each row's group reduces in its own
// segment of scratch; the barriers are the whole workgroup's, so every invocation reaches
// them, including those of rows past the end (they loop over nothing).
override LANES: u32 = 256u;

struct Lane { row: u32, lane: u32, segment: u32, in_range: bool }

fn group_lane(wid: vec3u, groups: vec3u, lid: u32) -> Lane {
  let rows_per_group = WG / LANES;
  let row = (wid.x + wid.y * groups.x) * rows_per_group + lid / LANES;
  let lane = lid % LANES;
  return Lane(row, lane, lid - lane, row < params.rows);
}

fn group_max(at: Lane, value: vec4f) -> vec4f {
  scratch[at.segment + at.lane] = value;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
    if (at.lane < stride) { scratch[at.segment + at.lane] = max(scratch[at.segment + at.lane], scratch[at.segment + at.lane + stride]); }
    workgroupBarrier();
  }
  let result = scratch[at.segment];
  workgroupBarrier();
  return result;
}

fn group_sum(at: Lane, value: vec4f) -> vec4f {
  scratch[at.segment + at.lane] = value;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
    if (at.lane < stride) { scratch[at.segment + at.lane] += scratch[at.segment + at.lane + stride]; }
    workgroupBarrier();
  }
  let result = scratch[at.segment];
  workgroupBarrier();
  return result;
}

fn kl_row_group(at: Lane, label: u32, hard: bool) {
  let C = params.classes;
  let end = select(0u, C, at.in_range);
  let base = at.row * C;
  var local_max = vec2f(-3.4e38);
  for (var c = at.lane; c < end; c += LANES) {
    local_max = max(local_max, vec2f(teacher[base + c], student[base + c]));
  }
  let maxima = group_max(at, vec4f(local_max, 0.0, 0.0)).xy;
  var sums = PairwiseSum();
  for (var c = at.lane; c < end; c += LANES) {
    pairwise_add(&sums, sums_term(c, teacher[base + c], student[base + c], maxima, label, hard));
  }
  let label_logit = student[min(base + min(label, C - 1u), params.rows * C - 1u)];
  let st = row_stats(maxima, group_sum(at, pairwise_total(&sums)), label_logit);
  var phi = PairwiseSum();
  for (var c = at.lane; c < end; c += LANES) {
    pairwise_add(&phi, vec4f(phi_term(teacher[base + c], student[base + c], st), 0.0, 0.0, 0.0));
  }
  let kl = finish_kl(st, group_sum(at, pairwise_total(&phi)).x);
  let bad = hard && label >= C;
  for (var c = at.lane; c < end; c += LANES) {
    let g = grad_term(c, teacher[base + c], student[base + c], st, kl, label, hard);
    grad[base + c] = select(g, nan(), bad);
  }
  if (at.in_range && at.lane == 0u) {
    loss[at.row] = select(row_loss(st, kl, hard), nan(), bad);
  }
}

@compute @workgroup_size(256)
fn temperature_kl_group(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  kl_row_group(group_lane(wid, groups, lid), 0u, false);
}

@compute @workgroup_size(256)
fn temperature_kl_group_labelled(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let at = group_lane(wid, groups, lid);
  kl_row_group(at, labels[min(at.row, params.rows - 1u)], true);
}
