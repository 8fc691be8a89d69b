import avgPoolCode from '../../shaders/avg_pool.wgsl';
import maxPoolCode from '../../shaders/max_pool.wgsl';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type KernelCall, type OpDef } from '../graph/op.js';
import { formatShape, type Shape, sizeOf, type TensorSpec } from '../graph/tensor.js';
import { expectDtype, expectRank } from './shape-errors.js';

const maxPoolShader = shader('max_pool', maxPoolCode);
const avgPoolShader = shader('avg_pool', avgPoolCode);

export interface PoolOptions {
  /** The window: one side for a square, or [height, width]. */
  size: number | readonly [number, number];
  /** Step between windows: one for both axes or [along H, along W]; defaults to `size` (non-overlapping windows). */
  stride?: number | readonly [number, number];
  /**
   * Padding on every side, or [top, left, bottom, right] (default 0), each smaller than the
   * window. Max pooling never picks a padded position; average pooling adds it as 0 and
   * counts it in the divisor when `countIncludePad`.
   */
  padding?: number | readonly [number, number, number, number];
  /** Output size rounded up rather than down (ONNX ceil_mode 1); a window that would start in the bottom/right padding is dropped. */
  ceilMode?: boolean;
}

export interface MaxPoolOptions extends PoolOptions {
  /** Spacing between window taps: one for both axes or [along H, along W] (default 1). */
  dilation?: number | readonly [number, number];
}

export interface AvgPoolOptions extends PoolOptions {
  /** Divide by the window's positions inside the padded map (true, the default) or inside the map only (false, ONNX count_include_pad 0). */
  countIncludePad?: boolean;
}

interface PoolAttrs {
  sizeH: number;
  sizeW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  dilationH: number;
  dilationW: number;
  ceilMode: boolean;
  includePad: boolean;
}

/** Backward ops also need the forward input's shape, which dy alone does not determine. */
interface PoolBackwardAttrs extends PoolAttrs {
  inputShape: Shape;
}

