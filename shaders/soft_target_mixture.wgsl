// soft_target_mixture.wgsl — combines two teachers' logits into logits whose tempered
// softmax is the weighted mixture of theirs (multi-teacher distillation):
//   softmax(out/T) = w·softmax(a/T) + (1 − w)·softmax(b/T)
//   out_c = T · log( w·exp(a_c/T − lse(a/T)) + (1 − w)·exp(b_c/T − lse(b/T)) )
// computed with max-subtraction so no exponential overflows; a class both teachers give
// zero probability gets a very negative (finite) logit. Teachers are constants: no backward.
// Bindings: params {rows, classes, temperature, weight}, a, b (read) [rows, classes],
// out (write) [rows, classes].
// Dispatch: one invocation per row, 64 per workgroup (x + y · 64 · nx past 65535 groups).
// Shared parts (shaders/lib/): log_sum_exp (each teacher's, and the two-term one), numbers, grid.

struct Params { rows: u32, classes: u32, temperature: f32, weight: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const TEACHER_B = 0u;
const TEACHER_A = 1u;

// The values lib/log_sum_exp.wgsl reads: x/T of the row at `base`, x teacher a's or b's logits.
fn lse_input(base: u32, c: u32, source: u32) -> f32 {
  return select(b[base + c], a[base + c], source == TEACHER_A) / params.temperature;
}

fn log_sum_exp_scaled(base: u32, source: u32) -> f32 {
  let m = lse_max(base, 0u, 1u, params.classes, source);
  return lse_finish(m, lse_exp_sums(base, 0u, 1u, params.classes, source, m, NO_CLASS).x);
}

@compute @workgroup_size(64)
fn mix_soft_targets(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = grid_index(gid, groups, 64u);
  if (row >= params.rows) { return; }
  let base = row * params.classes;
  let T = params.temperature;
  let lse_a = log_sum_exp_scaled(base, TEACHER_A);
  let lse_b = log_sum_exp_scaled(base, TEACHER_B);
  let w = params.weight;
  for (var c = 0u; c < params.classes; c++) {
    let la = log(max(w, 1e-30)) + a[base + c] / T - lse_a;        // log of w·p_a
    let lb = log(max(1.0 - w, 1e-30)) + b[base + c] / T - lse_b; // log of (1 − w)·p_b
    let m = max(la, lb);
    out[base + c] = T * max(lse_finish(m, exp(la - m) + exp(lb - m)), -1.0e30 / T);
  }
}
