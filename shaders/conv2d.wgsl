// conv2d.wgsl — 2-D convolution forward as implicit GEMM, with a fused bias + ReLU epilogue:
//   y[n, o, oy, ox] = act(bias[o] + Σ_{c, ky, kx} w[o, c, ky, kx] · x[n, c, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw])
// (strides sh, sw, top/left pads pt, pl, dilations dh, dw) with x zero outside the image, act = ReLU when RELU, else identity. NCHW, f32.
// As GEMM (loop in gemm_core.wgsl, index helpers in conv2d_geometry.wgsl, both appended by
// TypeScript): rows M = batch·outHeight·outWidth (output pixels), columns N = outChannels,
// K = inChannels·kernelHeight·kernelWidth (filter taps). A = im2col(x), gathered on the fly
// by load_a (no im2col buffer), stepping from one filter tap to the next by additions;
// B = wᵀ, read in place. Stores map rows back to NCHW.
// Bindings: params (ConvParams); x [batch, inChannels, inHeight, inWidth], w [outChannels,
// inChannels, kernelHeight, kernelWidth], bias [outChannels] (read);
// y [batch, outChannels, outHeight, outWidth] (write).
// Dispatch: workgroups (ceil(outChannels / (BLOCK·GROUP_WIDTH)),
// ceil(M / (BLOCK·GROUP_HEIGHT))) of GROUP_WIDTH × GROUP_HEIGHT = 64 invocations
// (gemm_core.wgsl), each computing BLOCK output pixels × BLOCK output channels (4 or 8).
// Operands: x and w hold `Operand`s, f32 (lib/operand_f32.wgsl) or f16 (lib/operand_f16.wgsl,
// with `enable f16;` put in front of this file by TypeScript); loads convert to f32, so sums
// and the result are f32 either way.

override RELU: bool = false;

@group(0) @binding(1) var<storage, read> x: array<Operand>;
@group(0) @binding(2) var<storage, read> w: array<Operand>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

fn forward_size() -> GemmSize {
  return GemmSize(params.batch * params.outHeight * params.outWidth, params.outChannels, params.inChannels * KERNEL_HEIGHT * KERNEL_WIDTH);
}

// The filter window slides over x, one position per output pixel.
fn sliding() -> Sliding {
  let p = params;
  return Sliding(p.inChannels, p.inHeight, p.inWidth, p.outHeight, p.outWidth, KERNEL_HEIGHT, KERNEL_WIDTH, STRIDE_H, STRIDE_W, DILATION_H, DILATION_W, i32(p.padTop), i32(p.padLeft));
}

// Row m (an output pixel): its window on x. Column o: where w's row o starts. k: the
// filter tap, carried as its offset within a window and as its flat index into w's row.
alias RowContext = Window;
alias ColumnContext = u32;
struct Step { tap: Tap, k: u32 }

fn row_context(m: u32) -> Window { return window_at(sliding(), m); }
fn column_context(o: u32) -> u32 { return o * forward_size().K; }
fn first_step() -> Step { return Step(Tap(0, 0, 0), 0u); }
fn next_step(s: Step) -> Step { return Step(next_tap(sliding(), s.tap), s.k + 1u); }

// im2col(x)[m, k]: output pixel m seen through filter tap k.
fn load_a(window: Window, s: Step) -> f32 {
  let index = source_index(sliding(), window, s.tap);
  return select(0.0, f32(x[max(index, 0)]), index >= 0);
}

// wᵀ[k, o]: w is [outChannels, K] row-major.
fn load_b(s: Step, row_start: u32) -> f32 {
  return f32(w[row_start + s.k]);
}

// Output pixel m's values for channels col0 … col0 + BLOCK − 1, bias (bias_left/right, the
// block's columns) and ReLU applied, those past the last channel skipped.
fn store_pixel(m: u32, col0: u32, size: GemmSize, left: vec4f, right: vec4f) {
  if (m >= size.M) { return; }
  let out_plane = params.outHeight * params.outWidth;
  let start = m / out_plane * size.N * out_plane + m % out_plane;
  for (var j = 0u; j < BLOCK; j++) {
    let o = col0 + j;
    if (o >= size.N) { return; }
    var v = select(right[j % 4u], left[j % 4u], j < 4u);
    if (RELU) { v = max(v, 0.0); }
    y[start + o * out_plane] = v;
  }
}

@compute @workgroup_size(GROUP_WIDTH, GROUP_HEIGHT)
fn conv2d(@builtin(global_invocation_id) gid: vec3u) {
  let size = forward_size();
  let row0 = gid.y * BLOCK;
  let col0 = gid.x * BLOCK;
  if (row0 >= size.M || col0 >= size.N) { return; }
  let acc = gemm_accumulate(row0, col0, size);
  // The block's biases, loaded once rather than once per pixel.
  let last_o = size.N - 1u;
  var bias_left: vec4f;
  var bias_right: vec4f;
  for (var j = 0u; j < 4u; j++) {
    bias_left[j] = bias[min(col0 + j, last_o)];
    if (BLOCK == 8u) { bias_right[j] = bias[min(col0 + 4u + j, last_o)]; }
  }
  for (var i = 0u; i < BLOCK; i++) { store_pixel(row0 + i, col0, size, acc[2u * i] + bias_left, acc[2u * i + 1u] + bias_right); }
}

// Not called: convolutions load B one element at a time (the GEMM core's B_VECTOR is false).
fn load_b_columns(s: Step, column: ColumnContext) -> vec4f {
  return vec4f(load_b(s, column));
}
