// conv2d_backward_filter.wgsl — gradient of conv2d with respect to its weights as implicit GEMM:
//   dw[o, c, ky, kx] = Σ_{n, oy, ox} dy[n, o, oy, ox] · x[n, c, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw]
// with x zero outside the image. NCHW, f32.
// As GEMM (loop in gemm_core.wgsl, index helpers in conv2d_geometry.wgsl, both appended by
// TypeScript): dw = dyᵀ · im2col(x) with rows M = outChannels, columns
// N = inChannels·kernelHeight·kernelWidth (filter taps), K = batch·outHeight·outWidth
// (output pixels). load_a reads dy in place; load_b gathers im2col(x) on the fly (no
// im2col buffer), stepping from one output pixel's window to the next by additions.
// The [M, N] result is dw's own layout.
// Bindings: params (ConvParams); dy [batch, outChannels, outHeight, outWidth],
// x [batch, inChannels, inHeight, inWidth] (read); dw [chunks, outChannels, inChannels,
// kernelHeight, kernelWidth] (write; chunks = 1 without split-K).
// Dispatch: workgroups (ceil(N / (BLOCK·GROUP_WIDTH)), ceil(outChannels / (BLOCK·GROUP_HEIGHT)),
// chunks) of GROUP_WIDTH × GROUP_HEIGHT invocations (gemm_core.wgsl), each computing BLOCK
// output channels × BLOCK filter taps (4 or 8).
// Split-K: with chunks > 1 along z, workgroup z sums only the output pixels
// [z·⌈K / chunks⌉, (z + 1)·⌈K / chunks⌉) and writes its partial dw to dw[z, ...] of a
// [chunks, outChannels, inChannels, kernelHeight, kernelWidth] scratch, which TypeScript
// then sums over z (a fixed order: deterministic). For few outputs and long K (a first
// layer's filters over all of a batch's pixels) one chunk would be one or two workgroups,
// leaving most of lavapipe's threads idle. TypeScript picks the chunks (filterGradientPlan);
// 3×3 stride-1 filters go to conv2d_backward_filter_3x3.wgsl instead.
// Operands: dy and x hold `Operand`s, f32 (lib/operand_f32.wgsl) or f16 (lib/operand_f16.wgsl,
// with `enable f16;` put in front of this file by TypeScript); loads convert to f32, so sums
// and the result are f32 either way (f16 filter gradients always come here, never to the
// direct 3×3 kernel, which reads f32).

@group(0) @binding(1) var<storage, read> dy: array<Operand>;
@group(0) @binding(2) var<storage, read> x: array<Operand>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

fn out_plane() -> u32 { return params.outHeight * params.outWidth; }

fn backward_filter_size() -> GemmSize {
  return GemmSize(params.outChannels, params.inChannels * KERNEL_HEIGHT * KERNEL_WIDTH, params.batch * out_plane());
}

// The filter window slides over x, one position per output pixel.
fn sliding() -> Sliding {
  let p = params;
  return Sliding(p.inChannels, p.inHeight, p.inWidth, p.outHeight, p.outWidth, KERNEL_HEIGHT, KERNEL_WIDTH, STRIDE_H, STRIDE_W, DILATION_H, DILATION_W, i32(p.padTop), i32(p.padLeft));
}

// Row o: where channel o's plane starts within an image of dy. Column t: the filter tap.
// k (an output pixel): its window on x, its offset into dy's channel-0 plane of its image
// plus its pixel, and that pixel (to see when the next k starts a new image).
alias RowContext = u32;
alias ColumnContext = Tap;
struct Step { window: Window, dy_offset: u32, pixel: u32 }

fn row_context(o: u32) -> u32 { return o * out_plane(); }
fn column_context(t: u32) -> Tap { return tap_at(sliding(), t); }

// The first output pixel of this workgroup's chunk of K (set by the entry point: the
// core's first_step takes no arguments).
var<private> chunk_start: u32;

fn first_step() -> Step {
  let image = chunk_start / out_plane();
  let pixel = chunk_start % out_plane();
  return Step(window_at(sliding(), chunk_start), image * params.outChannels * out_plane() + pixel, pixel);
}

fn next_step(s: Step) -> Step {
  var next = Step(next_window(sliding(), s.window), s.dy_offset + 1u, s.pixel + 1u);
  if (next.pixel == out_plane()) {
    next.pixel = 0u;
    next.dy_offset += (params.outChannels - 1u) * out_plane();
  }
  return next;
}

// dyᵀ[o, k] for output pixel k = (n, oy, ox).
fn load_a(channel_start: u32, s: Step) -> f32 {
  return f32(dy[channel_start + s.dy_offset]);
}

// im2col(x)[k, t]: output pixel k seen through filter tap t.
fn load_b(s: Step, tap: Tap) -> f32 {
  let index = source_index(sliding(), s.window, tap);
  return select(0.0, f32(x[max(index, 0)]), index >= 0);
}

@compute @workgroup_size(GROUP_WIDTH, GROUP_HEIGHT)
fn conv2d_backward_filter(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let full = backward_filter_size();
  let row0 = gid.y * BLOCK;
  let col0 = gid.x * BLOCK;
  if (row0 >= full.M || col0 >= full.N) { return; }
  let chunk = (full.K + groups.z - 1u) / groups.z;
  chunk_start = gid.z * chunk;
  // TypeScript picks chunks so that none is empty; the last may be shorter.
  let size = GemmSize(full.M, full.N, min(chunk, full.K - chunk_start));
  let acc = gemm_accumulate(row0, col0, size);
  let out = gid.z * size.M * size.N;
  for (var i = 0u; i < BLOCK; i++) {
    if (row0 + i >= size.M) { return; }
    for (var j = 0u; j < BLOCK; j++) {
      if (col0 + j >= size.N) { break; }
      dw[out + (row0 + i) * size.N + col0 + j] = select(acc[2u * i + 1u][j % 4u], acc[2u * i][j % 4u], j < 4u);
    }
  }
}

// Not called: convolutions load B one element at a time (the GEMM core's B_VECTOR is false).
fn load_b_columns(s: Step, column: ColumnContext) -> vec4f {
  return vec4f(load_b(s, column));
}
