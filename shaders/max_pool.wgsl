// max_pool.wgsl — 2-D max pooling over NCHW feature maps: SIZE_H×SIZE_W windows, strides
// STRIDE_H/STRIDE_W, taps DILATION_H/DILATION_W apart, the window of output (0, 0) at
// (−PAD_TOP, −PAD_LEFT). Positions outside the map (padding, or the overhang of ceil-mode
// windows) never win: they are skipped.
//   max_pool_forward:  out[p, oh, ow]  = max over the window at (oh·STRIDE_H − PAD_TOP, ow·STRIDE_W − PAD_LEFT)
//                      argmax[p, oh, ow] = flat index into x of that maximum (first one on ties;
//                      0xffffffff for a window with no position inside the map, whose value is
//                      the lowest f32)
//   max_pool_backward_tiled (no padding, no dilation, STRIDE ≥ SIZE on both axes and every
//                      window inside the map: windows do not overlap): one invocation per
//                      output o = (p, oh, ow) writes its window as
//                      dx[i] = (i == argmax[o]) ? dy[o] : 0, then zeros the rest of its
//                      cell: rows oh·STRIDE_H … oh·STRIDE_H + STRIDE_H − 1, columns likewise,
//                      the last cell of a row or column of cells running to the edge of the
//                      plane. The cells tile the plane, so every dx element (also those no
//                      window covers) is written exactly once, with no loop over windows.
//   max_pool_backward_tiled_relu: the same with ReLU's backward pass fused, when x is a
//                      ReLU's output: dx[i] = (i == argmax[o] && pooled[o] > 0) ? dy[o] : 0,
//                      pooled the forward's output (no pass over the map for the mask).
//   max_pool_backward: dx[p, h, w] = Σ dy[p, oh, ow] over the windows whose span covers
//                      (h, w) and whose recorded argmax is this element. Each input gathers
//                      from its own windows, so no atomics are needed; used otherwise.
// p = n·C + c indexes the planes; x is [N, C, IN_H, IN_W], out/dy/argmax are
// [N, C, OUT_H, OUT_W] (OUT_H, OUT_W from TypeScript: floor or ceil mode).
// Window, strides, dilations, pads and the plane sizes are override constants, so that every
// division and modulo below is by a constant (divisions by uniforms were the cost on
// lavapipe: see bench/NOTES.md, "Max-pool backward rewrite"); one pipeline per (map size,
// window, stride, dilation, pads). The number of planes (batch × channels) is the uniform,
// so batch sizes share pipelines.
// Bindings: params {planes} at binding 0; then forward: x (read), out, argmax u32 (write);
// backward: dy, argmax (read), dx (write), and for backward_tiled_relu pooled (read).
// Dispatch: 256 invocations per workgroup, one per output (forward, backward_tiled) or
// input (backward) element; folded into 2D past 65535 workgroups (index = x + y · 256 · nx).

struct PoolParams { planes: u32 }

override SIZE_H: u32;
override SIZE_W: u32;
override STRIDE_H: u32;
override STRIDE_W: u32;
override DILATION_H: u32 = 1u;
override DILATION_W: u32 = 1u;
override PAD_TOP: u32 = 0u;
override PAD_LEFT: u32 = 0u;
override IN_H: u32;
override IN_W: u32;
override OUT_H: u32;
override OUT_W: u32;

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> recorded_argmax: array<u32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read> pooled: array<f32>;

const NONE = 0xffffffffu;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// The windows (first, last) along one axis whose span covers padded coordinate i (input
// coordinate + pad): ceil((i − span + 1) / stride) … min(i / stride, count − 1); empty
// when first > last.
fn covering(i: u32, span: u32, stride: u32, count: u32) -> vec2u {
  let first = select(0u, (i + 1u - span + stride - 1u) / stride, i + 1u >= span);
  return vec2u(first, min(i / stride, count - 1u));
}

