// conv2d_backward_input.wgsl — gradient of conv2d with respect to its input x (a transposed
// convolution) as implicit GEMM:
//   dx[n, c, iy, ix] = Σ_{o, ky, kx} dy[n, o, oy, ox] · w[o, c, ky, kx]
// over the taps where oy·sh − pt + ky·dh = iy and ox·sw − pl + kx·dw = ix for an output
// pixel (oy, ox) inside dy (strides sh, sw, top/left pads pt, pl, dilations dh, dw). NCHW, f32.
// Split by phase (iy mod sh, ix mod sw), one dispatch each: within a phase the taps that
// reach a pixel are the same for all its pixels (ky·dh ≡ iy + pt mod sh: ky = firstTapRow,
// firstTapRow + tapStepRow, …, with tapStepRow = sh / gcd(sh, dh)), so each phase is a
// dense stride-1 correlation of dy (dilated by dh / gcd(sh, dh)) with a sub-filter of w
// taken in reverse, and no work is spent on the taps that miss (stride 1, dilation 1 is the
// single phase: dy padded by k − 1 − p, w flipped). TypeScript (inputPhases in
// src/ops/conv2d-geometry.ts) computes each phase's taps and padding into the uniform; a
// phase no tap reaches has K = 0 and gets zeros.
// As GEMM (loop in gemm_core.wgsl, index helpers in conv2d_geometry.wgsl, both appended by
// TypeScript): rows M = batch·phaseRows·phaseColumns (the phase's input pixels), columns
// N = inChannels, K = outChannels·tapRows·tapColumns. load_a gathers dy (0 outside it);
// load_b reads w in place.
// Bindings: params (ConvParams); dy [batch, outChannels, outHeight, outWidth], w [outChannels,
// inChannels, kernelHeight, kernelWidth] (read); dx [batch, inChannels, inHeight, inWidth]
// (write; each phase writes its own pixels).
// Dispatch: per phase, workgroups (ceil(inChannels / (BLOCK·GROUP_WIDTH)),
// ceil(M / (BLOCK·GROUP_HEIGHT))) of GROUP_WIDTH × GROUP_HEIGHT = 64 invocations
// (gemm_core.wgsl), each computing BLOCK input pixels × BLOCK input channels (4 or 8).
// Phases without pixels (stride > input size) are not dispatched.
// Operands: dy and w hold `Operand`s, f32 (lib/operand_f32.wgsl) or f16 (lib/operand_f16.wgsl,
// with `enable f16;` put in front of this file by TypeScript); loads convert to f32, so sums
// and the result are f32 either way.

@group(0) @binding(1) var<storage, read> dy: array<Operand>;
@group(0) @binding(2) var<storage, read> w: array<Operand>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

fn backward_input_size() -> GemmSize {
  let p = params;
  return GemmSize(p.batch * p.phaseRows * p.phaseColumns, p.inChannels, p.outChannels * p.tapRows * p.tapColumns);
}

// Phase pixel (qy, qx) reads dy row qy − dyPadTop + j'·dyDilationRow through reversed tap
// row j' (tap ky = firstTapRow + tapStepRow·(tapRows − 1 − j')): a stride-1 window over dy.
fn sliding() -> Sliding {
  let p = params;
  return Sliding(p.outChannels, p.outHeight, p.outWidth, p.phaseRows, p.phaseColumns, p.tapRows, p.tapColumns, 1u, 1u, p.dyDilationRow, p.dyDilationColumn, p.dyPadTop, p.dyPadLeft);
}

// Row m (a phase pixel): its window on dy. Column c: where input channel c's filter starts
// within w[o]. k = (o, j', i'): the tap, and the output channel o it belongs to.
alias RowContext = Window;
alias ColumnContext = u32;
struct Step { tap: Tap, channel: u32 }

fn row_context(m: u32) -> Window { return window_at(sliding(), m); }
fn column_context(c: u32) -> u32 { return c * KERNEL_HEIGHT * KERNEL_WIDTH; }

fn first_step() -> Step { return Step(Tap(0, 0, 0), 0u); }

fn next_step(s: Step) -> Step {
  let tap = next_tap(sliding(), s.tap);
  return Step(tap, s.channel + select(0u, 1u, tap.ky == 0 && tap.kx == 0));
}

// dy at the output pixel that phase pixel m reaches through tap k, or 0 in the padding.
fn load_a(window: Window, s: Step) -> f32 {
  let index = source_index(sliding(), window, s.tap);
  return select(0.0, f32(dy[max(index, 0)]), index >= 0);
}

// w[o, c, ky, kx] for tap (o, j', i') of this phase.
fn load_b(s: Step, filter_start: u32) -> f32 {
  let p = params;
  let ky = p.firstTapRow + p.tapStepRow * (p.tapRows - 1u - u32(s.tap.ky));
  let kx = p.firstTapColumn + p.tapStepColumn * (p.tapColumns - 1u - u32(s.tap.kx));
  return f32(w[(s.channel * p.inChannels * KERNEL_HEIGHT + ky) * KERNEL_WIDTH + filter_start + kx]);
}

// Input pixel m of the phase: its values for channels col0 … col0 + BLOCK − 1, those past the last
// channel skipped.
fn store_pixel(m: u32, col0: u32, size: GemmSize, left: vec4f, right: vec4f) {
  if (m >= size.M) { return; }
  let phase_plane = params.phaseRows * params.phaseColumns;
  let within = m % phase_plane;
  let iy = params.phaseRow + STRIDE_H * (within / params.phaseColumns);
  let ix = params.phaseColumn + STRIDE_W * (within % params.phaseColumns);
  let in_plane = params.inHeight * params.inWidth;
  let start = m / phase_plane * size.N * in_plane + iy * params.inWidth + ix;
  for (var j = 0u; j < BLOCK; j++) {
    let c = col0 + j;
    if (c >= size.N) { return; }
    dx[start + c * in_plane] = select(right[j % 4u], left[j % 4u], j < 4u);
  }
}

@compute @workgroup_size(GROUP_WIDTH, GROUP_HEIGHT)
fn conv2d_backward_input(@builtin(global_invocation_id) gid: vec3u) {
  let size = backward_input_size();
  let row0 = gid.y * BLOCK;
  let col0 = gid.x * BLOCK;
  if (row0 >= size.M || col0 >= size.N) { return; }
  let acc = gemm_accumulate(row0, col0, size);
  for (var i = 0u; i < BLOCK; i++) { store_pixel(row0 + i, col0, size, acc[2u * i], acc[2u * i + 1u]); }
}

// Not called: convolutions load B one element at a time (the GEMM core's B_VECTOR is false).
fn load_b_columns(s: Step, column: ColumnContext) -> vec4f {
  return vec4f(load_b(s, column));
}
