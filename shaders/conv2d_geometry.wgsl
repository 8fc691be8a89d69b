// conv2d_geometry.wgsl — sizes and index arithmetic of a 2-D convolution, shared by
// conv2d.wgsl, conv2d_backward_input.wgsl and conv2d_backward_filter.wgsl (TypeScript
// appends it to each, with gemm_core.wgsl). Not a shader on its own.
// Layout: NCHW images x [batch, inChannels, inHeight, inWidth] and
// y [batch, outChannels, outHeight, outWidth]; weights [outChannels, inChannels,
// kernelHeight, kernelWidth]; all f32, row-major. Output pixel (oy, ox) sees input pixel
// (oy·stride − padding + ky, ox·stride − padding + kx) through filter tap (ky, kx); input
// pixels outside the image read as zero.
// Bindings: params (binding 0), the one uniform of every conv2d entry point. Kernel size
// and stride are override constants instead (KERNEL_HEIGHT, KERNEL_WIDTH, STRIDE).
// Dispatch: none of its own.

struct ConvParams {
  batch: u32,
  inChannels: u32,
  inHeight: u32,
  inWidth: u32,
  outChannels: u32,
  outHeight: u32,
  outWidth: u32,
  padding: u32,
}

// Compile-time, so that the index arithmetic divides by constants: on software Vulkan a
// division by a uniform costs the backward input pass 3× (one pipeline per kernel size
// and stride instead).
override KERNEL_HEIGHT: u32;
override KERNEL_WIDTH: u32;
override STRIDE: u32;

@group(0) @binding(0) var<uniform> params: ConvParams;

// (image, row, col) of the flat pixel index (image·height + row)·width + col; the same
// split gives (channel, ky, kx) of a flat filter tap index.
fn split_pixel(index: u32, height: u32, width: u32) -> vec3u {
  let plane = height * width;
  let within = index % plane;
  return vec3u(index / plane, within / width, within % width);
}

fn split_tap(index: u32) -> vec3u {
  return split_pixel(index, KERNEL_HEIGHT, KERNEL_WIDTH);
}

// Input row (or column) that output row (or column) `out_coordinate` sees through filter
// tap row (or column) `tap`.
fn input_coordinate(out_coordinate: u32, tap: u32) -> i32 {
  return i32(out_coordinate * STRIDE + tap) - i32(params.padding);
}

// Index of (row, col) in the height×width plane starting at `plane_start`, or -1 where
// (row, col) lies outside it (the zero padding).
fn plane_index(plane_start: u32, row: i32, col: i32, height: u32, width: u32) -> i32 {
  let inside = row >= 0 && col >= 0 && row < i32(height) && col < i32(width);
  return select(-1, i32(plane_start) + row * i32(width) + col, inside);
}

// Index into x of im2col(x)[pixel, tap]: the input value that output pixel `pixel` (flat
// over batch·outHeight·outWidth) sees through filter tap `tap` (flat over
// inChannels·kernelHeight·kernelWidth); -1 in the zero padding.
fn im2col_index(pixel: u32, tap: u32) -> i32 {
  let out_pixel = split_pixel(pixel, params.outHeight, params.outWidth);
  let filter_tap = split_tap(tap);
  let plane_start = (out_pixel.x * params.inChannels + filter_tap.x) * params.inHeight * params.inWidth;
  let row = input_coordinate(out_pixel.y, filter_tap.y);
  let col = input_coordinate(out_pixel.z, filter_tap.z);
  return plane_index(plane_start, row, col, params.inHeight, params.inWidth);
}
