// reduce.wgsl — sums with f32 accumulation in a fixed, balanced order.
//   reduce_sum:  out[0] = factor · Σ x[i]        (factor 1/size gives the mean)
//   column_sum:  out[c] = Σ_r x[r, c]            (x is [rows, cols]; the bias gradient)
// Bindings: params at binding 0, x (read), out (write).
// Dispatch: reduce_sum is one workgroup of 256: each invocation sums a strided slice,
// then a tree reduction in workgroup memory (pairwise, so error grows ~log n, not n).
// column_sum runs one invocation per column (workgroups: ceil(cols / 64)); neighbouring
// invocations read neighbouring addresses.

struct SumParams { size: u32, factor: f32 }
struct ColumnParams { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> sum_params: SumParams;
@group(0) @binding(0) var<uniform> column_params: ColumnParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn reduce_sum(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  var compensation = 0.0; // Kahan: keeps long strided sums accurate
  for (var i = lid; i < sum_params.size; i += 256u) {
    let term = x[i] - compensation;
    let next = acc + term;
    compensation = (next - acc) - term;
    acc = next;
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[0] = partial[0] * sum_params.factor; }
}

@compute @workgroup_size(64)
fn column_sum(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x;
  if (col >= column_params.cols) { return; }
  var acc = 0.0;
  var compensation = 0.0;
  for (var r = 0u; r < column_params.rows; r++) {
    let term = x[r * column_params.cols + col] - compensation;
    let next = acc + term;
    compensation = (next - acc) - term;
    acc = next;
  }
  out[col] = acc;
}
