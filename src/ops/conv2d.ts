import conv2dCode from '../../shaders/conv2d.wgsl';
import conv2d3x3Code from '../../shaders/conv2d_3x3.wgsl';
import backwardBiasCode from '../../shaders/conv2d_backward_bias.wgsl';
import backwardFilterCode from '../../shaders/conv2d_backward_filter.wgsl';
import backwardFilter3x3Code from '../../shaders/conv2d_backward_filter_3x3.wgsl';
import backwardInputCode from '../../shaders/conv2d_backward_input.wgsl';
import geometryCode from '../../shaders/conv2d_geometry.wgsl';
import type { GpuContext } from '../gpu/context.js';
import { type Shader, shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply, bindAll } from '../graph/apply.js';
import { grid1d, type KernelCall, type OpDef } from '../graph/op.js';
import { type DType, formatShape, type Shape, Tensor, type TensorSpec } from '../graph/tensor.js';
import {
  type ConvGeometry,
  type ConvPads,
  type ConvSpacing,
  convGeometry,
  expectBias,
  expectImage,
  expectOutputGradient,
  geometryConstants,
  geometryParams,
  inputPhases,
  outputShape,
} from './conv2d-geometry.js';
import { castF16, castLike } from './cast.js';
import { reluBackward } from './elementwise.js';
import { enableF16, gemmDispatch, gemmShader } from './gemm-core.js';
import type { Precision } from './matmul.js';
import { sumAxis } from './reduce-axis.js';
import { expectOperands } from './shape-errors.js';

/** An implicit-GEMM convolution pass compiled for f32 operands and for f16 ones (sums in f32 either way). */
function operandShaders(name: string, code: string): Record<'f32' | 'f16', Shader> {
  return {
    f32: gemmShader(name, code, geometryCode, wgslLib.operandF32),
    f16: gemmShader(`${name}_f16`, enableF16(code), geometryCode, wgslLib.operandF16),
  };
}

const forwardShaders = operandShaders('conv2d', conv2dCode);
const backwardInputShaders = operandShaders('conv2d_backward_input', backwardInputCode);
const backwardFilterShaders = operandShaders('conv2d_backward_filter', backwardFilterCode);

/** The shader of `shaders` for this pass's operand type; f16 needs the device's 'shader-f16'. */
function operandShader(shaders: Record<'f32' | 'f16', Shader>, operand: TensorSpec, op: string, ctx: GpuContext): Shader {
  if (operand.dtype !== 'f16') return shaders.f32;
  ctx.requireF16(`${op} with f16 operands`);
  return shaders.f16;
}
const backwardBiasShader = shader('conv2d_backward_bias', backwardBiasCode, wgslLib.workgroupReduce, wgslLib.grid);
const direct3x3Shader = shader('conv2d_3x3', conv2d3x3Code);
const backwardFilter3x3Shader = shader('conv2d_backward_filter_3x3', backwardFilter3x3Code);

/** shaders/conv2d_3x3.wgsl's tile: output rows × columns × channels per invocation. */
const DIRECT_TILE = { rows: 2, columns: 4, channels: 8 };

/**
 * Whether a forward pass of this geometry gets the transposed-weights scratch output that
 * the direct 3×3 kernel (shaders/conv2d_3x3.wgsl) uses: 3×3 filters at stride 1 without
 * dilation, the same padding on all four sides.
 */
export function direct3x3Shape(g: ConvGeometry): boolean {
  const symmetric = g.padTop === g.padLeft && g.padTop === g.padBottom && g.padTop === g.padRight;
  return g.kernelHeight === 3 && g.kernelWidth === 3 && g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1 && symmetric;
}

/**
 * Whether the device can run the direct 3×3 kernel: it shares weights between lanes with
 * subgroup shuffles in groups of 8 (kdgpu's init requests `subgroups` when the adapter's
 * subgroups have at least 8 lanes). On lavapipe it needs ~2.9× fewer loads per product
 * than implicit GEMM (bench/NOTES.md); without the feature conv2d.wgsl runs.
 */
export function direct3x3Supported(ctx: GpuContext): boolean {
  return ctx.device.features.has('subgroups') && ctx.profile.subgroupMinSize >= DIRECT_TILE.channels;
}

const paddedOut = (g: ConvGeometry) => Math.ceil(g.outChannels / DIRECT_TILE.channels) * DIRECT_TILE.channels;

