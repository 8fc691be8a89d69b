// lib/temperature_kl_math.wgsl — the per-class and per-row maths of the fused temperature-
// softmax KL (+ hard cross-entropy) of shaders/temperature_kl.wgsl, apart from its loops,
// loads and reductions; see that file's header for the formulas and the numerics.
// Needs from the including shader: `params` with fields temperature: f32 and alpha: f32.

// Beyond this r̄, e^{b + r̄} in Φ could overflow (Σ over 2^32 classes of e^60 still fits f32).
const PHI_LIMIT = 60.0;
// |x| below this uses the series of e^x; the truncation error is < 1e-9 relative there.
const SERIES_LIMIT = 0.5;

// ---- series -----------------------------------------------------------------------------

// (e^x − 1 − x) / x² of each component, accurate for |x| < SERIES_LIMIT.
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

// The same for one value (the same operations on it as on each component above).
fn exp_tail(x: f32) -> f32 {
  return exp_tail4(vec4f(x)).x;
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