function poolAttrs(op: string, options: MaxPoolOptions & AvgPoolOptions): PoolAttrs {
  const pair = (v: number | readonly number[]) => (typeof v === 'number' ? [v, v] : [...v]);
  const show = (v: number | readonly number[]) => (typeof v === 'number' ? String(v) : `[${v.join(', ')}]`);
  const size = pair(options.size);
  const stride = pair(options.stride ?? options.size);
  const dilation = pair(options.dilation ?? 1);
  const padding = options.padding ?? 0;
  const pads = typeof padding === 'number' ? [padding, padding, padding, padding] : [...padding];
  for (const [what, v, given] of [['size', size, options.size], ['stride', stride, options.stride ?? options.size], ['dilation', dilation, options.dilation ?? 1]] as const) {
    if (v.length !== 2 || v.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${op}: ${what} must be a positive integer, got ${show(given)} (one for both axes or [along H, along W])`);
  }
  if (pads.length !== 4 || pads.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`${op}: padding must be a non-negative integer, got ${show(padding)} (one for all sides or [top, left, bottom, right])`);
  const span = [(size[0]! - 1) * dilation[0]! + 1, (size[1]! - 1) * dilation[1]! + 1];
  if (pads.some((n, i) => n >= span[i % 2]!)) throw new Error(`${op}: padding ${show(padding)} must be smaller than the ${span[0]}×${span[1]} window on each side`);
  return {
    sizeH: size[0]!, sizeW: size[1]!, strideH: stride[0]!, strideW: stride[1]!,
    padTop: pads[0]!, padLeft: pads[1]!, padBottom: pads[2]!, padRight: pads[3]!,
    dilationH: dilation[0]!, dilationW: dilation[1]!,
    ceilMode: options.ceilMode ?? false, includePad: options.countIncludePad ?? true,
  };
}

/** Pooled length along one axis of n values; ceil mode drops a last window starting in the trailing padding. */
function pooledLength(n: number, size: number, stride: number, dilation: number, before: number, after: number, ceil: boolean): number {
  const room = n + before + after - ((size - 1) * dilation + 1);
  let out = (ceil ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  if (ceil && (out - 1) * stride >= n + before) out -= 1;
  return out;
}

/** [N, C, H, W] → [N, C, Ho, Wo]; throws when the window does not fit. */
function pooledShape(op: string, x: TensorSpec, a: PoolAttrs): Shape {
  expectRank(op, 'x (NCHW)', x, 4);
  expectDtype(op, 'x', x, 'f32');
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const spanH = (a.sizeH - 1) * a.dilationH + 1;
  const spanW = (a.sizeW - 1) * a.dilationW + 1;
  const paddedH = h + a.padTop + a.padBottom;
  const paddedW = w + a.padLeft + a.padRight;
  if (paddedH < spanH || paddedW < spanW) {
    const padded = a.padTop + a.padLeft + a.padBottom + a.padRight === 0 ? '' : ` padded to ${paddedH}×${paddedW}`;
    const dilated = a.dilationH === 1 && a.dilationW === 1 ? '' : ` (${spanH}×${spanW} dilated)`;
    throw new Error(`${op}: a ${a.sizeH}×${a.sizeW} window${dilated} does not fit in x ${formatShape(x.shape)}${padded}; H and W must be at least ${spanH} and ${spanW}`);
  }
  return [n, c, pooledLength(h, a.sizeH, a.strideH, a.dilationH, a.padTop, a.padBottom, a.ceilMode), pooledLength(w, a.sizeW, a.strideW, a.dilationW, a.padLeft, a.padRight, a.ceilMode)];
}

function expectPooledGradient(op: string, dy: TensorSpec, attrs: PoolBackwardAttrs): void {
  expectDtype(op, 'dy', dy, 'f32');
  const expected = pooledShape(op, { shape: attrs.inputShape, dtype: 'f32' }, attrs);
  if (dy.shape.join() !== expected.join()) {
    throw new Error(`${op}: dy is ${formatShape(dy.shape)} but pooling ${formatShape(attrs.inputShape)} gives ${formatShape(expected)}`);
  }
}

function windowParams(inputShape: Shape, pooled: Shape, a: PoolAttrs) {
  const [n, c, inH, inW] = inputShape as [number, number, number, number];
  return {
    planes: n * c, in_h: inH, in_w: inW, out_h: pooled[2]!, out_w: pooled[3]!, size_h: a.sizeH, size_w: a.sizeW, stride_h: a.strideH, stride_w: a.strideW,
    pad_top: a.padTop, pad_left: a.padLeft, pad_bottom: a.padBottom, pad_right: a.padRight, include_pad: Number(a.includePad),
    all_inside: Number(windowsInside(a, inputShape, pooled)),
  };
}

function windowCall(entry: string, inputShape: Shape, pooled: Shape, attrs: PoolAttrs, buffers: KernelCall['buffers'], count: number): KernelCall {
  return {
    shader: avgPoolShader,
    entry,
    params: windowParams(inputShape, pooled, attrs),
    buffers,
    workgroups: grid1d(count, 256),
  };
}

/**
 * A max_pool.wgsl dispatch: window, strides, dilations, pads and plane sizes are override
 * constants (so its divisions are by constants; one pipeline per map size and window), and
 * only the number of planes is a uniform, so batch sizes share pipelines.
 */
function maxPoolCall(entry: string, inputShape: Shape, pooled: Shape, a: PoolAttrs, buffers: KernelCall['buffers'], count: number): KernelCall {
  const [n, c, inH, inW] = inputShape as [number, number, number, number];
  return {
    shader: maxPoolShader,
    entry,
    constants: {
      SIZE_H: a.sizeH, SIZE_W: a.sizeW, STRIDE_H: a.strideH, STRIDE_W: a.strideW, DILATION_H: a.dilationH, DILATION_W: a.dilationW,
      PAD_TOP: a.padTop, PAD_LEFT: a.padLeft, IN_H: inH, IN_W: inW, OUT_H: pooled[2]!, OUT_W: pooled[3]!,
    },
    params: { planes: n * c },
    buffers,
    workgroups: grid1d(count, 256),
  };
}

/**
 * Whether max_pool_backward_tiled applies: windows that do not overlap (stride ≥ size on
 * both axes), no padding or dilation, and every window inside the map (not so in ceil mode).
 */
function tiledBackward(a: PoolAttrs, inputShape: Shape, pooled: Shape): boolean {
  return windowsInside(a, inputShape, pooled) && a.dilationH === 1 && a.dilationW === 1 && a.strideH >= a.sizeH && a.strideW >= a.sizeW;
}

/** No padding, and every (undilated) window inside the map: not so with ceil-mode overhang. */
function windowsInside(a: PoolAttrs, inputShape: Shape, pooled: Shape): boolean {
  const inside = (pooled[2]! - 1) * a.strideH + a.sizeH <= inputShape[2]! && (pooled[3]! - 1) * a.strideW + a.sizeW <= inputShape[3]!;
  return inside && a.padTop + a.padLeft + a.padBottom + a.padRight === 0;
}

/** Outputs: [0] pooled values; [1] u32 flat index into x of each maximum (for backward). */
const maxPoolOp: OpDef<PoolAttrs> = {
  name: 'max_pool2d',
  outputs([x], attrs) {
    const shape = pooledShape('max_pool2d', x!, attrs);
    return [
      { shape, dtype: 'f32' },
      { shape, dtype: 'u32' },
    ];
  },
  kernels: ({ inputs: [x], outputs: [y, argmax] }, attrs) => [
    maxPoolCall('max_pool_forward', x!.shape, y!.shape, attrs, { x: x!, out: y!, argmax: argmax! }, sizeOf(y!.shape)),
  ],
  grad: ([dy], [x], [, argmax], attrs) => [apply(maxPoolBackwardOp, [dy!, argmax!], { ...attrs, inputShape: x!.shape })[0]!],
};

function expectArgmax(op: string, dy: TensorSpec, argmax: TensorSpec): void {
  expectDtype(op, 'argmax', argmax, 'u32');
  if (argmax.shape.join() !== dy.shape.join()) {
    throw new Error(`${op}: argmax ${formatShape(argmax.shape)} must have dy's shape ${formatShape(dy.shape)}`);
  }
}

const maxPoolBackwardOp: OpDef<PoolBackwardAttrs> = {
  name: 'max_pool2d_backward',
  grad: null,
  outputs([dy, argmax], attrs) {
    expectPooledGradient('max_pool2d_backward', dy!, attrs);
    expectArgmax('max_pool2d_backward', dy!, argmax!);
    return [{ shape: attrs.inputShape, dtype: 'f32' }];
  },
  // When the pool's input x is y (a ReLU's output, e.g. of a conv2d with relu), the tiled
  // kernel applies ReLU's mask itself: x[argmax] is the pooled value.
  reluMasked([dy, argmax], attrs, y) {
    const pool = argmax!.source.kind === 'op' ? argmax!.source.node : undefined;
    if (pool?.op !== maxPoolOp || pool.inputs[0] !== y || !tiledBackward(attrs, attrs.inputShape, dy!.shape)) return undefined;
    return apply(maxPoolBackwardReluOp, [dy!, argmax!, pool.outputs[0]!], attrs)[0]!;
  },
  // Non-overlapping windows (stride ≥ size, e.g. every pool in the zoo): one invocation per
  // output writes its whole stride×stride cell, zeros included. Otherwise (overlapping or
  // padded windows, dilation, ceil mode) one invocation per input gathers from the windows
  // that cover it.
  kernels: ({ inputs: [dy, argmax], outputs: [dx] }, attrs) => [
    tiledBackward(attrs, dx!.shape, dy!.shape)
      ? maxPoolCall('max_pool_backward_tiled', dx!.shape, dy!.shape, attrs, { dy: dy!, recorded_argmax: argmax!, dx: dx! }, sizeOf(dy!.shape))
      : maxPoolCall('max_pool_backward', dx!.shape, dy!.shape, attrs, { dy: dy!, recorded_argmax: argmax!, dx: dx! }, sizeOf(dx!.shape)),
  ],
};

// ReLU's backward pass fused into the tiled max-pool backward (see reluMasked above).
const maxPoolBackwardReluOp: OpDef<PoolBackwardAttrs> = {
  name: 'max_pool2d_backward_relu',
  grad: null,
  outputs([dy, argmax, pooled], attrs) {
    const op = 'max_pool2d_backward_relu';
    expectPooledGradient(op, dy!, attrs);
    expectArgmax(op, dy!, argmax!);
    expectDtype(op, 'pooled', pooled!, 'f32');
    if (pooled!.shape.join() !== dy!.shape.join()) throw new Error(`${op}: pooled ${formatShape(pooled!.shape)} must have dy's shape ${formatShape(dy!.shape)}`);
    if (!tiledBackward(attrs, attrs.inputShape, dy!.shape)) {
      throw new Error(`${op}: needs windows that do not overlap (stride ≥ size), no padding or dilation and no ceil-mode overhang; use maxPool2dBackward then reluBackward`);
    }
    return [{ shape: attrs.inputShape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [dy, argmax, pooled], outputs: [dx] }, attrs) => [
    maxPoolCall('max_pool_backward_tiled_relu', dx!.shape, dy!.shape, attrs, { dy: dy!, recorded_argmax: argmax!, pooled: pooled!, dx: dx! }, sizeOf(dy!.shape)),
  ],
};

const avgPoolOp: OpDef<PoolAttrs> = {
  name: 'avg_pool2d',
  outputs: ([x], attrs) => [{ shape: pooledShape('avg_pool2d', x!, attrs), dtype: 'f32' }],
  kernels: ({ inputs: [x], outputs: [y] }, attrs) => [
    windowCall('avg_pool_forward', x!.shape, y!.shape, attrs, { x: x!, out: y! }, sizeOf(y!.shape)),
  ],
  grad: ([dy], [x], _outputs, attrs) => [apply(avgPoolBackwardOp, [dy!], { ...attrs, inputShape: x!.shape })[0]!],
};

const avgPoolBackwardOp: OpDef<PoolBackwardAttrs> = {
  name: 'avg_pool2d_backward',
  grad: null,
  outputs([dy], attrs) {
    expectPooledGradient('avg_pool2d_backward', dy!, attrs);
    return [{ shape: attrs.inputShape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [dy], outputs: [dx] }, attrs) => [
    windowCall('avg_pool_backward', dx!.shape, dy!.shape, attrs, { dy: dy!, dx: dx! }, sizeOf(dx!.shape)),
  ],
};

const globalAvgPoolOp: OpDef = {
  name: 'global_avg_pool',
  outputs([x]) {
    expectRank('global_avg_pool', 'x (NCHW)', x!, 4);
    expectDtype('global_avg_pool', 'x', x!, 'f32');
    return [{ shape: x!.shape.slice(0, 2), dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }) => [
    {
      shader: avgPoolShader,
      entry: 'global_avg_pool_forward',
      params: { planes: sizeOf(y!.shape), plane_size: x!.shape[2]! * x!.shape[3]! },
      buffers: { x: x!, out: y! },
      workgroups: grid1d(sizeOf(y!.shape), 256),
    },
  ],
  grad: ([dy], [x]) => [globalAvgPoolBackward(dy!, x!.shape)],
};

const globalAvgPoolBackwardOp: OpDef<{ inputShape: Shape }> = {
  name: 'global_avg_pool_backward',
  grad: null,
  outputs([dy], { inputShape }) {
    expectDtype('global_avg_pool_backward', 'dy', dy!, 'f32');
    if (inputShape.length !== 4 || dy!.shape.join() !== inputShape.slice(0, 2).join()) {
      throw new Error(`global_avg_pool_backward: dy ${formatShape(dy!.shape)} must be [N, C] of the input ${formatShape(inputShape)}`);
    }
    return [{ shape: inputShape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [dy], outputs: [dx] }) => [
    {
      shader: avgPoolShader,
      entry: 'global_avg_pool_backward',
      params: { planes: sizeOf(dy!.shape), plane_size: dx!.shape[2]! * dx!.shape[3]! },
      buffers: { dy: dy!, dx: dx! },
      workgroups: grid1d(sizeOf(dx!.shape), 256),
    },
  ],
};

/**
 * 2-D max pooling of NCHW maps: [N, C, H, W] → [N, C, Ho, Wo] with
 * Ho = (H + top + bottom − (sizeH − 1)·dilationH − 1) / strideH + 1 (floored, or rounded up
 * in ceil mode), likewise Wo. Padded positions never win. Backward sends each gradient to
 * the element that was the maximum (the first one on ties).
 * @example const pooled = maxPool2d(features, { size: 2 });   // [8, 16, 28, 28] → [8, 16, 14, 14]
 * @example const pooled = maxPool2d(features, { size: 3, stride: 2, padding: 1, ceilMode: true });
 */
export function maxPool2d<T extends AnyTensor>(x: T, options: MaxPoolOptions): T {
  return maxPool2dWithArgmax(x, options)[0];
}

/** Max pooling that also returns, per output, the flat index into x of its maximum (u32). */
export function maxPool2dWithArgmax<T extends AnyTensor>(x: T, options: MaxPoolOptions): [values: T, argmax: T] {
  const [values, argmax] = apply(maxPoolOp, [x], poolAttrs('max_pool2d', options));
  return [values!, argmax!];
}

/** dx of max pooling from dy and the forward's recorded argmax; `inputShape` is x's shape. */
export function maxPool2dBackward<T extends AnyTensor>(dy: T, argmax: T, options: MaxPoolOptions & { inputShape: Shape }): T {
  return apply(maxPoolBackwardOp, [dy, argmax], { ...poolAttrs('max_pool2d_backward', options), inputShape: options.inputShape })[0]!;
}

/**
 * dx of max pooling over a ReLU's output y, ReLU's backward pass included: the gradient
 * reaches x = y only where y > 0, tested at the pooled value (`pooled`, the forward's
 * output). For windows that do not overlap (stride ≥ size), without padding, dilation or
 * ceil-mode overhang; in graphs, `reluBackward` of a max-pool backward picks it itself.
 * @example const dz = maxPool2dBackwardRelu(dy, argmax, pooled, { size: 2, inputShape: z.shape });
 */
export function maxPool2dBackwardRelu<T extends AnyTensor>(dy: T, argmax: T, pooled: T, options: MaxPoolOptions & { inputShape: Shape }): T {
  return apply(maxPoolBackwardReluOp, [dy, argmax, pooled], { ...poolAttrs('max_pool2d_backward_relu', options), inputShape: options.inputShape })[0]!;
}

/**
 * 2-D average pooling of NCHW maps. Without padding every window holds sizeH·sizeW values;
 * padded positions add 0 and count in the divisor when `countIncludePad` (the default), not
 * otherwise. Shapes as for maxPool2d (no dilation).
 * @example const pooled = avgPool2d(features, { size: 3, stride: 2 });
 * @example const pooled = avgPool2d(features, { size: 3, stride: 1, padding: 1, countIncludePad: false });
 */
export function avgPool2d<T extends AnyTensor>(x: T, options: AvgPoolOptions): T {
  const dilation = (options as MaxPoolOptions).dilation;
  if (dilation !== undefined && [dilation].flat().some((d) => d !== 1)) throw new Error(`avg_pool2d: dilation ${JSON.stringify(dilation)} (average pooling has no dilation)`);
  return apply(avgPoolOp, [x], poolAttrs('avg_pool2d', options))[0]!;
}

/** dx of average pooling: each dy spread evenly over its window; `inputShape` is x's shape. */
export function avgPool2dBackward<T extends AnyTensor>(dy: T, options: AvgPoolOptions & { inputShape: Shape }): T {
  return apply(avgPoolBackwardOp, [dy], { ...poolAttrs('avg_pool2d_backward', options), inputShape: options.inputShape })[0]!;
}

/**
 * Mean of each channel's map: [N, C, H, W] → [N, C], ready for a classifier head.
 * @example const logits = linear(globalAvgPool(features), w, b);
 */
export function globalAvgPool<T extends AnyTensor>(x: T): T {
  return apply(globalAvgPoolOp, [x], {})[0]!;
}

/** dx of global average pooling: dy[n, c] / (H·W) everywhere in plane (n, c). */
export function globalAvgPoolBackward<T extends AnyTensor>(dy: T, inputShape: Shape): T {
  return apply(globalAvgPoolBackwardOp, [dy], { inputShape })[0]!;
}
