// elementwise.wgsl — element-by-element kernels on flat f32 arrays.
//   relu:             y = max(x, 0)
//   relu_backward:    dx = dy where y > 0, else 0 (y is the forward output)
//   copy:             out = x                           (reshape)
//   add:              out = a + b
//   mul:              out = a · b
//   scale:            out = x * factor
//   scale_rows:       out[r, c] = x[r, c] * s[r]        (x is [rows, cols], row-major)
//   scale_rows_wide[4][_serial]: the same for long rows (see there)
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

// ---- scale_rows for long rows --------------------------------------------------------------
// Workgroup grid: x = a chunk of ROW_CHUNK · ROW_ITEMS elements (or vec4 quads when cols % 4
// = 0: x4, out4 are x and out viewed as vec4s) of one row, row = y + z · ny, so the row is
// known without dividing by cols per element. *_serial: one invocation per workgroup walks
// the chunk; its addresses are workgroup-uniform, which lavapipe loads and stores whole
// (~2.5× faster there than lane by lane; far slower on a GPU, where TypeScript picks the
// others). Measured in bench/NOTES.md ("Fused KL rewrite": the KL's backward).

@group(0) @binding(5) var<storage, read> x4: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> out4: array<vec4f>;

const ROW_CHUNK = 64u;
const ROW_ITEMS = 8u;

fn grid_row(wid: vec3u, groups: vec3u) -> u32 { return wid.y + wid.z * groups.y; }

@compute @workgroup_size(ROW_CHUNK)
fn scale_rows_wide(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = grid_row(wid, groups);
  if (row >= row_params.rows) { return; }
  let C = row_params.cols;
  let factor = s[row];
  let first = wid.x * ROW_CHUNK * ROW_ITEMS + lid;
  for (var k = 0u; k < ROW_ITEMS; k++) {
    let c = first + k * ROW_CHUNK;
    if (c < C) { out[row * C + c] = x[row * C + c] * factor; }
  }
}

@compute @workgroup_size(ROW_CHUNK)
fn scale_rows_wide4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = grid_row(wid, groups);
  if (row >= row_params.rows) { return; }
  let Q = row_params.cols / 4u;
  let factor = s[row];
  let first = wid.x * ROW_CHUNK * ROW_ITEMS + lid;
  for (var k = 0u; k < ROW_ITEMS; k++) {
    let q = first + k * ROW_CHUNK;
    if (q < Q) { out4[row * Q + q] = x4[row * Q + q] * factor; }
  }
}

@compute @workgroup_size(1)
fn scale_rows_wide4_serial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = grid_row(wid, groups);
  if (row >= row_params.rows) { return; }
  let Q = row_params.cols / 4u;
  let factor = s[row];
  let first = wid.x * ROW_CHUNK * ROW_ITEMS;
  for (var k = 0u; k < ROW_CHUNK * ROW_ITEMS; k++) {
    let q = first + k;
    if (q < Q) { out4[row * Q + q] = x4[row * Q + q] * factor; }
  }
}

