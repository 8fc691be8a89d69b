// accuracy.wgsl — per-row argmax and whether it equals the label.
//   predicted[r] = argmax_c logits[r, c]   (the first index on ties)
//   correct[r]   = 1.0 if predicted[r] == labels[r] else 0.0   (its mean is the accuracy)
// Bindings: params {rows, classes}, logits (read), labels u32 (read),
// predicted u32 [rows] (write), correct f32 [rows] (write).
// Dispatch: one invocation per row, 64 per workgroup (x + y · 64 · nx past 65535 groups).
// Shared parts (shaders/lib/): grid.

struct Params { rows: u32, classes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> predicted: array<u32>;
@group(0) @binding(4) var<storage, read_write> correct: array<f32>;

@compute @workgroup_size(64)
fn argmax_correct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = grid_index(gid, groups, 64u);
  if (row >= params.rows) { return; }
  let base = row * params.classes;
  var best = 0u;
  var best_value = logits[base];
  for (var c = 1u; c < params.classes; c++) {
    let v = logits[base + c];
    if (v > best_value) { best = c; best_value = v; }
  }
  predicted[row] = best;
  correct[row] = select(0.0, 1.0, best == labels[row]);
}
