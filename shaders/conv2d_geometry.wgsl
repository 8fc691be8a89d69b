// conv2d_geometry.wgsl — sizes of a 2-D convolution and the sliding-window index arithmetic
// shared by conv2d.wgsl, conv2d_backward_input.wgsl and conv2d_backward_filter.wgsl
// (TypeScript appends it to each, with gemm_core.wgsl). Not a shader on its own.
// Layout: NCHW images x [batch, inChannels, inHeight, inWidth] and
// y [batch, outChannels, outHeight, outWidth]; weights [outChannels, inChannels,
// KERNEL_HEIGHT, KERNEL_WIDTH]; all f32, row-major. Output pixel (oy, ox) sees input pixel
// (oy·STRIDE_H − padTop + ky·DILATION_H, ox·STRIDE_W − padLeft + kx·DILATION_W) through
// filter tap (ky, kx); input pixels outside the image read as zero (the bottom and right
// padding only decide outHeight and outWidth).
// Bindings: params (binding 0), the one uniform of every conv2d entry point: the sizes.
// Kernel size, strides and dilations are override constants (one pipeline per kernel size,
// stride and dilation); the sizes are not, so that layers and tests of other shapes share
// pipelines (each costs 0.2–3 s to compile on lavapipe). The k loop steps by additions
// (Step in gemm_core.wgsl), so what divides by a uniform runs once per invocation, not
// per product.
// Dispatch: none of its own.

// The phase* to dyPad* fields are conv2d_backward_input's phase (zeros for the other
// passes; src/ops/conv2d-geometry.ts, inputPhases, computes them).
struct ConvParams {
  batch: u32,
  inChannels: u32,
  inHeight: u32,
  inWidth: u32,
  outChannels: u32,
  outHeight: u32,
  outWidth: u32,
  padTop: u32,
  padLeft: u32,
  phaseRow: u32,
  phaseColumn: u32,
  phaseRows: u32,
  phaseColumns: u32,
  firstTapRow: u32,
  firstTapColumn: u32,
  tapStepRow: u32,
  tapStepColumn: u32,
  tapRows: u32,
  tapColumns: u32,
  dyDilationRow: u32,
  dyDilationColumn: u32,
  dyPadTop: i32,
  dyPadLeft: i32,
}

override KERNEL_HEIGHT: u32;
override KERNEL_WIDTH: u32;
override STRIDE_H: u32;
override STRIDE_W: u32;
override DILATION_H: u32 = 1u;
override DILATION_W: u32 = 1u;

@group(0) @binding(0) var<uniform> params: ConvParams;

// A kernel_height×kernel_width window, its taps dilation_h/dilation_w apart, sliding over a
// batch of channels×height×width source images, one position per pixel of a
// grid_height×grid_width grid, stride_h/stride_w apart; the window of grid pixel (0, 0)
// starts at (−pad_top, −pad_left), outside the image when the padding is positive.
struct Sliding {
  channels: u32,
  height: u32,
  width: u32,
  grid_height: u32,
  grid_width: u32,
  kernel_height: u32,
  kernel_width: u32,
  stride_h: u32,
  stride_w: u32,
  dilation_h: u32,
  dilation_w: u32,
  pad_top: i32,
  pad_left: i32,
}

// The window of one grid pixel: its top-left corner (top, left) in source coordinates and
// the flat index `start` of that corner in the batch of source images (out of range in the
// padding; only ever used plus a tap that lands inside the image).
struct Window { start: i32, top: i32, left: i32 }

// One filter tap (channel, ky, kx): its offset from a window's start (dilated) and (ky, kx),
// undilated. Three fields, as before dilations: the k loop carries a Tap, and on lavapipe
// more live registers there cost time; where the dilation is an override constant of 1
// the multiplications below fold away.
struct Tap { offset: i32, ky: i32, kx: i32 }

fn window_at(s: Sliding, pixel: u32) -> Window {
  let grid_plane = s.grid_height * s.grid_width;
  let within = pixel % grid_plane;
  let top = i32(within / s.grid_width * s.stride_h) - s.pad_top;
  let left = i32(within % s.grid_width * s.stride_w) - s.pad_left;
  let image_start = pixel / grid_plane * s.channels * s.height * s.width;
  return Window(i32(image_start) + top * i32(s.width) + left, top, left);
}

// The window of the next grid pixel (row-major over images, rows, columns): additions only.
fn next_window(s: Sliding, w: Window) -> Window {
  let stride_h = i32(s.stride_h);
  let stride_w = i32(s.stride_w);
  var next = Window(w.start + stride_w, w.top, w.left + stride_w);
  if (next.left == i32(s.grid_width) * stride_w - s.pad_left) {
    next.left = -s.pad_left;
    next.top += stride_h;
    next.start += stride_h * i32(s.width) - i32(s.grid_width) * stride_w;
    if (next.top == i32(s.grid_height) * stride_h - s.pad_top) {
      next.top = -s.pad_top;
      next.start += (i32(s.channels * s.height) - i32(s.grid_height) * stride_h) * i32(s.width);
    }
  }
  return next;
}

fn tap_at(s: Sliding, index: u32) -> Tap {
  let taps = s.kernel_height * s.kernel_width;
  let within = index % taps;
  let ky = within / s.kernel_width;
  let kx = within % s.kernel_width;
  return Tap(i32((index / taps * s.height + ky * s.dilation_h) * s.width + kx * s.dilation_w), i32(ky), i32(kx));
}

// The next filter tap (row-major over channels, rows, columns): additions only.
fn next_tap(s: Sliding, t: Tap) -> Tap {
  let dilation_h = i32(s.dilation_h);
  let dilation_w = i32(s.dilation_w);
  var next = Tap(t.offset + dilation_w, t.ky, t.kx + 1);
  if (next.kx == i32(s.kernel_width)) {
    next.kx = 0;
    next.ky += 1;
    next.offset += dilation_h * i32(s.width) - i32(s.kernel_width) * dilation_w;
    if (next.ky == i32(s.kernel_height)) {
      next.ky = 0;
      next.offset += (i32(s.height) - i32(s.kernel_height) * dilation_h) * i32(s.width);
    }
  }
  return next;
}

// Flat index into the source of what window w sees through tap t, or −1 in the padding.
fn source_index(s: Sliding, w: Window, t: Tap) -> i32 {
  // Negative coordinates wrap to large u32s, so one comparison per axis checks both ends.
  let inside = u32(w.top + t.ky * i32(s.dilation_h)) < s.height && u32(w.left + t.kx * i32(s.dilation_w)) < s.width;
  return select(-1, w.start + t.offset, inside);
}
