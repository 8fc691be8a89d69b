// max_pool.wgsl — 2-D max pooling over NCHW feature maps (square window, no padding).
//   max_pool_forward:  out[p, oh, ow]  = max over the size×size window at (oh·stride, ow·stride)
//                      argmax[p, oh, ow] = flat index into x of that maximum (first one on ties)
//   max_pool_backward: dx[p, h, w] = Σ dy[p, oh, ow] over the windows covering (h, w) whose
//                      recorded argmax is this element. Each input gathers from its own
//                      windows, so no atomics are needed and overlapping windows
//                      (stride < size) are handled.
// p = n·C + c indexes the planes; x is [N, C, H, W], out/dy/argmax are [N, C, Ho, Wo] with
// Ho = (H − size) / stride + 1 (floor), likewise Wo.
// Bindings: params {planes, in_h, in_w, out_h, out_w, size, stride} at binding 0; then
// forward: x (read), out, argmax u32 (write); backward: dy, argmax (read), dx (write).
// Dispatch: 256 invocations per workgroup, one per output (forward) or input (backward)
// element; folded into 2D past 65535 workgroups (index = x + y · 256 · nx).

struct PoolParams { planes: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32, size: u32, stride: u32 }

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> recorded_argmax: array<u32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// First output row (or column) whose window covers input row i: ceil((i − size + 1) / stride).
fn first_window(i: u32) -> u32 {
  if (i + 1u < params.size) { return 0u; }
  return (i + 1u - params.size + params.stride - 1u) / params.stride;
}

@compute @workgroup_size(256)
fn max_pool_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  if (o >= params.planes * params.out_h * params.out_w) { return; }
  let ow = o % params.out_w;
  let oh = (o / params.out_w) % params.out_h;
  let plane = o / (params.out_w * params.out_h);
  let corner = plane * params.in_h * params.in_w + oh * params.stride * params.in_w + ow * params.stride;
  var best_index = corner;
  var best = x[corner];
  for (var kh = 0u; kh < params.size; kh++) {
    for (var kw = 0u; kw < params.size; kw++) {
      let i = corner + kh * params.in_w + kw;
      let v = x[i];
      if (v > best) {
        best = v;
        best_index = i;
      }
    }
  }
  out[o] = best;
  argmax[o] = best_index;
}

@compute @workgroup_size(256)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
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
      let o = (plane * params.out_h + oh) * params.out_w + ow;
      if (recorded_argmax[o] == i) { acc += dy[o]; }
    }
  }
  dx[i] = acc;
}
