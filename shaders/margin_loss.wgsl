// margin_loss.wgsl — Carlini–Wagner margin loss, loss and gradient in one pass.
// For each row r of logits z [rows, classes] with label y_r:
//   j_r        = argmax_{c ≠ y_r} z_r[c]          (the lowest such index on ties)
//   loss[r]    = z_r[j_r] − z_r[y_r]              (> 0 exactly when the row is misclassified)
//   grad[r, c] = [c == j_r] − [c == y_r]          (d loss[r] / d z_r[c])
// An attacker maximises it: unlike cross-entropy its gradient does not vanish when softmax
// saturates. A label ≥ classes writes NaN to that row's loss and gradient.
// Bindings: params {rows, classes}, logits (read), labels u32 (read), loss [rows] (write),
// grad [rows, classes] (write). classes ≥ 2 (checked by the op's shape rule).
// Dispatch: one workgroup of 64 per row (x + y · nx when rows > 65535); strided loops over
// classes and a tree reduction of (value, index) pairs, so any class count works.
// Shared parts (shaders/lib/): numbers (NaN), grid.

struct Params { rows: u32, classes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

const WG = 64u;
const NO_INDEX = 0xffffffffu;
var<workgroup> best_values: array<f32, WG>;
var<workgroup> best_indices: array<u32, WG>;

// True when (v, i) beats (w, j): larger value, or equal value and lower index.
fn beats(v: f32, i: u32, w: f32, j: u32) -> bool {
  return j == NO_INDEX || (i != NO_INDEX && (v > w || (v == w && i < j)));
}

@compute @workgroup_size(WG)
fn margin_loss(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = grid_group(wid, groups);
  if (row >= params.rows) { return; } // uniform per workgroup, so barriers stay uniform
  let C = params.classes;
  let base = row * C;
  let label = labels[row];
  var value = 0.0;
  var index = NO_INDEX;
  for (var c = lid; c < C; c += WG) {
    let z = logits[base + c];
    if (c != label && beats(z, c, value, index)) { value = z; index = c; }
  }
  best_values[lid] = value;
  best_indices[lid] = index;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride && beats(best_values[lid + stride], best_indices[lid + stride], best_values[lid], best_indices[lid])) {
      best_values[lid] = best_values[lid + stride];
      best_indices[lid] = best_indices[lid + stride];
    }
    workgroupBarrier();
  }
  let runner_up = best_indices[0];
  let bad = label >= C;
  let nan = nan_f32();
  for (var c = lid; c < C; c += WG) {
    let g = select(0.0, 1.0, c == runner_up) - select(0.0, 1.0, c == label);
    grad[base + c] = select(g, nan, bad);
  }
  if (lid == 0u) {
    loss[row] = select(best_values[0] - logits[base + min(label, C - 1u)], nan, bad);
  }
}
