// conv2d_backward_filter.wgsl — gradient of conv2d with respect to its weights as implicit GEMM:
//   dw[o, c, ky, kx] = Σ_{n, oy, ox} dy[n, o, oy, ox] · x[n, c, oy·s − p + ky, ox·s − p + kx]
// with x zero outside the image. NCHW, f32.
// As GEMM (loop in gemm_core.wgsl, index helpers in conv2d_geometry.wgsl, both appended by
// TypeScript): dw = dyᵀ · im2col(x) with rows M = outChannels, columns
// N = inChannels·kernelHeight·kernelWidth (filter taps), K = batch·outHeight·outWidth
// (output pixels). load_a reads dy in place; load_b gathers im2col(x) on the fly (no
// im2col buffer). The [M, N] result is dw's own layout.
// Bindings: params (ConvParams); dy [batch, outChannels, outHeight, outWidth],
// x [batch, inChannels, inHeight, inWidth] (read); dw [outChannels, inChannels,
// kernelHeight, kernelWidth] (write).
// Dispatch: workgroups (ceil(N / 32), ceil(outChannels / 32)) of 8×8 invocations, each
// computing 4 output channels × 4 filter taps.

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

fn backward_filter_size() -> GemmSize {
  return GemmSize(
    params.outChannels,
    params.inChannels * KERNEL_HEIGHT * KERNEL_WIDTH,
    params.batch * params.outHeight * params.outWidth,
  );
}

// dyᵀ[o, k] for output pixel k = (n, oy, ox).
fn load_a(o: u32, k: u32) -> f32 {
  let out_plane = params.outHeight * params.outWidth;
  return dy[((k / out_plane) * params.outChannels + o) * out_plane + k % out_plane];
}

// im2col(x)[k, t]: output pixel k seen through filter tap t.
fn load_b(k: u32, t: u32) -> f32 {
  let index = im2col_index(k, t);
  return select(0.0, x[max(index, 0)], index >= 0);
}

@compute @workgroup_size(8, 8)
fn conv2d_backward_filter(@builtin(global_invocation_id) gid: vec3u) {
  let size = backward_filter_size();
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= size.M || col0 >= size.N) { return; }
  let acc = gemm_accumulate(row0, col0, size);
  for (var i = 0u; i < 4u; i++) {
    if (row0 + i >= size.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col0 + j >= size.N) { break; }
      dw[(row0 + i) * size.N + col0 + j] = acc[i][j];
    }
  }
}
