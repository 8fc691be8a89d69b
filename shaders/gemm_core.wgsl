// gemm_core.wgsl — the register-blocked GEMM loop, written once and shared by gemm.wgsl
// (matmul, linear) and the conv2d*.wgsl passes (convolution as implicit GEMM).
// Not a shader on its own: TypeScript appends it to a file that defines the operands
// through accessors (as TensorFlow.js's mm_readA / mm_readB):
//   fn load_a(m: u32, k: u32) -> f32   element (m, k) of op(A), M×K
//   fn load_b(k: u32, n: u32) -> f32   element (k, n) of op(B), K×N
// Accessors are only called with m < M, k < K, n < N, so they need no bounds checks of
// their own (zero padding and the like are theirs to handle).
// Bindings: none; the user declares them. Layout: whatever the accessors map.
// Dispatch: users run 8×8 invocations per workgroup, each owning the 4×4 block of C whose
// top-left is (4·gid.y, 4·gid.x): workgroups (ceil(N / 32), ceil(M / 32)). The user stores
// the block, skipping rows ≥ M and columns ≥ N.

struct GemmSize { M: u32, N: u32, K: u32 }

// The 4×4 block of op(A)·op(B) at (row0, col0). Rows/columns past the edge read the last
// valid row/column, so the inner loop has no branches; their results are not stored.
fn gemm_accumulate(row0: u32, col0: u32, size: GemmSize) -> array<vec4f, 4> {
  var acc: array<vec4f, 4>;
  let last_m = size.M - 1u;
  let last_n = size.N - 1u;
  let r = vec4u(min(row0, last_m), min(row0 + 1u, last_m), min(row0 + 2u, last_m), min(row0 + 3u, last_m));
  let n = vec4u(min(col0, last_n), min(col0 + 1u, last_n), min(col0 + 2u, last_n), min(col0 + 3u, last_n));
  for (var k = 0u; k < size.K; k++) {
    let bv = vec4f(load_b(k, n.x), load_b(k, n.y), load_b(k, n.z), load_b(k, n.w));
    acc[0] += load_a(r.x, k) * bv;
    acc[1] += load_a(r.y, k) * bv;
    acc[2] += load_a(r.z, k) * bv;
    acc[3] += load_a(r.w, k) * bv;
  }
  return acc;
}
