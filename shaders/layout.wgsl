// layout.wgsl — copies that change where values sit, for imported models.
//   pad2d:       out [N·C, H + top + bottom, W + left + right] = x [N·C, H, W] placed at
//                (top, left), `value` elsewhere (zero for padding, a very negative number
//                before max pooling)
//   crop2d:      out [N·C, H, W] = x [N·C, H + top + bottom, W + left + right] at (top, left)
//                (pad2d's gradient)
//   place_axis:  out[o, offset + j, i] = x[o, j, i] for x [outer, length, inner] in an output
//                [outer, total, inner] (one call per input of a concatenation)
//   slice_axis:  out[o, j, i] = x[o, offset + j, i] (a concatenation's gradient)
//   embed_axis:  out[o, j, i] = x[o, j − offset, i] inside the block, 0 outside (a slice's
//                gradient: out is [outer, total, inner], x [outer, length, inner])
//   transpose:   out = x with its axes permuted (rank ≤ 6; out_dim_k are the output's dims,
//                in_stride_k the input stride of the axis that lands at output axis k)
// Bindings: uniform params (per entry), x (read), out (write). Row-major, flat.
// Dispatch: 256 invocations per workgroup, one output element each (place_axis: one input
// element each); grid folded into 2-D past 65535 workgroups (index = x + y · 256 · nx).

struct PadParams { planes: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32, top: u32, left: u32, value: f32 }
struct AxisParams { outer: u32, length: u32, inner: u32, total: u32, offset: u32 }
struct PermuteParams {
  size: u32,
  out_dim_0: u32, out_dim_1: u32, out_dim_2: u32, out_dim_3: u32, out_dim_4: u32, out_dim_5: u32,
  in_stride_0: u32, in_stride_1: u32, in_stride_2: u32, in_stride_3: u32, in_stride_4: u32, in_stride_5: u32,
}

@group(0) @binding(0) var<uniform> pad: PadParams;
@group(0) @binding(0) var<uniform> axis: AxisParams;
@group(0) @binding(0) var<uniform> perm: PermuteParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn pad2d(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= pad.planes * pad.out_h * pad.out_w) { return; }
  let col = i % pad.out_w;
  let row = (i / pad.out_w) % pad.out_h;
  let plane = i / (pad.out_w * pad.out_h);
  // Unsigned wrap-around makes a position left of or above the input fail the < tests.
  let r = row - pad.top;
  let c = col - pad.left;
  if (r < pad.in_h && c < pad.in_w) {
    out[i] = x[(plane * pad.in_h + r) * pad.in_w + c];
  } else {
    out[i] = pad.value;
  }
}

@compute @workgroup_size(256)
fn crop2d(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  // Here in_* is the cropped (output) size and out_* the padded (input) size.
  let i = flat_index(gid, groups);
  if (i >= pad.planes * pad.in_h * pad.in_w) { return; }
  let c = i % pad.in_w;
  let r = (i / pad.in_w) % pad.in_h;
  let plane = i / (pad.in_w * pad.in_h);
  out[i] = x[(plane * pad.out_h + r + pad.top) * pad.out_w + c + pad.left];
}

@compute @workgroup_size(256)
fn place_axis(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= axis.outer * axis.length * axis.inner) { return; }
  let k = i % axis.inner;
  let j = (i / axis.inner) % axis.length;
  let o = i / (axis.inner * axis.length);
  out[(o * axis.total + axis.offset + j) * axis.inner + k] = x[i];
}

@compute @workgroup_size(256)
fn slice_axis(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= axis.outer * axis.length * axis.inner) { return; }
  let k = i % axis.inner;
  let j = (i / axis.inner) % axis.length;
  let o = i / (axis.inner * axis.length);
  out[i] = x[(o * axis.total + axis.offset + j) * axis.inner + k];
}

@compute @workgroup_size(256)
fn embed_axis(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= axis.outer * axis.total * axis.inner) { return; }
  let k = i % axis.inner;
  let j = (i / axis.inner) % axis.total;
  let o = i / (axis.inner * axis.total);
  // Unsigned wrap-around sends j < offset past the block too.
  let local = j - axis.offset;
  out[i] = select(0.0, x[(o * axis.length + local) * axis.inner + k], local < axis.length);
}

@compute @workgroup_size(256)
fn transpose(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= perm.size) { return; }
  // Output coordinates from the last axis to the first (unused axes have dim 1, stride 0).
  let dims = array<u32, 6>(perm.out_dim_0, perm.out_dim_1, perm.out_dim_2, perm.out_dim_3, perm.out_dim_4, perm.out_dim_5);
  let strides = array<u32, 6>(perm.in_stride_0, perm.in_stride_1, perm.in_stride_2, perm.in_stride_3, perm.in_stride_4, perm.in_stride_5);
  var rest = i;
  var source = 0u;
  for (var k = 5; k >= 0; k--) {
    let coordinate = rest % dims[k];
    rest = rest / dims[k];
    source += coordinate * strides[k];
  }
  out[i] = x[source];
}
