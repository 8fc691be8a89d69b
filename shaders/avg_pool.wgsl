// avg_pool.wgsl — average pooling over NCHW feature maps (square window, no padding).
//   avg_pool_forward:         out[p, oh, ow] = mean of the size×size window at (oh·stride, ow·stride)
//   avg_pool_backward:        dx[p, h, w] = Σ dy[p, oh, ow] / size² over the windows covering
//                             (h, w) (a gather per input: no atomics, overlaps are fine)
//   global_avg_pool_forward:  out[p] = mean of plane p (H·W values)
//   global_avg_pool_backward: dx[p, h, w] = dy[p] / (H·W)
// p = n·C + c indexes the planes; x/dx are [N, C, H, W]; pooled maps are [N, C, Ho, Wo] with
// Ho = (H − size) / stride + 1 (floor), likewise Wo; global pooling gives [N, C].
// Bindings: params at binding 0 ({planes, in_h, in_w, out_h, out_w, size, stride} for the
// windowed entries, {planes, plane_size} for the global ones); then x or dy (read), then
// out or dx (write).
// Dispatch: 256 invocations per workgroup, one per output element (forward) or input
// element (backward); folded into 2D past 65535 workgroups (index = x + y · 256 · nx).

struct PoolParams { planes: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32, size: u32, stride: u32 }
struct GlobalParams { planes: u32, plane_size: u32 }

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(0) var<uniform> global_params: GlobalParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// First output row (or column) whose window covers input row i: ceil((i − size + 1) / stride).
fn first_window(i: u32) -> u32 {
  if (i + 1u < params.size) { return 0u; }
  return (i + 1u - params.size + params.stride - 1u) / params.stride;
}

@compute @workgroup_size(256)
fn avg_pool_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  if (o >= params.planes * params.out_h * params.out_w) { return; }
  let ow = o % params.out_w;
  let oh = (o / params.out_w) % params.out_h;
  let plane = o / (params.out_w * params.out_h);
  let corner = plane * params.in_h * params.in_w + oh * params.stride * params.in_w + ow * params.stride;
  var acc = 0.0;
  for (var kh = 0u; kh < params.size; kh++) {
    for (var kw = 0u; kw < params.size; kw++) {
      acc += x[corner + kh * params.in_w + kw];
    }
  }
  out[o] = acc / f32(params.size * params.size);
}

@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= params.planes * params.in_h * params.in_w) { return; }
  let w = i % params.in_w;
  let h = (i / params.in_w) % params.in_h;
  let plane = i / (params.in_w * params.in_h);
  let last_h = min(h / params.stride, params.out_h - 1u);
  let last_w = min(w / params.stride, params.out_w - 1u);
  var acc = 0.0;
  for (var oh = first_window(h); oh <= last_h; oh++) {
    for (var ow = first_window(w); ow <= last_w; ow++) {
      acc += dy[(plane * params.out_h + oh) * params.out_w + ow];
    }
  }
  dx[i] = acc / f32(params.size * params.size);
}

@compute @workgroup_size(256)
fn global_avg_pool_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let plane = flat_index(gid, groups);
  if (plane >= global_params.planes) { return; }
  let start = plane * global_params.plane_size;
  var acc = 0.0;
  var compensation = 0.0; // Kahan: large planes (e.g. 56×56) stay accurate
  for (var i = 0u; i < global_params.plane_size; i++) {
    let term = x[start + i] - compensation;
    let next = acc + term;
    compensation = (next - acc) - term;
    acc = next;
  }
  out[plane] = acc / f32(global_params.plane_size);
}

@compute @workgroup_size(256)
fn global_avg_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= global_params.planes * global_params.plane_size) { return; }
  dx[i] = dy[i / global_params.plane_size] / f32(global_params.plane_size);
}