function direct3x3Kernels(g: ConvGeometry, x: TensorSpec, w: TensorSpec, bias: TensorSpec, y: TensorSpec, wt: TensorSpec, relu: boolean): KernelCall[] {
  const tilesHigh = Math.ceil(g.outHeight / DIRECT_TILE.rows);
  const tilesWide = Math.ceil(g.outWidth / DIRECT_TILE.columns);
  const blocks = paddedOut(g) / DIRECT_TILE.channels;
  const groupHeight = 64;
  const tiles = g.batch * tilesHigh * tilesWide;
  const rows = Math.ceil(tiles / groupHeight);
  if (rows > 65535) throw new Error(`conv2d: ${tiles} pixel tiles need ${rows} workgroups, over the limit of 65535; split the batch`);
  const transposeGroups = grid1d(g.inChannels * 9 * paddedOut(g), 64);
  const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, padTop: padding } = g;
  const params = { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, padding, paddedOut: paddedOut(g), tilesHigh, tilesWide, workgroupsWide: transposeGroups[0] };
  return [
    { shader: direct3x3Shader, entry: 'conv2d_3x3_weights', params, buffers: { w, wt_out: wt }, workgroups: transposeGroups },
    {
      shader: direct3x3Shader,
      entry: 'conv2d_3x3',
      constants: { RELU: Number(relu), GROUP_HEIGHT: groupHeight },
      params,
      buffers: { x, wt, bias, y },
      workgroups: [blocks, rows],
    },
  ];
}

const X_LAYOUT = '[batch, inChannels, height, width]';
const W_LAYOUT = '[outChannels, inChannels, kH, kW]';
const DY_LAYOUT = '[batch, outChannels, outHeight, outWidth]';

/** Stride, padding and dilation of a convolution (shared by the forward and backward passes). */
export interface Conv2dSpacingOptions {
  /** Step between neighbouring output pixels, in input pixels: one for both axes or [along H, along W] (default 1). */
  stride?: number | readonly [number, number];
  /** Zero pixels added on every side of the input, or [top, left, bottom, right] (default 0). */
  padding?: number | ConvPads;
  /** Spacing between filter taps, in input pixels: one for both axes or [along H, along W] (default 1). */
  dilation?: number | readonly [number, number];
}

export interface Conv2dOptions extends Conv2dSpacingOptions {
  /** Apply ReLU to the output, fused into the kernel (default false). */
  relu?: boolean;
  /**
   * 'f16': round x and w to f16 first (castF16, unless they are f16 already) and convolve
   * those through the implicit GEMM (conv2d.wgsl, never the direct 3×3 kernel), summing in
   * f32; bias, y and the gradients of x and w stay f32. Needs ctx.hasF16. Default 'f32'.
   */
  precision?: Precision;
}

/** The forward convolution's input shape [batch, inChannels, H, W], stride, padding and dilation. */
export interface Conv2dBackwardInputOptions extends Conv2dSpacingOptions {
  inputShape: Shape;
}

/** The forward convolution's weight shape [outChannels, inChannels, kH, kW], stride, padding and dilation. */
export interface Conv2dBackwardFilterOptions extends Conv2dSpacingOptions {
  filterShape: Shape;
}

function spacing(options: Conv2dSpacingOptions): ConvSpacing {
  return { stride: options.stride ?? 1, padding: options.padding ?? 0, dilation: options.dilation ?? 1 };
}

interface ForwardAttrs extends ConvSpacing {
  relu: boolean;
}

function forwardGeometry(x: TensorSpec, w: TensorSpec, bias: TensorSpec, attrs: ConvSpacing): ConvGeometry {
  expectImage('conv2d', 'x', x, X_LAYOUT, 'operand');
  expectImage('conv2d', 'w', w, W_LAYOUT, 'operand');
  expectOperands('conv2d', ['x', x], ['w', w]);
  expectBias('conv2d', bias, w);
  return convGeometry('conv2d', x.shape, w.shape, attrs);
}

