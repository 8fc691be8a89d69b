// elementwise.wgsl — element-by-element kernels on flat f32 arrays.
//   relu:             y = max(x, 0)
//   relu_backward:    dx = dy where y > 0, else 0 (y is the forward output)
//   copy:             out = x                           (reshape)
//   add:              out = a + b
//   mul:              out = a · b
//   scale:            out = x * factor
//   scale_rows:       out[r, c] = x[r, c] * s[r]        (x is [rows, cols], row-major)
//   broadcast_scalar: out[i] = s[0] * factor            (gradient of a mean or sum)
//   accumulate:       out[i] += x[i]                    (in place: running sums on the GPU)
// Bindings: a uniform at binding 0 (per entry), inputs then the output.
// Dispatch: 256 invocations per workgroup, one element each; the workgroup grid may be
// folded into 2D when there are more than 65535 workgroups (index = x + y · 256 · nx).

struct SizeParams { size: u32 }
struct ScaleParams { size: u32, factor: f32 }
struct RowParams { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> size_params: SizeParams;
@group(0) @binding(0) var<uniform> scale_params: ScaleParams;
@group(0) @binding(0) var<uniform> row_params: RowParams;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> s: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn relu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= size_params.size) { return; }
  out[i] = max(x[i], 0.0);
}

@compute @workgroup_size(256)
fn relu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= size_params.size) { return; }
  // x holds the incoming gradient dy, y the forward output.
  out[i] = select(0.0, x[i], y[i] > 0.0);
}

@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= size_params.size) { return; }
  out[i] = x[i];
}

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= size_params.size) { return; }
  out[i] = x[i] + y[i];
}

@compute @workgroup_size(256)
fn mul(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= size_params.size) { return; }
  out[i] = x[i] * y[i];
}

@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= scale_params.size) { return; }
  out[i] = x[i] * scale_params.factor;
}

@compute @workgroup_size(256)
fn scale_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= row_params.rows * row_params.cols) { return; }
  out[i] = x[i] * s[i / row_params.cols];
}

@compute @workgroup_size(256)
fn broadcast_scalar(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= scale_params.size) { return; }
  out[i] = s[0] * scale_params.factor;
}

@compute @workgroup_size(256)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= size_params.size) { return; }
  out[i] = out[i] + x[i];
}
