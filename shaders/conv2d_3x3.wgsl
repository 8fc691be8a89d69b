// conv2d_3x3.wgsl — direct 3×3, stride-1 convolution forward with a fused bias + ReLU
// epilogue (the same sum as conv2d.wgsl, for the shapes src/ops/conv2d.ts sends here):
//   y[n, o, oy, ox] = act(bias[o] + Σ_{c, ky, kx} w[o, c, ky, kx] · x[n, c, oy − p + ky, ox − p + kx])
// with x zero outside the image, act = ReLU when RELU. NCHW, f32. Needs the `subgroups`
// feature with subgroups of at least 8 lanes (TypeScript checks; otherwise conv2d.wgsl runs).
// Why not implicit GEMM: on lavapipe every storage-buffer load runs lane by lane (a vec4
// load as four), so loads per product decide speed. Implicit GEMM loads each input value
// once per filter tap (9×); here an invocation owns a TILE_H × TILE_W patch of output
// pixels × OB output channels and loads the (TILE_H + 2) × (TILE_W + 2) input values of one
// channel once for all 9 taps. The block's weights are the same for every lane of a
// workgroup (one block per workgroup), so each lane loads one of a tap's OB weights and
// subgroupShuffle hands them round: per input channel 24 + 9 loads per lane for 576
// products, against 144 for 8×8 implicit GEMM. Products are added in the same order
// (c, ky, kx) as conv2d.wgsl.
// Entry conv2d_3x3_weights: wt[c, tap, o] = w[o, c, tap] (0 for o ≥ outChannels), o padded
// to a multiple of OB. Bindings: params, w [outChannels, inChannels, 3, 3] (read),
// wt_out [inChannels, 9, paddedOut] (write). Dispatch: ceil(inChannels·9·paddedOut / 64)
// workgroups of 64 (folded into 2-D: workgroupsWide wide).
// Entry conv2d_3x3: bindings params, x [batch, inChannels, inHeight, inWidth], wt (read),
// bias [outChannels], y [batch, outChannels, outHeight, outWidth] (write).
// Dispatch: workgroups (paddedOut / OB, ceil(tiles / GROUP_HEIGHT)) of 1 × GROUP_HEIGHT
// invocations, tiles = batch·tilesHigh·tilesWide; invocation (x, y) computes output-channel
// block x of pixel tile y (tiles row-major over images, tile rows, tile columns).

enable subgroups;
// The shuffles run in uniform control flow (no lane returns before them); the analysis
// cannot see that the loop bounds come from a uniform.
diagnostic(off, subgroup_uniformity);

struct Conv3x3Params {
  batch: u32,
  inChannels: u32,
  inHeight: u32,
  inWidth: u32,
  outChannels: u32,
  outHeight: u32,
  outWidth: u32,
  padding: u32,
  paddedOut: u32,
  tilesHigh: u32,
  tilesWide: u32,
  workgroupsWide: u32,
}

override RELU: bool = false;
override GROUP_HEIGHT: u32 = 64u;

const TILE_H = 2u;
const TILE_W = 4u;
const IN_H = TILE_H + 2u;
const IN_W = TILE_W + 2u;
// Output channels per invocation (two vec4s), and lanes that share one load of a tap.
const OB = 8u;

@group(0) @binding(0) var<uniform> params: Conv3x3Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> w: array<f32>;
@group(0) @binding(6) var<storage, read_write> wt_out: array<f32>;

@compute @workgroup_size(64)
fn conv2d_3x3_weights(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let p = params;
  let i = (group.y * p.workgroupsWide + group.x) * 64u + lane;
  if (i >= p.inChannels * 9u * p.paddedOut) { return; }
  let o = i % p.paddedOut;
  let tap = i / p.paddedOut;  // c·9 + ky·3 + kx
  wt_out[i] = select(0.0, w[min(o, p.outChannels - 1u) * p.inChannels * 9u + tap], o < p.outChannels);
}

