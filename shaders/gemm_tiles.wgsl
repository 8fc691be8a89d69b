// gemm_tiles.wgsl — the workgroup-memory GEMM loop (GemmTuning.kernel 'workgroup-tiles'),
// the variant real GPUs usually favour; gemm_core.wgsl is the register-blocked one that
// lavapipe favours. Appended by TypeScript to gemm.wgsl (matmul, linear) after
// gemm_core.wgsl; not a shader on its own.
// Needs from the including file: gemm_core.wgsl's accessors (load_a, load_b,
// load_b_columns, row_context, column_context) with `alias Step = u32` (plain k: the tiles
// are loaded at any k, where the conv2d passes' carried Steps only advance by one, so they
// stay on the register core), GemmSize and B_VECTOR from gemm_core.wgsl, and the bool
// overrides TRANS_A / TRANS_B, which only choose the order the tile loads walk so that
// neighbouring invocations read neighbouring addresses.
// Bindings: none of its own; two workgroup arrays of 4.25 KiB (8.5 KiB of the 16 KiB default).
// Dispatch: TILE_GROUP × TILE_GROUP invocations per workgroup (16: a 64×64 tile of C; 8:
// 32×32), each computing the 4×4 block at rows 4·local.y, columns 4·local.x of its
// workgroup's tile: workgroups (ceil(N / (4·TILE_GROUP)), ceil(M / (4·TILE_GROUP))). Every
// invocation runs the loop (the barriers need the whole workgroup); the user skips stores
// past M and N.
// Per tile of TILE_K values of k: the workgroup copies the A and B tiles into workgroup
// memory (zero past M, N and K, so edge tiles need no other case), waits, and each
// invocation does 16 multiply-adds per two vec4 reads of workgroup memory. Each output adds
// its products in order k = 0, 1, …, K − 1 as in the register core (the zero padding adds
// exact zeros), so both variants give the same sums up to fused multiply-adds.

// Invocations per side of a workgroup: 16 or 8 (TypeScript's gemmTilesDispatch).
override TILE_GROUP: u32 = 16u;
// Values of k per tile. 16 keeps both tiles under 4.25 KiB for TILE_GROUP 16.
const TILE_K: u32 = 16u;

// a_tile[k·TILE_STRIDE + q]: rows 4q … 4q + 3 of the tile at its column k.
// b_tile[k·TILE_STRIDE + q]: columns 4q … 4q + 3 of the tile at its row k.
// One vec4 of padding per k: where neighbouring invocations store neighbouring k, a stride
// of 16 vec4s would put them all in the same memory banks of a GPU.
// Sized for TILE_GROUP 16 (TILE_K·17 vec4s each); TILE_GROUP 8 uses the first TILE_K·9.
override TILE_STRIDE: u32 = TILE_GROUP + 1u;
var<workgroup> a_tile: array<vec4f, 272>;
var<workgroup> b_tile: array<vec4f, 272>;

// Rows m … m + 3 of op(A) at column k; zero past the edge.
fn a_quad(m: u32, k: u32, size: GemmSize) -> vec4f {
  var quad: vec4f;
  if (k >= size.K) { return quad; }
  for (var i = 0u; i < 4u; i++) {
    if (m + i < size.M) { quad[i] = load_a(row_context(m + i), k); }
  }
  return quad;
}

// Columns n … n + 3 of op(B) at row k; zero past the edge.
fn b_quad(k: u32, n: u32, size: GemmSize) -> vec4f {
  var quad: vec4f;
  if (k >= size.K || n >= size.N) { return quad; }
  // B_VECTOR: N % 4 == 0 and n % 4 == 0, so all four columns are in range.
  if (B_VECTOR) { return load_b_columns(k, column_context(n)); }
  for (var j = 0u; j < 4u; j++) {
    if (n + j < size.N) { quad[j] = load_b(k, column_context(n + j)); }
  }
  return quad;
}

// Rows 4·local.y … + 3 of the workgroup's tile of C: [i] is row i, columns 4·local.x … + 3.
fn gemm_tiles_accumulate(group: vec2u, local: vec2u, size: GemmSize) -> array<vec4f, 4> {
  let tile_side = 4u * TILE_GROUP;
  let row_base = group.y * tile_side;
  let col_base = group.x * tile_side;
  let thread = local.y * TILE_GROUP + local.x;
  let threads = TILE_GROUP * TILE_GROUP;
  let entries = TILE_K * TILE_GROUP;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < size.K; k0 += TILE_K) {
    for (var e = thread; e < entries; e += threads) {
      // Neighbouring invocations take neighbouring k where k is the contiguous index
      // (A [M, K], B [N, K]), else neighbouring quads of rows / columns.
      let a_k = select(e % TILE_K, e / TILE_GROUP, TRANS_A);
      let a_q = select(e / TILE_K, e % TILE_GROUP, TRANS_A);
      a_tile[a_k * TILE_STRIDE + a_q] = a_quad(row_base + 4u * a_q, k0 + a_k, size);
      let b_k = select(e / TILE_GROUP, e % TILE_K, TRANS_B);
      let b_q = select(e % TILE_GROUP, e / TILE_K, TRANS_B);
      b_tile[b_k * TILE_STRIDE + b_q] = b_quad(k0 + b_k, col_base + 4u * b_q, size);
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      let a = a_tile[k * TILE_STRIDE + local.y];
      let b = b_tile[k * TILE_STRIDE + local.x];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  return acc;
}
