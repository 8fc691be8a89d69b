// dkd.wgsl — decoupled knowledge distillation (Zhao et al., CVPR 2022), loss and gradient
// w.r.t. the student logits in one pass. With p = softmax(s/T), q = softmax(t/T), target g:
//   TCKD = KL([q_g, 1−q_g] ‖ [p_g, 1−p_g])                (target vs. rest, binary)
//   NCKD = KL(q̂ ‖ p̂),  p̂ = softmax of s/T over the non-target classes (likewise q̂)
//   loss[r] = T²·(alpha·TCKD + beta·NCKD)
//   d loss/d s_j = T·(alpha·dTCKD_j + beta·dNCKD_j), where
//     dTCKD_g = p_g − q_g,  dTCKD_j = −p̂_j·(p_g − q_g)  (j ≠ g)
//     dNCKD_g = 0,          dNCKD_j = p̂_j − q̂_j          (j ≠ g)
// log p_g and log(1 − p_g) come from log-sum-exps over all and over non-target classes,
// so nothing cancels catastrophically. A label ≥ classes writes NaN (loss and gradient).
// Bindings: params {rows, classes, temperature, alpha, beta}; student, teacher [rows,
// classes] (read); labels u32 [rows]; loss [rows], grad [rows, classes] (write).
// Dispatch: one invocation per row, 64 per workgroup (x + y · 64 · nx past 65535 groups).
// Shared parts (shaders/lib/): log_sum_exp (both log-sum-exps of a row), numbers, grid.

struct Params { rows: u32, classes: u32, temperature: f32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> student: array<f32>;
@group(0) @binding(2) var<storage, read> teacher: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

const TEACHER = 0u;
const STUDENT = 1u;

// The values lib/log_sum_exp.wgsl reads: x/T of the row at `base`, x the teacher's or the
// student's logits.
fn lse_input(base: u32, c: u32, source: u32) -> f32 {
  return select(teacher[base + c], student[base + c], source == STUDENT) / params.temperature;
}

struct Lse { all: f32, rest: f32 }

// log-sum-exp of x/T over all classes and over all but `excluded`.
fn log_sum_exps(base: u32, excluded: u32, source: u32) -> Lse {
  let m = lse_max(base, 0u, 1u, params.classes, source);
  let sums = lse_exp_sums(base, 0u, 1u, params.classes, source, m, excluded);
  return Lse(lse_finish(m, sums.x), lse_finish(m, sums.y));
}

// x·(log x − log y) with the convention 0·log 0 = 0.
fn kl_term(x: f32, log_x: f32, log_y: f32) -> f32 {
  return select(x * (log_x - log_y), 0.0, x <= 0.0);
}

@compute @workgroup_size(64)
fn dkd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = grid_index(gid, groups, 64u);
  if (row >= params.rows) { return; }
  let C = params.classes;
  let base = row * C;
  let T = params.temperature;
  let g = labels[row];
  if (g >= C) {
    let nan = nan_f32();
    loss[row] = nan;
    for (var c = 0u; c < C; c++) { grad[base + c] = nan; }
    return;
  }
  let ls = log_sum_exps(base, g, STUDENT);
  let lt = log_sum_exps(base, g, TEACHER);
  let log_pg = student[base + g] / T - ls.all;
  let log_p_rest = ls.rest - ls.all;
  let log_qg = teacher[base + g] / T - lt.all;
  let log_q_rest = lt.rest - lt.all;
  let pg = exp(log_pg);
  let qg = exp(log_qg);
  let tckd = kl_term(qg, log_qg, log_pg) + kl_term(exp(log_q_rest), log_q_rest, log_p_rest);
  var nckd = 0.0;
  for (var c = 0u; c < C; c++) {
    if (c == g) { continue; }
    let log_q_hat = teacher[base + c] / T - lt.rest;
    let log_p_hat = student[base + c] / T - ls.rest;
    nckd += kl_term(exp(log_q_hat), log_q_hat, log_p_hat);
  }
  loss[row] = T * T * (params.alpha * tckd + params.beta * nckd);
  let target_gap = pg - qg;
  for (var c = 0u; c < C; c++) {
    if (c == g) {
      grad[base + c] = T * params.alpha * target_gap;
    } else {
      let p_hat = exp(student[base + c] / T - ls.rest);
      let q_hat = exp(teacher[base + c] / T - lt.rest);
      grad[base + c] = T * (params.alpha * -p_hat * target_gap + params.beta * (p_hat - q_hat));
    }
  }
}
