// conv2d.wgsl — 2-D convolution forward as implicit GEMM, with a fused bias + ReLU epilogue:
//   y[n, o, oy, ox] = act(bias[o] + Σ_{c, ky, kx} w[o, c, ky, kx] · x[n, c, oy·s − p + ky, ox·s − p + kx])
// with x zero outside the image, act = ReLU when RELU, else identity. NCHW, f32.
// As GEMM (loop in gemm_core.wgsl, index helpers in conv2d_geometry.wgsl, both appended by
// TypeScript): rows M = batch·outHeight·outWidth (output pixels), columns N = outChannels,
// K = inChannels·kernelHeight·kernelWidth (filter taps). A = im2col(x), gathered on the fly
// by load_a (no im2col buffer); B = wᵀ, read in place. Stores map rows back to NCHW.
// Bindings: params (ConvParams); x [batch, inChannels, inHeight, inWidth], w [outChannels,
// inChannels, kernelHeight, kernelWidth], bias [outChannels] (read);
// y [batch, outChannels, outHeight, outWidth] (write).
// Dispatch: workgroups (ceil(outChannels / 32), ceil(M / 32)) of 8×8 invocations, each
// computing 4 output pixels × 4 output channels.

override RELU: bool = false;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

fn forward_size() -> GemmSize {
  return GemmSize(
    params.batch * params.outHeight * params.outWidth,
    params.outChannels,
    params.inChannels * KERNEL_HEIGHT * KERNEL_WIDTH,
  );
}

// im2col(x)[m, k]: output pixel m seen through filter tap k.
fn load_a(m: u32, k: u32) -> f32 {
  let index = im2col_index(m, k);
  return select(0.0, x[max(index, 0)], index >= 0);
}

// wᵀ[k, o]: w is [outChannels, K] row-major.
fn load_b(k: u32, o: u32) -> f32 {
  return w[o * forward_size().K + k];
}

@compute @workgroup_size(8, 8)
fn conv2d(@builtin(global_invocation_id) gid: vec3u) {
  let size = forward_size();
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= size.M || col0 >= size.N) { return; }
  let acc = gemm_accumulate(row0, col0, size);
  let out_plane = params.outHeight * params.outWidth;
  for (var i = 0u; i < 4u; i++) {
    let m = row0 + i;
    if (m >= size.M) { break; }
    let image = m / out_plane;
    let pixel = m % out_plane;
    for (var j = 0u; j < 4u; j++) {
      let o = col0 + j;
      if (o >= size.N) { break; }
      var v = acc[i][j] + bias[o];
      if (RELU) { v = max(v, 0.0); }
      y[(image * size.N + o) * out_plane + pixel] = v;
    }
  }
}
