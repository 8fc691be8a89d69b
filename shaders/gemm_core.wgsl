// gemm_core.wgsl — the register-blocked GEMM loop, written once and shared by gemm.wgsl
// (matmul, linear) and the conv2d*.wgsl passes (convolution as implicit GEMM).
// Not a shader on its own: TypeScript appends it to a file that defines the operands
// through accessors (as TensorFlow.js's mm_readA / mm_readB), split so that the work that
// depends on one row, one column or one k is done once, not once per product:
//   type RowContext,    fn row_context(m: u32) -> RowContext         once per row of a block
//   type ColumnContext, fn column_context(n: u32) -> ColumnContext   once per column
//   type Step,          fn step_at(k: u32) -> Step                   once per invocation
//                       fn next_step(s: Step) -> Step                from k to k + 1
//   fn load_a(row: RowContext, k: Step) -> f32      element (m, k) of op(A), M×K
//   fn load_b(k: Step, column: ColumnContext) -> f32 element (k, n) of op(B), K×N
// For a plain GEMM all three are just the index. For a convolution k is a tuple (channel,
// tap row, tap column) or (image, row, column): a Step carries it with additions, where
// decoding k every iteration would divide (slow on software Vulkan, where a vector
// division runs lane by lane).
// Accessors are only called with m < M, k < K, n < N, so they need no bounds checks of
// their own (zero padding and the like are theirs to handle).
// Bindings: none; the user declares them. Layout: whatever the accessors map.
// Dispatch: users run 8×8 invocations per workgroup, each owning the 4×4 block of C whose
// top-left is (4·gid.y, 4·gid.x): workgroups (ceil(N / 32), ceil(M / 32)), or give each
// invocation a slice of k through gemm_accumulate_range and add the slices up. The user
// stores the block, skipping rows ≥ M and columns ≥ N.

struct GemmSize { M: u32, N: u32, K: u32 }

fn gemm_accumulate(row0: u32, col0: u32, size: GemmSize) -> array<vec4f, 4> {
  return gemm_accumulate_range(row0, col0, size, 0u, size.K);
}

// The 4×4 block of op(A)·op(B) at (row0, col0), summed over k_begin ≤ k < k_end. Rows and
// columns past the edge read the last valid row/column, so the inner loop has no branches;
// their results are not stored.
fn gemm_accumulate_range(row0: u32, col0: u32, size: GemmSize, k_begin: u32, k_end: u32) -> array<vec4f, 4> {
  var acc: array<vec4f, 4>;
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
  var step = step_at(k_begin);
  for (var k = k_begin; k < k_end; k++) {
    let bv = vec4f(load_b(step, c0), load_b(step, c1), load_b(step, c2), load_b(step, c3));
    acc[0] += load_a(r0, step) * bv;
    acc[1] += load_a(r1, step) * bv;
    acc[2] += load_a(r2, step) * bv;
    acc[3] += load_a(r3, step) * bv;
    step = next_step(step);
  }
  return acc;
}