@compute @workgroup_size(1, GROUP_HEIGHT)
fn conv2d_3x3(@builtin(global_invocation_id) gid: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let p = params;
  let tile_plane = p.tilesHigh * p.tilesWide;
  let ob = gid.x;
  let tiles = p.batch * tile_plane;
  // No early return: the shuffles below need every lane. Lanes past the last tile compute
  // the last tile again and store nothing.
  let tile = min(gid.y, tiles - 1u);
  let n = tile / tile_plane;
  let within = tile % tile_plane;
  let oy0 = within / p.tilesWide * TILE_H;
  let ox0 = within % p.tilesWide * TILE_W;
  // The input patch: rows top … top + IN_H − 1, columns left … left + IN_W − 1, clamped
  // into the image (so every load is in range) and zeroed where outside it.
  let top = i32(oy0) - i32(p.padding);
  let left = i32(ox0) - i32(p.padding);
  var row_offset: array<u32, IN_H>;
  var row_inside: array<bool, IN_H>;
  for (var i = 0u; i < IN_H; i++) {
    let iy = top + i32(i);
    row_inside[i] = u32(iy) < p.inHeight;
    row_offset[i] = u32(clamp(iy, 0, i32(p.inHeight) - 1)) * p.inWidth;
  }
  var column: array<u32, IN_W>;
  var column_inside: array<bool, IN_W>;
  for (var j = 0u; j < IN_W; j++) {
    let ix = left + i32(j);
    column_inside[j] = u32(ix) < p.inWidth;
    column[j] = u32(clamp(ix, 0, i32(p.inWidth) - 1));
  }
  let in_plane = p.inHeight * p.inWidth;
  // Lane l of each group of 8 loads channel l % 8 of the block; shuffles share them.
  let group_base = lane & ~7u;
  var source = n * p.inChannels * in_plane;
  var weights = ob * OB + (lane & 7u);
  // acc[2·(i·TILE_W + j)] holds output pixel (i, j)'s channels 0–3 of the block, [… + 1] 4–7.
  var acc: array<vec4f, TILE_H * TILE_W * 2u>;
  for (var c = 0u; c < p.inChannels; c++) {
    var v: array<f32, IN_H * IN_W>;
    for (var i = 0u; i < IN_H; i++) {
      for (var j = 0u; j < IN_W; j++) {
        v[i * IN_W + j] = select(0.0, x[source + row_offset[i] + column[j]], row_inside[i] && column_inside[j]);
      }
    }
    for (var ky = 0u; ky < 3u; ky++) {
      for (var kx = 0u; kx < 3u; kx++) {
        let mine = wt[weights + (ky * 3u + kx) * p.paddedOut];
        let lo = vec4f(subgroupShuffle(mine, group_base), subgroupShuffle(mine, group_base + 1u), subgroupShuffle(mine, group_base + 2u), subgroupShuffle(mine, group_base + 3u));
        let hi = vec4f(subgroupShuffle(mine, group_base + 4u), subgroupShuffle(mine, group_base + 5u), subgroupShuffle(mine, group_base + 6u), subgroupShuffle(mine, group_base + 7u));
        for (var i = 0u; i < TILE_H; i++) {
          for (var j = 0u; j < TILE_W; j++) {
            let a = v[(i + ky) * IN_W + j + kx];
            acc[2u * (i * TILE_W + j)] += a * lo;
            acc[2u * (i * TILE_W + j) + 1u] += a * hi;
          }
        }
      }
    }
    source += in_plane;
    weights += 9u * p.paddedOut;
  }
  if (gid.y >= tiles) { return; }
  let out_plane = p.outHeight * p.outWidth;
  let o0 = ob * OB;
  var b: array<f32, OB>;
  for (var k = 0u; k < OB; k++) { b[k] = bias[min(o0 + k, p.outChannels - 1u)]; }
  for (var i = 0u; i < TILE_H; i++) {
    let oy = oy0 + i;
    if (oy >= p.outHeight) { break; }
    for (var j = 0u; j < TILE_W; j++) {
      let ox = ox0 + j;
      if (ox >= p.outWidth) { break; }
      let start = n * p.outChannels * out_plane + oy * p.outWidth + ox;
      for (var k = 0u; k < OB; k++) {
        let o = o0 + k;
        if (o >= p.outChannels) { break; }
        var value = acc[2u * (i * TILE_W + j) + k / 4u][k % 4u] + b[k];
        if (RELU) { value = max(value, 0.0); }
        y[start + o * out_plane] = value;
      }
    }
  }
}
