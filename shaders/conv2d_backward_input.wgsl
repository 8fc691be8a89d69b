// conv2d_backward_input.wgsl — gradient of conv2d with respect to its input x (a transposed
// convolution) as implicit GEMM:
//   dx[n, c, iy, ix] = Σ_{o, ky, kx} dy[n, o, oy, ox] · w[o, c, ky, kx]
// over the taps where oy·s − p + ky = iy and ox·s − p + kx = ix for an output pixel
// (oy, ox) inside dy. NCHW, f32.
// As GEMM (loop in gemm_core.wgsl, index helpers in conv2d_geometry.wgsl, both appended by
// TypeScript): rows M = batch·inHeight·inWidth (input pixels), columns N = inChannels,
// K = outChannels·kernelHeight·kernelWidth. load_a gathers dy where iy + p − ky is a
// non-negative multiple of s (and likewise for columns), else 0, so stride s > 1 is exact
// (only 1/s² of the K terms are non-zero); load_b reads w in place.
// Bindings: params (ConvParams); dy [batch, outChannels, outHeight, outWidth], w [outChannels,
// inChannels, kernelHeight, kernelWidth] (read); dx [batch, inChannels, inHeight, inWidth] (write).
// Dispatch: workgroups (ceil(inChannels / 32), ceil(M / 32)) of 8×8 invocations, each
// computing 4 input pixels × 4 input channels.

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

fn backward_input_size() -> GemmSize {
  return GemmSize(
    params.batch * params.inHeight * params.inWidth,
    params.inChannels,
    params.outChannels * KERNEL_HEIGHT * KERNEL_WIDTH,
  );
}

// Output row (or column) that reaches input row (or column) `in_coordinate` through tap
// row (or column) `tap`, or -1 where none does (in = out·s − p + tap has no solution).
fn output_coordinate(in_coordinate: u32, tap: u32) -> i32 {
  let shifted = i32(in_coordinate + params.padding) - i32(tap);
  let stride = i32(STRIDE);
  return select(-1, shifted / stride, shifted >= 0 && shifted % stride == 0);
}

// dy at the output pixel that input pixel m reaches through (output channel, tap) k, or 0.
fn load_a(m: u32, k: u32) -> f32 {
  let in_pixel = split_pixel(m, params.inHeight, params.inWidth);
  let tap = split_tap(k);
  let plane_start = (in_pixel.x * params.outChannels + tap.x) * params.outHeight * params.outWidth;
  let row = output_coordinate(in_pixel.y, tap.y);
  let col = output_coordinate(in_pixel.z, tap.z);
  let index = plane_index(plane_start, row, col, params.outHeight, params.outWidth);
  return select(0.0, dy[max(index, 0)], index >= 0);
}

// w[o, c, ky, kx] for k = (o, ky, kx).
fn load_b(k: u32, c: u32) -> f32 {
  let tap = split_tap(k);
  return w[((tap.x * params.inChannels + c) * KERNEL_HEIGHT + tap.y) * KERNEL_WIDTH + tap.z];
}

@compute @workgroup_size(8, 8)
fn conv2d_backward_input(@builtin(global_invocation_id) gid: vec3u) {
  let size = backward_input_size();
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= size.M || col0 >= size.N) { return; }
  let acc = gemm_accumulate(row0, col0, size);
  let in_plane = params.inHeight * params.inWidth;
  for (var i = 0u; i < 4u; i++) {
    let m = row0 + i;
    if (m >= size.M) { break; }
    let image = m / in_plane;
    let pixel = m % in_plane;
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + j;
      if (c >= size.N) { break; }
      dx[(image * size.N + c) * in_plane + pixel] = acc[i][j];
    }
  }
}
