// max_pool.wgsl — 2-D max pooling over NCHW feature maps (square window, no padding).
//   max_pool_forward:  out[p, oh, ow]  = max over the SIZE×SIZE window at (oh·STRIDE, ow·STRIDE)
//                      argmax[p, oh, ow] = flat index into x of that maximum (first one on ties)
//   max_pool_backward_tiled (STRIDE ≥ SIZE: windows do not overlap): one invocation per
//                      output o = (p, oh, ow) writes its window as
//                      dx[i] = (i == argmax[o]) ? dy[o] : 0, then zeros the rest of its
//                      cell: rows oh·STRIDE … oh·STRIDE + STRIDE − 1, columns likewise, the
//                      last cell of a row or column of cells running to the edge of the
//                      plane. The cells tile the plane, so every dx element (also those no
//                      window covers) is written exactly once, with no loop over windows.
//   max_pool_backward: dx[p, h, w] = Σ dy[p, oh, ow] over the windows covering (h, w) whose
//                      recorded argmax is this element. Each input gathers from its own
//                      windows, so no atomics are needed; used for overlapping windows
//                      (STRIDE < SIZE).
// p = n·C + c indexes the planes; x is [N, C, IN_H, IN_W], out/dy/argmax are
// [N, C, OUT_H, OUT_W] with OUT_H = (IN_H − SIZE) / STRIDE + 1 (floor), likewise OUT_W.
// Window size, stride and the plane sizes are override constants, so that every division
// and modulo below is by a constant (divisions by uniforms were the cost on lavapipe: see
// bench/NOTES.md, "Max-pool backward rewrite"); one pipeline per (map size, window, stride).
// The number of planes (batch × channels) is the uniform, so batch sizes share pipelines.
// Bindings: params {planes} at binding 0; then forward: x (read), out, argmax u32 (write);
// backward: dy, argmax (read), dx (write).
// Dispatch: 256 invocations per workgroup, one per output (forward, backward_tiled) or
// input (backward) element; folded into 2D past 65535 workgroups (index = x + y · 256 · nx).

struct PoolParams { planes: u32 }

override SIZE: u32;
override STRIDE: u32;
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

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// First output row (or column) whose window covers input row i: ceil((i − SIZE + 1) / STRIDE).
fn first_window(i: u32) -> u32 {
  if (i + 1u < SIZE) { return 0u; }
  return (i + 1u - SIZE + STRIDE - 1u) / STRIDE;
}

@compute @workgroup_size(256)
fn max_pool_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  if (o >= params.planes * OUT_H * OUT_W) { return; }
  let ow = o % OUT_W;
  let oh = (o / OUT_W) % OUT_H;
  let plane = o / (OUT_W * OUT_H);
  let corner = plane * IN_H * IN_W + oh * STRIDE * IN_W + ow * STRIDE;
  var best_index = corner;
  var best = x[corner];
  for (var kh = 0u; kh < SIZE; kh++) {
    for (var kw = 0u; kw < SIZE; kw++) {
      let i = corner + kh * IN_W + kw;
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
fn max_pool_backward_tiled(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  if (o >= params.planes * OUT_H * OUT_W) { return; }
  let ow = o % OUT_W;
  let oh = (o / OUT_W) % OUT_H;
  let plane = o / (OUT_W * OUT_H);
  let corner = plane * IN_H * IN_W + oh * STRIDE * IN_W + ow * STRIDE;
  let chosen = recorded_argmax[o];
  let g = dy[o];
  for (var r = 0u; r < SIZE; r++) {
    for (var c = 0u; c < SIZE; c++) {
      let i = corner + r * IN_W + c;
      dx[i] = select(0.0, g, i == chosen);
    }
  }
  // Zeros for the rest of the cell: nothing unless STRIDE > SIZE or this is the last cell of
  // a row (column) of cells, which runs to the edge of the plane. rows and columns select
  // between constants, so where the windows tile the plane exactly the loop is empty.
  let rows = select(STRIDE, IN_H - (OUT_H - 1u) * STRIDE, oh == OUT_H - 1u);
  let columns = select(STRIDE, IN_W - (OUT_W - 1u) * STRIDE, ow == OUT_W - 1u);
  for (var r = 0u; r < rows; r++) {
    for (var c = select(0u, SIZE, r < SIZE); c < columns; c++) {
      dx[corner + r * IN_W + c] = 0.0;
    }
  }
}

@compute @workgroup_size(256)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= params.planes * IN_H * IN_W) { return; }
  let w = i % IN_W;
  let h = (i / IN_W) % IN_H;
  let plane = i / (IN_W * IN_H);
  let last_h = min(h / STRIDE, OUT_H - 1u);
  let last_w = min(w / STRIDE, OUT_W - 1u);
  var acc = 0.0;
  for (var oh = first_window(h); oh <= last_h; oh++) {
    for (var ow = first_window(w); ow <= last_w; ow++) {
      let o = (plane * OUT_H + oh) * OUT_W + ow;
      if (recorded_argmax[o] == i) { acc += dy[o]; }
    }
  }
  dx[i] = acc;
}