@compute @workgroup_size(256)
fn max_pool_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  if (o >= params.planes * OUT_H * OUT_W) { return; }
  let ow = o % OUT_W;
  let oh = (o / OUT_W) % OUT_H;
  let plane_start = o / (OUT_W * OUT_H) * IN_H * IN_W;
  let top = i32(oh * STRIDE_H) - i32(PAD_TOP);
  let left = i32(ow * STRIDE_W) - i32(PAD_LEFT);
  var best_index = NONE;
  var best = -0x1.fffffep+127f;
  for (var kh = 0u; kh < SIZE_H; kh++) {
    let row = top + i32(kh * DILATION_H);
    // Negative coordinates wrap to large u32s: one comparison checks both ends.
    if (u32(row) >= IN_H) { continue; }
    for (var kw = 0u; kw < SIZE_W; kw++) {
      let column = left + i32(kw * DILATION_W);
      if (u32(column) >= IN_W) { continue; }
      let i = plane_start + u32(row) * IN_W + u32(column);
      let v = x[i];
      if (v > best || best_index == NONE) {
        best = v;
        best_index = i;
      }
    }
  }
  out[o] = best;
  argmax[o] = best_index;
}

// Writes output o's cell of dx: g at its recorded argmax, 0 elsewhere.
fn write_cell(o: u32, g: f32) {
  let ow = o % OUT_W;
  let oh = (o / OUT_W) % OUT_H;
  let plane = o / (OUT_W * OUT_H);
  let corner = plane * IN_H * IN_W + oh * STRIDE_H * IN_W + ow * STRIDE_W;
  let chosen = recorded_argmax[o];
  for (var r = 0u; r < SIZE_H; r++) {
    for (var c = 0u; c < SIZE_W; c++) {
      let i = corner + r * IN_W + c;
      dx[i] = select(0.0, g, i == chosen);
    }
  }
  // Zeros for the rest of the cell: nothing unless STRIDE > SIZE or this is the last cell of
  // a row (column) of cells, which runs to the edge of the plane. rows and columns select
  // between constants, so where the windows tile the plane exactly the loop is empty.
  let rows = select(STRIDE_H, IN_H - (OUT_H - 1u) * STRIDE_H, oh == OUT_H - 1u);
  let columns = select(STRIDE_W, IN_W - (OUT_W - 1u) * STRIDE_W, ow == OUT_W - 1u);
  for (var r = 0u; r < rows; r++) {
    for (var c = select(0u, SIZE_W, r < SIZE_H); c < columns; c++) {
      dx[corner + r * IN_W + c] = 0.0;
    }
  }
}

@compute @workgroup_size(256)
fn max_pool_backward_tiled(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  if (o >= params.planes * OUT_H * OUT_W) { return; }
  write_cell(o, dy[o]);
}

// x was a ReLU's output y: the maximum x[argmax] is the pooled value, so ReLU's mask
// (y > 0) at the only element that gets a gradient is pooled > 0.
@compute @workgroup_size(256)
fn max_pool_backward_tiled_relu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  if (o >= params.planes * OUT_H * OUT_W) { return; }
  write_cell(o, select(0.0, dy[o], pooled[o] > 0.0));
}

@compute @workgroup_size(256)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= params.planes * IN_H * IN_W) { return; }
  let w = i % IN_W;
  let h = (i / IN_W) % IN_H;
  let plane = i / (IN_W * IN_H);
  // The extent of a dilated window.
  let rows = covering(h + PAD_TOP, (SIZE_H - 1u) * DILATION_H + 1u, STRIDE_H, OUT_H);
  let columns = covering(w + PAD_LEFT, (SIZE_W - 1u) * DILATION_W + 1u, STRIDE_W, OUT_W);
  var acc = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    for (var ow = columns.x; ow <= columns.y; ow++) {
      let o = (plane * OUT_H + oh) * OUT_W + ow;
      if (recorded_argmax[o] == i) { acc += dy[o]; }
    }
  }
  dx[i] = acc;
}
