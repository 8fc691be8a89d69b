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
// TypeScript): rows M = batch·rows·columns (the phase's input pixels), columns
// N = inChannels, K = outChannels·tap_rows·tap_columns. load_a gathers dy (0 outside it);
// load_b reads w in place.
// Bindings: params (ConvParams); dy [batch, outChannels, outHeight, outWidth], w [outChannels,
// inChannels, kernelHeight, kernelWidth] (read); dx [batch, inChannels, inHeight, inWidth]
// (write; each phase writes its own pixels).
// Dispatch: per phase (params.phaseRow, params.phaseColumn), workgroups
// (ceil(inChannels / (BLOCK·GROUP_WIDTH)), ceil(M / (BLOCK·GROUP_HEIGHT))) of GROUP_WIDTH ×
// GROUP_HEIGHT = 64 invocations (gemm_core.wgsl), each computing BLOCK input pixels ×
// BLOCK input channels (4 or 8). Phases without pixels (stride > input size) are not
// dispatched.

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// This dispatch's phase: the input pixels (iy, ix) with iy % STRIDE == params.phaseRow and
// ix % STRIDE == params.phaseColumn, a rows × columns grid. They are reached by the taps
// ky ≡ phaseRow + padding (mod STRIDE), tap_rows of them from first_tap_row, from output rows
// oy = (iy + padding − ky) / STRIDE; likewise across.
struct Phase {
  rows: u32,
  columns: u32,
  first_tap_row: u32,
  first_tap_column: u32,
  tap_rows: u32,
  tap_columns: u32,
}

fn phase() -> Phase {
  let p = params;
  let first_tap_row = (p.phaseRow + p.padding) % STRIDE;
  let first_tap_column = (p.phaseColumn + p.padding) % STRIDE;
  return Phase(
    (p.inHeight + STRIDE - 1u - p.phaseRow) / STRIDE,
    (p.inWidth + STRIDE - 1u - p.phaseColumn) / STRIDE,
    first_tap_row,
    first_tap_column,
    (KERNEL_HEIGHT + STRIDE - 1u - first_tap_row) / STRIDE,
    (KERNEL_WIDTH + STRIDE - 1u - first_tap_column) / STRIDE,
  );
}

fn backward_input_size() -> GemmSize {
  let f = phase();
  return GemmSize(params.batch * f.rows * f.columns, params.inChannels, params.outChannels * f.tap_rows * f.tap_columns);
}

// Phase pixel (qy, qx), input pixel (phaseRow + STRIDE·qy, ...), reads dy rows
// qy + (phaseRow + padding − first_tap_row) / STRIDE − j for tap rows j < tap_rows: with the
// taps taken in reverse (j' = tap_rows − 1 − j), a stride-1 window over dy.
fn sliding() -> Sliding {
  let p = params;
  let f = phase();
  let pad_top = i32(f.tap_rows) - 1 - i32((p.phaseRow + p.padding - f.first_tap_row) / STRIDE);
  let pad_left = i32(f.tap_columns) - 1 - i32((p.phaseColumn + p.padding - f.first_tap_column) / STRIDE);
  return Sliding(p.outChannels, p.outHeight, p.outWidth, f.rows, f.columns, f.tap_rows, f.tap_columns, 1u, pad_top, pad_left);
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
  return select(0.0, dy[max(index, 0)], index >= 0);
}

// w[o, c, ky, kx] for tap (o, j', i') of this phase: ky = first_tap_row + STRIDE·(tap_rows − 1 − j').
fn load_b(s: Step, filter_start: u32) -> f32 {
  let f = phase();
  let ky = f.first_tap_row + STRIDE * (f.tap_rows - 1u - u32(s.tap.ky));
  let kx = f.first_tap_column + STRIDE * (f.tap_columns - 1u - u32(s.tap.kx));
  return w[(s.channel * params.inChannels * KERNEL_HEIGHT + ky) * KERNEL_WIDTH + filter_start + kx];
}

// Input pixel m of the phase: its values for channels col0 … col0 + BLOCK − 1, those past the last
// channel skipped.
fn store_pixel(m: u32, col0: u32, size: GemmSize, left: vec4f, right: vec4f) {
  if (m >= size.M) { return; }
  let f = phase();
  let phase_plane = f.rows * f.columns;
  let within = m % phase_plane;
  let iy = params.phaseRow + STRIDE * (within / f.columns);
  let ix = params.phaseColumn + STRIDE * (within % f.columns);
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