const conv2dOp: OpDef<ForwardAttrs> = {
  name: 'conv2d',
  acceptsF16: true,
  // 3×3 stride-1 layers have a second output: the direct kernel's transposed weights
  // (scratch; unused when the device lacks subgroups).
  outputs([x, w, bias], attrs) {
    const g = forwardGeometry(x!, w!, bias!, attrs);
    const y: TensorSpec = { shape: outputShape(g), dtype: 'f32' };
    return direct3x3Shape(g) ? [y, { shape: [g.inChannels, 9, paddedOut(g)], dtype: 'f32' }] : [y];
  },
  kernels({ inputs: [x, w, bias], outputs: [y, wt] }, attrs, ctx) {
    const g = forwardGeometry(x!, w!, bias!, attrs);
    // The direct 3×3 kernel reads f32 only; f16 operands take the implicit GEMM.
    if (x!.dtype === 'f32' && direct3x3Shape(g) && direct3x3Supported(ctx)) return direct3x3Kernels(g, x!, w!, bias!, y!, wt!, attrs.relu);
    const dispatch = gemmDispatch('conv2d', g.batch * g.outHeight * g.outWidth, g.outChannels, g.inChannels * g.kernelHeight * g.kernelWidth, ctx.profile.gemmTuning);
    return [
      {
        shader: operandShader(forwardShaders, x!, 'conv2d', ctx),
        entry: 'conv2d',
        constants: { ...geometryConstants(g), ...dispatch.constants, RELU: Number(attrs.relu) },
        params: geometryParams(g),
        buffers: { x: x!, w: w!, bias: bias!, y: y! },
        workgroups: dispatch.workgroups,
      },
    ];
  },
  grad([dy], [x, w], [y], { stride, padding, dilation, relu }) {
    const dz = relu ? reluBackward(dy!, y!) : dy!;
    if (x!.dtype === 'f16') {
      // f16 operands: the backward passes read an f16 copy of dz; the bias gradient sums dz
      // itself (f32). The direct 3×3 filter-gradient kernel reads f32 only, so no
      // conv2dBackwardParams here.
      const dz16 = castLike(dz, x!);
      return [
        conv2dBackwardInput(dz16, w!, { inputShape: x!.shape, stride, padding, dilation }),
        conv2dBackwardFilter(dz16, x!, { filterShape: w!.shape, stride, padding, dilation }),
        conv2dBackwardBias(dz),
      ];
    }
    const [dw, db] = conv2dBackwardParams(dz, x!, { filterShape: w!.shape, stride, padding, dilation });
    return [conv2dBackwardInput(dz, w!, { inputShape: x!.shape, stride, padding, dilation }), dw, db];
  },
};

function expectShapeOption(op: string, what: string, shape: Shape, layout: string): void {
  if (shape.length !== 4) throw new Error(`${op}: ${what} must have 4 entries ${layout}, got ${formatShape(shape)}`);
}

interface BackwardInputAttrs extends ConvSpacing {
  inputShape: Shape;
}

function backwardInputGeometry(dy: TensorSpec, w: TensorSpec, attrs: BackwardInputAttrs): ConvGeometry {
  const op = 'conv2d_backward_input';
  expectImage(op, 'dy', dy, DY_LAYOUT, 'operand');
  expectImage(op, 'w', w, W_LAYOUT, 'operand');
  expectOperands(op, ['dy', dy], ['w', w]);
  expectShapeOption(op, 'inputShape', attrs.inputShape, X_LAYOUT);
  const g = convGeometry(op, attrs.inputShape, w.shape, attrs);
  expectOutputGradient(op, dy, g, `input ${formatShape(attrs.inputShape)}, w ${formatShape(w.shape)}`);
  return g;
}

const backwardInputOp: OpDef<BackwardInputAttrs> = {
  name: 'conv2d_backward_input',
  acceptsF16: true,
  // dx = Wᵀ·dy is bilinear: for an upstream gradient g, ⟨g, Wᵀ·dy⟩ = ⟨W·g, dy⟩, so dy's
  // gradient is the forward convolution of g (no bias), and w's the filter gradient with
  // dy as the output gradient and g as the input. This makes the op usable as a transposed
  // convolution layer (ONNX ConvTranspose) that attacks differentiate through.
  grad([gIn], [dy, w], _outputs, { inputShape: _shape, ...spacing }) {
    const g = castLike(gIn!, w!);
    const zeros = g.graph.constant(new Float32Array(w!.shape[0]!), [w!.shape[0]!]);
    return [conv2d(g, w!, zeros, spacing), conv2dBackwardFilter(dy!, g, { filterShape: w!.shape, ...spacing })];
  },
  outputs([dy, w], attrs) {
    backwardInputGeometry(dy!, w!, attrs);
    return [{ shape: attrs.inputShape, dtype: 'f32' }];
  },
  kernels({ inputs: [dy, w], outputs: [dx] }, attrs, ctx) {
    const g = backwardInputGeometry(dy!, w!, attrs);
    // One dispatch per phase, so that no invocation multiplies by the taps that skip its pixel.
    // The block size is chosen from the largest phase's taps, so that all phases share a pipeline.
    const phases = inputPhases(g);
    const taps = Math.max(...phases.map((p) => p.row.taps * p.column.taps));
    return phases.map((phase) => {
      const dispatch = gemmDispatch('conv2d_backward_input', g.batch * phase.row.size * phase.column.size, g.inChannels, g.outChannels * taps, ctx.profile.gemmTuning);
      return {
        shader: operandShader(backwardInputShaders, dy!, 'conv2d_backward_input', ctx),
        entry: 'conv2d_backward_input',
        constants: { ...geometryConstants(g), ...dispatch.constants },
        params: geometryParams(g, phase),
        buffers: { dy: dy!, w: w!, dx: dx! },
        workgroups: dispatch.workgroups,
      };
    });
  },
};

