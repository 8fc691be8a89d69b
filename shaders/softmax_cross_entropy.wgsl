// softmax_cross_entropy.wgsl — fused softmax + cross-entropy, loss and gradient in one pass.
// For each row r of logits z [rows, classes] with label y_r:
//   loss[r]        = logsumexp(z_r) − z_r[y_r]
//   grad[r, c]     = softmax(z_r)[c] − [c == y_r]      (d loss[r] / d z_r[c])
// Max-subtracted log-sum-exp, so logits of any magnitude are safe. A label ≥ classes
// writes NaN to that row's loss and gradient, so a bad label cannot pass unnoticed.
// Bindings: params {rows, classes}, logits (read), labels u32 (read), loss [rows] (write),
// grad [rows, classes] (write).
// Dispatch: one workgroup of 64 per row (x + y · nx when rows > 65535); strided loops
// over classes and tree reductions, so it serves 10 classes and 100k classes alike.
// Shared parts (shaders/lib/): log_sum_exp, workgroup_reduce, numbers, grid.

struct Params { rows: u32, classes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

const WG = 64u;
alias ReduceValue = f32;

// The values lib/log_sum_exp.wgsl reads: the logits of the row at `base`.
fn lse_input(base: u32, c: u32, source: u32) -> f32 {
  return logits[base + c];
}

@compute @workgroup_size(WG)
fn softmax_cross_entropy(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = grid_group(wid, groups);
  if (row >= params.rows) { return; } // uniform per workgroup, so barriers stay uniform
  let C = params.classes;
  let base = row * C;
  let m = workgroup_max(lid, lse_max(base, lid, WG, C, 0u));
  let s = workgroup_sum(lid, lse_exp_sums(base, lid, WG, C, 0u, m, NO_CLASS).x);
  let lse = lse_finish(m, s);
  let label = labels[row];
  let bad = label >= C;
  let nan = nan_f32();
  for (var c = lid; c < C; c += WG) {
    let p = exp(logits[base + c] - lse);
    grad[base + c] = select(p - select(0.0, 1.0, c == label), nan, bad);
  }
  if (lid == 0u) {
    loss[row] = select(lse - logits[base + min(label, C - 1u)], nan, bad);
  }
}
