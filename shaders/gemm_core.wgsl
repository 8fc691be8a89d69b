// gemm_core.wgsl — the register-blocked GEMM loop, written once and shared by gemm.wgsl
// (matmul, linear) and the conv2d*.wgsl passes (convolution as implicit GEMM).
// Not a shader on its own: TypeScript appends it to a file that defines the operands
// through accessors (as TensorFlow.js's mm_readA / mm_readB), split so that the work that
// depends on one row, one column or one k is done once, not once per product:
//   type RowContext,    fn row_context(m: u32) -> RowContext         once per row of a block
//   type ColumnContext, fn column_context(n: u32) -> ColumnContext   once per column
//   type Step,          fn first_step() -> Step                      k = 0
//                       fn next_step(s: Step) -> Step                from k to k + 1
//   fn load_a(row: RowContext, k: Step) -> f32      element (m, k) of op(A), M×K
//   fn load_b(k: Step, column: ColumnContext) -> f32 element (k, n) of op(B), K×N
//   fn load_b_columns(k: Step, column: ColumnContext) -> vec4f
//                       elements (k, n … n + 3) in one load (only when B_VECTOR; n % 4 == 0)
// Users that never set B_VECTOR define load_b_columns from load_b (it is not called then).
// For a plain GEMM all three are just the index. For a convolution k is a tuple (channel,
// tap row, tap column) or (image, row, column): a Step carries it with additions, where
// decoding k every iteration would divide (slow on software Vulkan, where a vector
// division runs lane by lane).
// Accessors are only called with m < M, k < K, n < N, so they need no bounds checks of
// their own (zero padding and the like are theirs to handle).
// Bindings: none; the user declares them. Layout: whatever the accessors map.
// Dispatch: users run GROUP_WIDTH × GROUP_HEIGHT invocations per workgroup (override
// constants: 64 in all, or fewer when that leaves too few workgroups to share among
// threads; narrower for narrow C, so that no lane idles), each owning the BLOCK×BLOCK block
// of C whose top-left is (BLOCK·gid.y, BLOCK·gid.x): workgroups
// (ceil(N / (BLOCK·GROUP_WIDTH)), ceil(M / (BLOCK·GROUP_HEIGHT))). The user stores the
// block, skipping rows ≥ M and columns ≥ N.
// Why no workgroup memory, and BLOCK 8 for large products: on software Vulkan (lavapipe)
// every load from a storage buffer runs lane by lane with its own mask and bounds checks,
// so loads per product is what counts: 16 per 64 products at 8×8, 8 per 16 at 4×4 (1.7×
// slower per product). But an 8×8 pipeline takes 3–5× longer to compile (1–3 s), so small
// products, which run briefly, use 4×4 (TypeScript picks BLOCK and the workgroup shape:
// gemmDispatch, from the per-adapter table ctx.profile.gemmTuning that src/tune/gemm-autotune.ts
// can time). Real GPUs usually favour workgroup-memory tiles: gemm_tiles.wgsl, which the
// same table can choose for matmul and linear.
// Keep K out of override constants: a k loop with a compile-time trip count was compiled
// 1.6× slower by lavapipe (it spilled the accumulators).

// Rows and columns of C per invocation: 4 or 8.
override BLOCK: u32 = 8u;
// Load B four consecutive columns at a time (TypeScript sets it when B is stored [K, N] with
// N % 4 == 0; the sums are the same either way). On lavapipe every load runs lane by lane:
// this cuts B's loads 4× and measured 15–20 % less time on 1024³. Tried and dropped: four
// consecutive k per load for B stored [N, K], the k loop unrolled by 4 — twice as slow on
// lavapipe (more live registers; bench/NOTES.md).
override B_VECTOR: bool = false;
override GROUP_WIDTH: u32 = 8u;
override GROUP_HEIGHT: u32 = 64u / GROUP_WIDTH;

struct GemmSize { M: u32, N: u32, K: u32 }

// A block of C: [2·i] holds row i, columns 0–3; [2·i + 1] columns 4–7 (8×8 only).
alias GemmBlock = array<vec4f, 16>;

// The BLOCK×BLOCK block of op(A)·op(B) at (row0, col0). Rows and columns past the edge read
// the last valid row/column, so the inner loop has no branches; their results are not stored.
fn gemm_accumulate(row0: u32, col0: u32, size: GemmSize) -> GemmBlock {
  // BLOCK is a constant, so only one of these is compiled.
  if (BLOCK == 8u) { return accumulate_8x8(row0, col0, size); }
  return accumulate_4x4(row0, col0, size);
}

