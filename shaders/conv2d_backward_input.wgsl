// conv2d_backward_input.wgsl — gradient of conv2d with respect to its input x (a transposed
// convolution) as implicit GEMM:
//   dx[n, c, iy, ix] = Σ_{o, ky, kx} dy[n, o, oy, ox] · w[o, c, ky, kx]
// over the taps where oy·s − p + ky = iy and ox·s − p + kx = ix for an output pixel
// (oy, ox) inside dy. NCHW, f32.
// Split by phase (iy mod s, ix mod s), one dispatch each: within a phase the taps that
// reach a pixel are the same for all its pixels (ky ≡ iy + p mod s), so each phase is a
// dense stride-1 correlation of dy with a sub-filter of w taken in reverse, and no work is
// spent on the taps that miss (stride 1 is the single phase: dy padded by k − 1 − p, w
// flipped).
// As GEMM (loop in gemm_core.wgsl, index helpers in conv2d_geometry.wgsl, both appended by
// TypeScript): rows M = batch·PHASE_ROWS·PHASE_COLUMNS (the phase's input pixels), columns
// N = inChannels, K = outChannels·TAP_ROWS·TAP_COLUMNS. load_a gathers dy (0 outside it);
// load_b reads w in place.
// Bindings: params (ConvParams); dy [batch, outChannels, outHeight, outWidth], w [outChannels,
// inChannels, kernelHeight, kernelWidth] (read); dx [batch, inChannels, inHeight, inWidth]
// (write; each phase writes its own pixels).
// Dispatch: per phase (override constants PHASE_ROW, PHASE_COLUMN), workgroups
// (ceil(inChannels / 32), ceil(M / 32)) of 8×8 invocations, each computing 4 input pixels
// × 4 input channels. Phases without pixels (stride > input size) are not dispatched.

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// This dispatch's phase: the input pixels (iy, ix) with iy % STRIDE == PHASE_ROW and
// ix % STRIDE == PHASE_COLUMN, a PHASE_ROWS × PHASE_COLUMNS grid. They are reached by the
// taps ky ≡ PHASE_ROW + PADDING (mod STRIDE), TAP_ROWS of them from FIRST_TAP_ROW (the same
// across), from output rows oy = (iy + PADDING − ky) / STRIDE.
override PHASE_ROW: u32 = 0u;
override PHASE_COLUMN: u32 = 0u;
override PHASE_ROWS: u32 = (IN_HEIGHT + STRIDE - 1u - PHASE_ROW) / STRIDE;
override PHASE_COLUMNS: u32 = (IN_WIDTH + STRIDE - 1u - PHASE_COLUMN) / STRIDE;
override FIRST_TAP_ROW: u32 = (PHASE_ROW + PADDING) % STRIDE;
override FIRST_TAP_COLUMN: u32 = (PHASE_COLUMN + PADDING) % STRIDE;
override TAP_ROWS: u32 = (KERNEL_HEIGHT + STRIDE - 1u - FIRST_TAP_ROW) / STRIDE;
override TAP_COLUMNS: u32 = (KERNEL_WIDTH + STRIDE - 1u - FIRST_TAP_COLUMN) / STRIDE;
override FILTER_SIZE: u32 = IN_CHANNELS * KERNEL_HEIGHT * KERNEL_WIDTH;

fn backward_input_size() -> GemmSize {
  return GemmSize(params.batch * PHASE_ROWS * PHASE_COLUMNS, IN_CHANNELS, OUT_CHANNELS * TAP_ROWS * TAP_COLUMNS);
}

// Phase pixel (qy, qx), input pixel (PHASE_ROW + STRIDE·qy, ...), reads dy rows
// qy + (PHASE_ROW + PADDING − FIRST_TAP_ROW) / STRIDE − j for tap rows j < TAP_ROWS: with the
// taps taken in reverse (j' = TAP_ROWS − 1 − j), a stride-1 window over dy.
fn sliding() -> Sliding {
  let pad_top = i32(TAP_ROWS) - 1 - i32((PHASE_ROW + PADDING - FIRST_TAP_ROW) / STRIDE);
  let pad_left = i32(TAP_COLUMNS) - 1 - i32((PHASE_COLUMN + PADDING - FIRST_TAP_COLUMN) / STRIDE);
  return Sliding(OUT_CHANNELS, OUT_HEIGHT, OUT_WIDTH, PHASE_ROWS, PHASE_COLUMNS, TAP_ROWS, TAP_COLUMNS, 1u, pad_top, pad_left);
}

// Row m (a phase pixel): its window on dy. Column c: where input channel c's filter starts
// within w[o]. k = (o, j', i'): the tap, and the output channel o it belongs to.
alias RowContext = Window;
alias ColumnContext = u32;
struct Step { tap: Tap, channel: u32 }

fn row_context(m: u32) -> Window { return window_at(sliding(), m); }
fn column_context(c: u32) -> u32 { return c * KERNEL_HEIGHT * KERNEL_WIDTH; }

fn step_at(k: u32) -> Step {
  return Step(tap_at(sliding(), k), k / max(TAP_ROWS * TAP_COLUMNS, 1u));
}

fn next_step(s: Step) -> Step {
  let tap = next_tap(sliding(), s.tap);
  return Step(tap, s.channel + select(0u, 1u, tap.ky == 0 && tap.kx == 0));
}

// dy at the output pixel that phase pixel m reaches through tap k, or 0 in the padding.
fn load_a(window: Window, s: Step) -> f32 {
  let index = source_index(sliding(), window, s.tap);
  return select(0.0, dy[max(index, 0)], index >= 0);
}

// w[o, c, ky, kx] for tap (o, j', i') of this phase: ky = FIRST_TAP_ROW + STRIDE·(TAP_ROWS − 1 − j').
fn load_b(s: Step, filter_start: u32) -> f32 {
  let ky = FIRST_TAP_ROW + STRIDE * (TAP_ROWS - 1u - u32(s.tap.ky));
  let kx = FIRST_TAP_COLUMN + STRIDE * (TAP_COLUMNS - 1u - u32(s.tap.kx));
  return w[s.channel * FILTER_SIZE + filter_start + ky * KERNEL_WIDTH + kx];
}

@compute @workgroup_size(8, 8)
fn conv2d_backward_input(@builtin(global_invocation_id) gid: vec3u) {
  let size = backward_input_size();
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= size.M || col0 >= size.N) { return; }
  let acc = gemm_accumulate(row0, col0, size);
  let phase_plane = PHASE_ROWS * PHASE_COLUMNS;
  let in_plane = IN_HEIGHT * IN_WIDTH;
  for (var i = 0u; i < 4u; i++) {
    let m = row0 + i;
    if (m >= size.M) { break; }
    let image = m / phase_plane;
    let within = m % phase_plane;
    let iy = PHASE_ROW + STRIDE * (within / PHASE_COLUMNS);
    let ix = PHASE_COLUMN + STRIDE * (within % PHASE_COLUMNS);
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + j;
      if (c >= size.N) { break; }
      dx[(image * size.N + c) * in_plane + iy * IN_WIDTH + ix] = acc[i][j];
    }
  }
}
