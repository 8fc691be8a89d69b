// conv2d_backward_filter_3x3.wgsl — the filter gradient of a 3×3, stride-1, undilated
// convolution, direct (not implicit GEMM), as partial sums over chunks of output rows:
//   dw[z, o, c, ky, kx] = Σ over the output rows (n, oy) of chunk z, Σ_ox
//                         dy[n, o, oy, ox] · x[n, c, oy − padTop + ky, ox − padLeft + kx]
// with x zero outside the image; TypeScript sums over z (sum_axis, a fixed order). NCHW, f32.
// For few filters and many output pixels (a first layer: 32 × 1 × 3 × 3 over 64·26·26
// pixels). An invocation owns 4 output channels of one input channel and walks its rows left
// to right with the window's three columns of x in registers: each pixel loads one new
// column (3 values) and 4 of dy for 36 products. The GEMM-core kernel
// (conv2d_backward_filter.wgsl) loads 8 values per 16 products, and its 4×4 blocks cover the
// 9 taps with 12 columns; on lavapipe, where every load runs lane by lane, loads per product
// are the cost.
//   conv2d_backward_filter_bias_3x3 also writes the bias gradient's partial sums
//   db[z, o] = Σ over the rows of chunk z, Σ_ox dy[n, o, oy, ox] (conv2d's grad rule; the
//   same pass over dy).
// Bindings: params (FilterParams) at 0; dy [batch, outChannels, outHeight, outWidth] and
// x [batch, inChannels, inHeight, inWidth] (read); dw [chunks, outChannels, inChannels, 3, 3]
// and (bias entry) db [chunks, outChannels] (write).
// Dispatch: (ceil(chunks / 64), inChannels · ceil(outChannels / 4)) workgroups of 64
// invocations, one chunk each along x; chunk z holds output rows
// [z·rowsPerChunk, min((z + 1)·rowsPerChunk, batch·outHeight)), rows counted over images.

struct FilterParams {
  batch: u32,
  inChannels: u32,
  inHeight: u32,
  inWidth: u32,
  outChannels: u32,
  outHeight: u32,
  outWidth: u32,
  padTop: u32,
  padLeft: u32,
  rowsPerChunk: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> params: FilterParams;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;

// x at (row, column) of the plane starting at `plane`, 0 outside it (negative coordinates
// wrap to large u32s, so one comparison per axis checks both ends).
fn x_at(plane: u32, row: i32, column: i32) -> f32 {
  let inside = u32(row) < params.inHeight && u32(column) < params.inWidth;
  return select(0.0, x[plane + select(0u, u32(row) * params.inWidth + u32(column), inside)], inside);
}

// The window column at `column`: rows top, top + 1, top + 2.
fn x_column(plane: u32, top: i32, column: i32) -> vec3f {
  return vec3f(x_at(plane, top, column), x_at(plane, top + 1, column), x_at(plane, top + 2, column));
}

// The sums of one invocation: taps[ky·3 + kx] for output channels o0 … o0 + 3, and
// Σ dy over the chunk's pixels for the same channels (the bias gradient's share).
struct Sums { taps: array<vec4f, 9>, bias: vec4f }

fn chunk_sums(z: u32, c: u32, o0: u32) -> Sums {
  let p = params;
  var acc: Sums;
  let last_row = min((z + 1u) * p.rowsPerChunk, p.batch * p.outHeight);
  for (var r = z * p.rowsPerChunk; r < last_row; r++) {
    let n = r / p.outHeight;
    let oy = r % p.outHeight;
    let plane = (n * p.inChannels + c) * p.inHeight * p.inWidth;
    let top = i32(oy) - i32(p.padTop);
    let left = -i32(p.padLeft);
    // Channels past the last repeat it; their sums are not stored.
    let last_o = p.outChannels - 1u;
    let d0 = ((n * p.outChannels + o0) * p.outHeight + oy) * p.outWidth;
    let d1 = ((n * p.outChannels + min(o0 + 1u, last_o)) * p.outHeight + oy) * p.outWidth;
    let d2 = ((n * p.outChannels + min(o0 + 2u, last_o)) * p.outHeight + oy) * p.outWidth;
    let d3 = ((n * p.outChannels + min(o0 + 3u, last_o)) * p.outHeight + oy) * p.outWidth;
    var first = x_column(plane, top, left);
    var second = x_column(plane, top, left + 1);
    for (var ox = 0u; ox < p.outWidth; ox++) {
      let third = x_column(plane, top, left + i32(ox) + 2);
      let g = vec4f(dy[d0 + ox], dy[d1 + ox], dy[d2 + ox], dy[d3 + ox]);
      acc.taps[0] += g * first.x;
      acc.taps[3] += g * first.y;
      acc.taps[6] += g * first.z;
      acc.taps[1] += g * second.x;
      acc.taps[4] += g * second.y;
      acc.taps[7] += g * second.z;
      acc.taps[2] += g * third.x;
      acc.taps[5] += g * third.y;
      acc.taps[8] += g * third.z;
      acc.bias += g;
      first = second;
      second = third;
    }
  }
  return acc;
}

fn store_taps(z: u32, c: u32, o0: u32, acc: Sums) {
  for (var i = 0u; i < 4u; i++) {
    let o = o0 + i;
    if (o >= params.outChannels) { return; }
    let base = ((z * params.outChannels + o) * params.inChannels + c) * 9u;
    for (var t = 0u; t < 9u; t++) {
      dw[base + t] = acc.taps[t][i];
    }
  }
}

@compute @workgroup_size(64)
fn conv2d_backward_filter_3x3(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= params.chunks) { return; }
  let c = gid.y % params.inChannels;
  let o0 = gid.y / params.inChannels * 4u;
  store_taps(gid.x, c, o0, chunk_sums(gid.x, c, o0));
}

// The same, and the bias gradient's partial sums db[z, o] from the invocations of input
// channel 0 (the bias gradient of conv2d sums the same dy: one pass over dy, not two).
@compute @workgroup_size(64)
fn conv2d_backward_filter_bias_3x3(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= params.chunks) { return; }
  let c = gid.y % params.inChannels;
  let o0 = gid.y / params.inChannels * 4u;
  let acc = chunk_sums(gid.x, c, o0);
  store_taps(gid.x, c, o0, acc);
  if (c != 0u) { return; }
  for (var i = 0u; i < 4u; i++) {
    if (o0 + i < params.outChannels) { db[gid.x * params.outChannels + o0 + i] = acc.bias[i]; }
  }
}