interface BackwardFilterAttrs extends ConvSpacing {
  filterShape: Shape;
  /** Also the bias gradient, from the same pass over dy (direct 3×3 split only). */
  withBias: boolean;
}

function backwardFilterGeometry(dy: TensorSpec, x: TensorSpec, attrs: BackwardFilterAttrs): ConvGeometry {
  const op = 'conv2d_backward_filter';
  expectImage(op, 'dy', dy, DY_LAYOUT, 'operand');
  expectImage(op, 'x', x, X_LAYOUT, 'operand');
  expectOperands(op, ['dy', dy], ['x', x]);
  expectShapeOption(op, 'filterShape', attrs.filterShape, W_LAYOUT);
  const g = convGeometry(op, x.shape, attrs.filterShape, attrs);
  expectOutputGradient(op, dy, g, `x ${formatShape(x.shape)}, filter ${formatShape(attrs.filterShape)}`);
  return g;
}

/** The filter gradient is split over chunks of K when it has at most this many outputs (4 workgroups at 4×4 per invocation)... */
const SPLIT_MAX_OUTPUTS = 4096;
/** ...and at least two chunks of this many output pixels (K), so that the sum over chunks stays small. */
const SPLIT_MIN_CHUNK = 1024;
const SPLIT_MAX_CHUNKS = 64;
/** Chunks (of output rows) of the direct 3×3 kernel: two workgroups of 64 per channel block. */
const DIRECT_FILTER_CHUNKS = 128;

/**
 * How the filter gradient of a geometry runs. A filter gradient with few outputs and a long
 * K, such as a first layer's 32 × 1 × 3 × 3 over 64·26·26 pixels, is otherwise one or two
 * workgroups each running the whole K: one of lavapipe's threads works, the rest idle (19 %
 * of the bench's training step, bench/NOTES.md). So it is split into `chunks` partial sums
 * [chunks, ...filterShape], then summed in a fixed order: by the direct kernel over chunks of
 * `rowsPerChunk` output rows for 3×3 filters at stride 1 without dilation and f32 operands,
 * else by the GEMM-core kernel over chunks of ⌈K / chunks⌉ output pixels (none empty).
 * chunks = 1: the GEMM-core kernel, unsplit. A function of the shape and the operands' type
 * only, so that the op's output shape does not depend on the device.
 */
export function filterGradientPlan(g: ConvGeometry, operands: DType = 'f32'): { kernel: 'gemm' | 'direct3x3'; chunks: number; rowsPerChunk: number } {
  const outputs = g.outChannels * g.inChannels * g.kernelHeight * g.kernelWidth;
  const pixels = g.batch * g.outHeight * g.outWidth;
  const wanted = Math.min(SPLIT_MAX_CHUNKS, Math.floor(pixels / SPLIT_MIN_CHUNK));
  if (outputs > SPLIT_MAX_OUTPUTS || wanted < 2) return { kernel: 'gemm', chunks: 1, rowsPerChunk: 0 };
  const rows = g.batch * g.outHeight;
  // The direct kernel reads f32 only: f16 operands take the GEMM-core split.
  if (operands === 'f32' && direct3x3Filter(g)) {
    const rowsPerChunk = Math.ceil(rows / DIRECT_FILTER_CHUNKS);
    return { kernel: 'direct3x3', chunks: Math.ceil(rows / rowsPerChunk), rowsPerChunk };
  }
  return { kernel: 'gemm', chunks: Math.ceil(pixels / Math.ceil(pixels / wanted)), rowsPerChunk: 0 };
}

