// conv2d.wgsl — 2-D convolution forward as implicit GEMM, with a fused bias + ReLU epilogue:
//   y[n, o, oy, ox] = act(bias[o] + Σ_{c, ky, kx} w[o, c, ky, kx] · x[n, c, oy·s − p + ky, ox·s − p + kx])
// with x zero outside the image, act = ReLU when RELU, else identity. NCHW, f32.
// As GEMM (loop in gemm_core.wgsl, index helpers in conv2d_geometry.wgsl, both appended by
// TypeScript): rows M = batch·outHeight·outWidth (output pixels), columns N = outChannels,
// K = inChannels·kernelHeight·kernelWidth (filter taps). A = im2col(x), gathered on the fly
// by load_a (no im2col buffer), stepping from one filter tap to the next by additions;
// B = wᵀ, read in place. Stores map rows back to NCHW.
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

override FORWARD_TAPS: u32 = IN_CHANNELS * KERNEL_HEIGHT * KERNEL_WIDTH;

fn forward_size() -> GemmSize {
  return GemmSize(params.batch * OUT_HEIGHT * OUT_WIDTH, OUT_CHANNELS, FORWARD_TAPS);
}

// The filter window slides over x, one position per output pixel.
fn sliding() -> Sliding {
  return Sliding(IN_CHANNELS, IN_HEIGHT, IN_WIDTH, OUT_HEIGHT, OUT_WIDTH, KERNEL_HEIGHT, KERNEL_WIDTH, STRIDE, i32(PADDING), i32(PADDING));
}

// Row m (an output pixel): its window on x. Column o: where w's row o starts. k: the
// filter tap, carried as its offset within a window and as its flat index into w's row.
alias RowContext = Window;
alias ColumnContext = u32;
struct Step { tap: Tap, k: u32 }

fn row_context(m: u32) -> Window { return window_at(sliding(), m); }
fn column_context(o: u32) -> u32 { return o * FORWARD_TAPS; }
fn step_at(k: u32) -> Step { return Step(tap_at(sliding(), k), k); }
fn next_step(s: Step) -> Step { return Step(next_tap(sliding(), s.tap), s.k + 1u); }

// im2col(x)[m, k]: output pixel m seen through filter tap k.
fn load_a(window: Window, s: Step) -> f32 {
  let index = source_index(sliding(), window, s.tap);
  return select(0.0, x[max(index, 0)], index >= 0);
}

// wᵀ[k, o]: w is [outChannels, K] row-major.
fn load_b(s: Step, row_start: u32) -> f32 {
  return w[row_start + s.k];
}

@compute @workgroup_size(8, 8)
fn conv2d(@builtin(global_invocation_id) gid: vec3u) {
  let size = forward_size();
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= size.M || col0 >= size.N) { return; }
  let acc = gemm_accumulate(row0, col0, size);
  let out_plane = OUT_HEIGHT * OUT_WIDTH;
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
