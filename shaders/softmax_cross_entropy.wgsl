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

struct Params { rows: u32, classes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

const WG = 64u;
var<workgroup> scratch: array<f32, 64>;

fn reduce_max(lid: u32, value: f32) -> f32 {
  scratch[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { scratch[lid] = max(scratch[lid], scratch[lid + stride]); }
    workgroupBarrier();
  }
  let result = scratch[0];
  workgroupBarrier();
  return result;
}

fn reduce_sum(lid: u32, value: f32) -> f32 {
  scratch[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { scratch[lid] += scratch[lid + stride]; }
    workgroupBarrier();
  }
  let result = scratch[0];
  workgroupBarrier();
  return result;
}

@compute @workgroup_size(64)
fn softmax_cross_entropy(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * groups.x;
  if (row >= params.rows) { return; } // uniform per workgroup, so barriers stay uniform
  let C = params.classes;
  let base = row * C;
  var m = -3.0e38;
  for (var c = lid; c < C; c += WG) { m = max(m, logits[base + c]); }
  m = reduce_max(lid, m);
  var s = 0.0;
  for (var c = lid; c < C; c += WG) { s += exp(logits[base + c] - m); }
  s = reduce_sum(lid, s);
  let lse = m + log(s);
  let label = labels[row];
  let bad = label >= C;
  var nan_bits = 0x7fc00000u; // a var, so it is not const-folded (NaN is not a valid constant)
  let nan = bitcast<f32>(nan_bits);
  for (var c = lid; c < C; c += WG) {
    let p = exp(logits[base + c] - lse);
    grad[base + c] = select(p - select(0.0, 1.0, c == label), nan, bad);
  }
  if (lid == 0u) {
    loss[row] = select(lse - logits[base + min(label, C - 1u)], nan, bad);
  }
}