const direct3x3Filter = (g: ConvGeometry) => g.kernelHeight === 3 && g.kernelWidth === 3 && g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1;

function direct3x3FilterKernel(g: ConvGeometry, dy: TensorSpec, x: TensorSpec, dw: TensorSpec, db: TensorSpec | undefined, chunks: number, rowsPerChunk: number): KernelCall {
  const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, padTop, padLeft } = g;
  return {
    shader: backwardFilter3x3Shader,
    entry: db ? 'conv2d_backward_filter_bias_3x3' : 'conv2d_backward_filter_3x3',
    params: { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, padTop, padLeft, rowsPerChunk, chunks },
    buffers: db ? { dy, x, dw, db } : { dy, x, dw },
    workgroups: [Math.ceil(chunks / 64), inChannels * Math.ceil(outChannels / 4)],
  };
}

// Outputs: dw of filterShape, or split its partial sums [chunks, ...filterShape]; withBias
// adds the bias gradient's partial sums [chunks, outChannels] (the callers sum them).
const backwardFilterOp: OpDef<BackwardFilterAttrs> = {
  name: 'conv2d_backward_filter',
  acceptsF16: true,
  grad: null,
  outputs([dy, x], attrs) {
    const { kernel, chunks } = filterGradientPlan(backwardFilterGeometry(dy!, x!, attrs), dy!.dtype);
    const dw: TensorSpec = { shape: chunks > 1 ? [chunks, ...attrs.filterShape] : attrs.filterShape, dtype: 'f32' };
    if (!attrs.withBias) return [dw];
    if (kernel !== 'direct3x3') throw new Error('conv2d_backward_filter: the bias gradient comes along only with the direct 3×3 split (see filterGradientPlan)');
    return [dw, { shape: [chunks, attrs.filterShape[0]!], dtype: 'f32' }];
  },
  kernels({ inputs: [dy, x], outputs: [dw, db] }, attrs, ctx) {
    const g = backwardFilterGeometry(dy!, x!, attrs);
    const { kernel, chunks, rowsPerChunk } = filterGradientPlan(g, dy!.dtype);
    if (kernel === 'direct3x3') return [direct3x3FilterKernel(g, dy!, x!, dw!, db, chunks, rowsPerChunk)];
    const taps = g.inChannels * g.kernelHeight * g.kernelWidth;
    const pixels = g.batch * g.outHeight * g.outWidth;
    const dispatch = gemmDispatch('conv2d_backward_filter', g.outChannels, taps, Math.ceil(pixels / chunks), ctx.profile.gemmTuning, { fit: chunks > 1 });
    return [
      {
        shader: operandShader(backwardFilterShaders, dy!, 'conv2d_backward_filter', ctx),
        entry: 'conv2d_backward_filter',
        constants: { ...geometryConstants(g), ...dispatch.constants },
        params: geometryParams(g),
        buffers: { dy: dy!, x: x!, dw: dw! },
        workgroups: [...dispatch.workgroups, chunks],
      },
    ];
  },
};

const backwardBiasOp: OpDef = {
  name: 'conv2d_backward_bias',
  grad: null,
  outputs([dy]) {
    expectImage('conv2d_backward_bias', 'dy', dy!, DY_LAYOUT);
    return [{ shape: [dy!.shape[1]!], dtype: 'f32' }];
  },
  kernels({ inputs: [dy], outputs: [db] }) {
    const [batch, channels, height, width] = dy!.shape as [number, number, number, number];
    return [
      {
        shader: backwardBiasShader,
        entry: 'conv2d_backward_bias',
        params: { batch, channels, pixels: height * width },
        buffers: { dy: dy!, db: db! },
        workgroups: grid1d(channels, 1),
      },
    ];
  },
};

