// avg_pool.wgsl — average pooling over NCHW feature maps.
//   avg_pool_forward:         out[p, oh, ow] = (Σ of x over the size_h×size_w window at
//                             (oh·stride_h − pad_top, ow·stride_w − pad_left), positions
//                             outside the map adding 0) / count(oh, ow)
//   avg_pool_backward:        dx[p, h, w] = Σ dy[p, oh, ow] / count(oh, ow) over the windows
//                             covering (h, w) (a gather per input: no atomics, overlaps are fine)
//   global_avg_pool_forward:  out[p] = mean of plane p (H·W values)
//   global_avg_pool_backward: dx[p, h, w] = dy[p] / (H·W)
// count(oh, ow): the window's positions inside the padded map [−pad_top, in_h + pad_bottom)
// × [−pad_left, in_w + pad_right) when include_pad is 1 (ONNX count_include_pad 1, PyTorch's
// default), else those inside the map itself (count_include_pad 0); a ceil-mode window's
// overhang past the padded map never counts.
// p = n·C + c indexes the planes; x/dx are [N, C, H, W]; pooled maps are [N, C, Ho, Wo]
// (Ho, Wo from TypeScript: floor or ceil mode); global pooling gives [N, C].
// Bindings: params at binding 0 (PoolParams for the windowed entries, {planes, plane_size}
// for the global ones); then x or dy (read), then out or dx (write).
// Dispatch: 256 invocations per workgroup, one per output element (forward) or input
// element (backward); folded into 2D past 65535 workgroups (index = x + y · 256 · nx).

struct PoolParams {
  planes: u32,
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  size_h: u32,
  size_w: u32,
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  pad_bottom: u32,
  pad_right: u32,
  include_pad: u32,
  // 1 when every window lies inside the map (no padding, no ceil-mode overhang): no bounds
  // checks, and every count is size_h·size_w (TypeScript decides).
  all_inside: u32,
}
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

// The windows (first, last) along one axis covering padded coordinate i (input coordinate +
// pad): ceil((i − size + 1) / stride) … min(i / stride, count − 1).
fn covering(i: u32, size: u32, stride: u32, count: u32) -> vec2u {
  let first = select(0u, (i + 1u - size + stride - 1u) / stride, i + 1u >= size);
  return vec2u(first, min(i / stride, count - 1u));
}

// Window start `start` (may be negative) along an axis of `n` values padded by pad_before,
// pad_after: how many of its `size` positions count.
fn counted(start: i32, size: u32, n: u32, pad_before: u32, pad_after: u32) -> u32 {
  let low = select(-i32(pad_before), 0, params.include_pad == 0u);
  let high = select(i32(n + pad_after), i32(n), params.include_pad == 0u);
  return u32(min(start + i32(size), high) - max(start, low));
}

fn window_count(oh: u32, ow: u32) -> f32 {
  let p = params;
  let rows = counted(i32(oh * p.stride_h) - i32(p.pad_top), p.size_h, p.in_h, p.pad_top, p.pad_bottom);
  let columns = counted(i32(ow * p.stride_w) - i32(p.pad_left), p.size_w, p.in_w, p.pad_left, p.pad_right);
  return f32(rows * columns);
}

@compute @workgroup_size(256)
fn avg_pool_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  let p = params;
  if (o >= p.planes * p.out_h * p.out_w) { return; }
  let ow = o % p.out_w;
  let oh = (o / p.out_w) % p.out_h;
  let plane_start = o / (p.out_w * p.out_h) * p.in_h * p.in_w;
  var acc = 0.0;
  if (p.all_inside == 1u) {
    let corner = plane_start + oh * p.stride_h * p.in_w + ow * p.stride_w;
    for (var kh = 0u; kh < p.size_h; kh++) {
      for (var kw = 0u; kw < p.size_w; kw++) { acc += x[corner + kh * p.in_w + kw]; }
    }
    out[o] = acc / f32(p.size_h * p.size_w);
    return;
  }
  let top = i32(oh * p.stride_h) - i32(p.pad_top);
  let left = i32(ow * p.stride_w) - i32(p.pad_left);
  for (var kh = 0u; kh < p.size_h; kh++) {
    let row = top + i32(kh);
    if (u32(row) >= p.in_h) { continue; }
    for (var kw = 0u; kw < p.size_w; kw++) {
      let column = left + i32(kw);
      if (u32(column) >= p.in_w) { continue; }
      acc += x[plane_start + u32(row) * p.in_w + u32(column)];
    }
  }
  out[o] = acc / window_count(oh, ow);
}

@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  let p = params;
  if (i >= p.planes * p.in_h * p.in_w) { return; }
  let w = i % p.in_w;
  let h = (i / p.in_w) % p.in_h;
  let plane = i / (p.in_w * p.in_h);
  let rows = covering(h + p.pad_top, p.size_h, p.stride_h, p.out_h);
  let columns = covering(w + p.pad_left, p.size_w, p.stride_w, p.out_w);
  var acc = 0.0;
  if (p.all_inside == 1u) {
    for (var oh = rows.x; oh <= rows.y; oh++) {
      for (var ow = columns.x; ow <= columns.y; ow++) { acc += dy[(plane * p.out_h + oh) * p.out_w + ow]; }
    }
    dx[i] = acc / f32(p.size_h * p.size_w);
    return;
  }
  for (var oh = rows.x; oh <= rows.y; oh++) {
    for (var ow = columns.x; ow <= columns.y; ow++) {
      acc += dy[(plane * p.out_h + oh) * p.out_w + ow] / window_count(oh, ow);
    }
  }
  dx[i] = acc;
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