fn accumulate_4x4(row0: u32, col0: u32, size: GemmSize) -> GemmBlock {
  var acc: GemmBlock;
  let last_m = size.M - 1u;
  let last_n = size.N - 1u;
  let r0 = row_context(min(row0, last_m));
  let r1 = row_context(min(row0 + 1u, last_m));
  let r2 = row_context(min(row0 + 2u, last_m));
  let r3 = row_context(min(row0 + 3u, last_m));
  let c0 = column_context(min(col0, last_n));
  let c1 = column_context(min(col0 + 1u, last_n));
  let c2 = column_context(min(col0 + 2u, last_n));
  let c3 = column_context(min(col0 + 3u, last_n));
  var step = first_step();
  for (var k = 0u; k < size.K; k++) {
    var left: vec4f;
    if (B_VECTOR) {
      left = load_b_columns(step, c0);
    } else {
      left = vec4f(load_b(step, c0), load_b(step, c1), load_b(step, c2), load_b(step, c3));
    }
    acc[0] += load_a(r0, step) * left;
    acc[2] += load_a(r1, step) * left;
    acc[4] += load_a(r2, step) * left;
    acc[6] += load_a(r3, step) * left;
    step = next_step(step);
  }
  return acc;
}

fn accumulate_8x8(row0: u32, col0: u32, size: GemmSize) -> GemmBlock {
  var acc: GemmBlock;
  let last_m = size.M - 1u;
  let last_n = size.N - 1u;
  let r0 = row_context(min(row0, last_m));
  let r1 = row_context(min(row0 + 1u, last_m));
  let r2 = row_context(min(row0 + 2u, last_m));
  let r3 = row_context(min(row0 + 3u, last_m));
  let r4 = row_context(min(row0 + 4u, last_m));
  let r5 = row_context(min(row0 + 5u, last_m));
  let r6 = row_context(min(row0 + 6u, last_m));
  let r7 = row_context(min(row0 + 7u, last_m));
  let c0 = column_context(min(col0, last_n));
  let c1 = column_context(min(col0 + 1u, last_n));
  let c2 = column_context(min(col0 + 2u, last_n));
  let c3 = column_context(min(col0 + 3u, last_n));
  // With column vectors the right half's load starts at col0 + 4, or repeats the left half
  // when that is past the edge (N % 4 == 0, so a half is all in or all out).
  let c4 = column_context(select(min(col0 + 4u, last_n), select(col0, col0 + 4u, col0 + 4u < size.N), B_VECTOR));
  let c5 = column_context(min(col0 + 5u, last_n));
  let c6 = column_context(min(col0 + 6u, last_n));
  let c7 = column_context(min(col0 + 7u, last_n));
  var step = first_step();
  for (var k = 0u; k < size.K; k++) {
    var left: vec4f;
    var right: vec4f;
    if (B_VECTOR) {
      left = load_b_columns(step, c0);
      right = load_b_columns(step, c4);
    } else {
      left = vec4f(load_b(step, c0), load_b(step, c1), load_b(step, c2), load_b(step, c3));
      right = vec4f(load_b(step, c4), load_b(step, c5), load_b(step, c6), load_b(step, c7));
    }
    let a0 = load_a(r0, step);
    acc[0] += a0 * left;
    acc[1] += a0 * right;
    let a1 = load_a(r1, step);
    acc[2] += a1 * left;
    acc[3] += a1 * right;
    let a2 = load_a(r2, step);
    acc[4] += a2 * left;
    acc[5] += a2 * right;
    let a3 = load_a(r3, step);
    acc[6] += a3 * left;
    acc[7] += a3 * right;
    let a4 = load_a(r4, step);
    acc[8] += a4 * left;
    acc[9] += a4 * right;
    let a5 = load_a(r5, step);
    acc[10] += a5 * left;
    acc[11] += a5 * right;
    let a6 = load_a(r6, step);
    acc[12] += a6 * left;
    acc[13] += a6 * right;
    let a7 = load_a(r7, step);
    acc[14] += a7 * left;
    acc[15] += a7 * right;
    step = next_step(step);
  }
  return acc;
}
