// softmax.wgsl — softmax and log-softmax over the last axis of x viewed as [rows, cols]
// (row-major), and their gradients.
//   softmax_rows:          y = e^(x − max) / Σ e^(x − max)
//   log_softmax_rows:      y = (x − max) − log Σ e^(x − max)
//   softmax_backward:      dx = y ⊙ (dy − Σ dy ⊙ y)        (y: softmax output)
//   log_softmax_backward:  dx = dy − e^y · Σ dy            (y: log-softmax output)
// Bindings: uniform { rows, cols }, x or y, dy (backward), out.
// Dispatch: 64 invocations per workgroup, one row each (serial over its columns: the rows
// of imported models' outputs are short, 10 to 1,000 classes).
// Shared parts (shaders/lib/): log_sum_exp (max and Σ e^(x − max)), numbers, grid.

struct RowParams { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> params: RowParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn row_of(gid: vec3u, groups: vec3u) -> u32 {
  return grid_index(gid, groups, 64u);
}

// The values lib/log_sum_exp.wgsl reads: x's row at `base` (one input, so `source` is unused).
fn lse_input(base: u32, c: u32, source: u32) -> f32 {
  return x[base + c];
}

/** max and Σ e^(x − max) of one row. */
fn row_stats(start: u32) -> vec2f {
  let m = lse_max(start, 0u, 1u, params.cols, 0u);
  return vec2f(m, lse_exp_sums(start, 0u, 1u, params.cols, 0u, m, NO_CLASS).x);
}

@compute @workgroup_size(64)
fn softmax_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_of(gid, groups);
  if (r >= params.rows) { return; }
  let start = r * params.cols;
  let stats = row_stats(start);
  for (var c = 0u; c < params.cols; c++) { out[start + c] = exp(x[start + c] - stats.x) / stats.y; }
}

@compute @workgroup_size(64)
fn log_softmax_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_of(gid, groups);
  if (r >= params.rows) { return; }
  let start = r * params.cols;
  let stats = row_stats(start);
  // (x − max) first: it is exact for the largest entries, where x − (max + log Σ) would
  // lose the small result to rounding.
  let log_total = log(stats.y);
  for (var c = 0u; c < params.cols; c++) { out[start + c] = (x[start + c] - stats.x) - log_total; }
}

@compute @workgroup_size(64)
fn softmax_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_of(gid, groups);
  if (r >= params.rows) { return; }
  let start = r * params.cols;
  var dot = 0.0;
  for (var c = 0u; c < params.cols; c++) { dot += dy[start + c] * y[start + c]; }
  for (var c = 0u; c < params.cols; c++) { out[start + c] = y[start + c] * (dy[start + c] - dot); }
}

@compute @workgroup_size(64)
fn log_softmax_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_of(gid, groups);
  if (r >= params.rows) { return; }
  let start = r * params.cols;
  var total = 0.0;
  for (var c = 0u; c < params.cols; c++) { total += dy[start + c]; }
  for (var c = 0u; c < params.cols; c++) { out[start + c] = dy[start + c] - exp(y[start + c]) * total; }
}