/**
 * 2-D convolution of NCHW images x [batch, inChannels, H, W] with weights
 * w [outChannels, inChannels, kH, kW], plus bias [outChannels], then ReLU when `relu` is
 * set (bias and ReLU fused into the kernel). Zero padding (the same on every side, or
 * [top, left, bottom, right]); strides and dilations per axis or one for both. The output is
 * [batch, outChannels, ⌊(H + top + bottom − (kH − 1)·dilationH − 1) / strideH⌋ + 1, likewise across].
 * Differentiable in x, w and bias.
 * @example const h = conv2d(images, w1, b1, { padding: 1, relu: true }); // 3×3 "same" conv
 * @example const h = conv2d(images, w, b, { stride: [1, 2], padding: [0, 1, 0, 1], dilation: [2, 1] });
 * @example const h = conv2d(images, w1, b1, { padding: 1, relu: true, precision: 'f16' });
 */
export function conv2d<T extends AnyTensor>(x: T, w: T, bias: T, options: Conv2dOptions = {}): T {
  const attrs = { ...spacing(options), relu: options.relu ?? false };
  const precision = options.precision ?? 'f32';
  if (precision !== 'f32' && precision !== 'f16') throw new Error(`conv2d: precision must be 'f32' or 'f16', got ${String(precision)}`);
  const [xIn, wIn, biasIn] = bindAll([x, w, bias]);
  const operand = (t: T) => (precision === 'f16' && t.dtype !== 'f16' ? castF16(t) : t);
  const [y, scratch] = apply(conv2dOp, [operand(xIn!), operand(wIn!), biasIn!], attrs);
  // Eager: the transposed weights are no longer needed once the kernels are queued.
  if (scratch instanceof Tensor) scratch.dispose();
  return y!;
}

/**
 * Gradient of conv2d with respect to its input: dy [batch, outChannels, Ho, Wo] and the
 * weights w give dx of `inputShape` (needed because Ho, Wo do not determine H, W when
 * stride > 1). This is also the transposed convolution of dy with w, and is differentiable
 * in dy and w as one (ONNX ConvTranspose).
 * @example const dx = conv2dBackwardInput(dy, w, { inputShape: x.shape, stride: 2, padding: 1 });
 */
export function conv2dBackwardInput<T extends AnyTensor>(dy: T, w: T, options: Conv2dBackwardInputOptions): T {
  const attrs = { inputShape: options.inputShape, ...spacing(options) };
  return apply(backwardInputOp, [dy, w], attrs)[0]!;
}

/**
 * Gradient of conv2d with respect to its weights: from dy [batch, outChannels, Ho, Wo] and
 * the input x, dw of `filterShape` [outChannels, inChannels, kH, kW]. Not itself
 * differentiable.
 * @example const dw = conv2dBackwardFilter(dy, x, { filterShape: w.shape, padding: 1 });
 */
export function conv2dBackwardFilter<T extends AnyTensor>(dy: T, x: T, options: Conv2dBackwardFilterOptions): T {
  const attrs = { filterShape: options.filterShape, ...spacing(options), withBias: false };
  const dw = apply(backwardFilterOp, [dy, x], attrs)[0]!;
  return dw.shape.length === options.filterShape.length ? dw : sumChunks(dw);
}

/** The sum of split partial gradients over their chunks (pairwise, in a fixed order). */
function sumChunks<T extends AnyTensor>(partial: T): T {
  const total = sumAxis(partial, 0);
  if (partial instanceof Tensor) partial.dispose();
  return total;
}

/**
 * Gradients of conv2d's weights and bias, [dw, db]: from one pass over dy where the direct
 * 3×3 split applies (filterGradientPlan), else conv2dBackwardFilter and conv2dBackwardBias.
 * @example const [dw, db] = conv2dBackwardParams(dy, x, { filterShape: w.shape, padding: 1 });
 */
export function conv2dBackwardParams<T extends AnyTensor>(dy: T, x: T, options: Conv2dBackwardFilterOptions): [dw: T, db: T] {
  const attrs = { filterShape: options.filterShape, ...spacing(options), withBias: true };
  if (filterGradientPlan(backwardFilterGeometry(dy, x, attrs), dy.dtype).kernel !== 'direct3x3') return [conv2dBackwardFilter(dy, x, options), conv2dBackwardBias(dy)];
  const [dw, db] = apply(backwardFilterOp, [dy, x], attrs);
  return [sumChunks(dw!), sumChunks(db!)];
}

/**
 * Gradient of conv2d with respect to its bias: dy [batch, channels, H, W] summed over
 * batch, height and width, giving [channels]. Not itself differentiable.
 * @example const db = conv2dBackwardBias(dy);
 */
export function conv2dBackwardBias<T extends AnyTensor>(dy: T): T {
  return apply(backwardBiasOp, [dy], {})[0]!;
}
