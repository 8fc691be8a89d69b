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
  /** Side of the square window. */
  size: number;
  /** Step between windows; defaults to `size` (non-overlapping windows). */
  stride?: number;
}

interface PoolAttrs {
  size: number;
  stride: number;
}

/** Backward ops also need the forward input's shape, which dy alone does not determine. */
interface PoolBackwardAttrs extends PoolAttrs {
  inputShape: Shape;
}

function poolAttrs(op: string, { size, stride = size }: PoolOptions): PoolAttrs {
  for (const [what, v] of [['size', size], ['stride', stride]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: ${what} must be a positive integer, got ${v}`);
  }
  return { size, stride };
}

/** [N, C, H, W] → [N, C, Ho, Wo]; throws when the window does not fit. */
function pooledShape(op: string, x: TensorSpec, { size, stride }: PoolAttrs): Shape {
  expectRank(op, 'x (NCHW)', x, 4);
  expectDtype(op, 'x', x, 'f32');
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (h < size || w < size) {
    throw new Error(`${op}: a ${size}×${size} window does not fit in x ${formatShape(x.shape)}; H and W must be at least ${size}`);
  }
  return [n, c, Math.floor((h - size) / stride) + 1, Math.floor((w - size) / stride) + 1];
}

function expectPooledGradient(op: string, dy: TensorSpec, attrs: PoolBackwardAttrs): void {
  expectDtype(op, 'dy', dy, 'f32');
  const expected = pooledShape(op, { shape: attrs.inputShape, dtype: 'f32' }, attrs);
  if (dy.shape.join() !== expected.join()) {
    throw new Error(`${op}: dy is ${formatShape(dy.shape)} but pooling ${formatShape(attrs.inputShape)} gives ${formatShape(expected)}`);
  }
}

function windowParams(inputShape: Shape, pooled: Shape, { size, stride }: PoolAttrs) {
  const [n, c, inH, inW] = inputShape as [number, number, number, number];
  return { planes: n * c, in_h: inH, in_w: inW, out_h: pooled[2]!, out_w: pooled[3]!, size, stride };
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
 * A max_pool.wgsl dispatch: window, stride and plane sizes are override constants (so its
 * divisions are by constants; one pipeline per map size, window and stride), and only the
 * number of planes is a uniform, so batch sizes share pipelines.
 */
function maxPoolCall(entry: string, inputShape: Shape, pooled: Shape, { size, stride }: PoolAttrs, buffers: KernelCall['buffers'], count: number): KernelCall {
  const [n, c, inH, inW] = inputShape as [number, number, number, number];
  return {
    shader: maxPoolShader,
    entry,
    constants: { SIZE: size, STRIDE: stride, IN_H: inH, IN_W: inW, OUT_H: pooled[2]!, OUT_W: pooled[3]! },
    params: { planes: n * c },
    buffers,
    workgroups: grid1d(count, 256),
  };
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
  grad: ([dy], [x], [, argmax], attrs) => [maxPool2dBackward(dy!, argmax!, { ...attrs, inputShape: x!.shape })],
};

const maxPoolBackwardOp: OpDef<PoolBackwardAttrs> = {
  name: 'max_pool2d_backward',
  grad: null,
  outputs([dy, argmax], attrs) {
    expectPooledGradient('max_pool2d_backward', dy!, attrs);
    expectDtype('max_pool2d_backward', 'argmax', argmax!, 'u32');
    if (argmax!.shape.join() !== dy!.shape.join()) {
      throw new Error(`max_pool2d_backward: argmax ${formatShape(argmax!.shape)} must have dy's shape ${formatShape(dy!.shape)}`);
    }
    return [{ shape: attrs.inputShape, dtype: 'f32' }];
  },
  // Non-overlapping windows (stride ≥ size, e.g. every pool in the zoo): one invocation per
  // output writes its whole stride×stride cell, zeros included. Overlapping windows: one
  // invocation per input gathers from the windows that cover it.
  kernels: ({ inputs: [dy, argmax], outputs: [dx] }, attrs) => [
    attrs.stride >= attrs.size
      ? maxPoolCall('max_pool_backward_tiled', dx!.shape, dy!.shape, attrs, { dy: dy!, recorded_argmax: argmax!, dx: dx! }, sizeOf(dy!.shape))
      : maxPoolCall('max_pool_backward', dx!.shape, dy!.shape, attrs, { dy: dy!, recorded_argmax: argmax!, dx: dx! }, sizeOf(dx!.shape)),
  ],
};

const avgPoolOp: OpDef<PoolAttrs> = {
  name: 'avg_pool2d',
  outputs: ([x], attrs) => [{ shape: pooledShape('avg_pool2d', x!, attrs), dtype: 'f32' }],
  kernels: ({ inputs: [x], outputs: [y] }, attrs) => [
    windowCall('avg_pool_forward', x!.shape, y!.shape, attrs, { x: x!, out: y! }, sizeOf(y!.shape)),
  ],
  grad: ([dy], [x], _outputs, attrs) => [avgPool2dBackward(dy!, { ...attrs, inputShape: x!.shape })],
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
 * 2-D max pooling of NCHW maps with a square window and no padding: [N, C, H, W] →
 * [N, C, (H − size) / stride + 1, (W − size) / stride + 1] (floored). Backward sends each
 * gradient to the element that was the maximum (the first one on ties).
 * @example const pooled = maxPool2d(features, { size: 2 });   // [8, 16, 28, 28] → [8, 16, 14, 14]
 */
export function maxPool2d<T extends AnyTensor>(x: T, options: PoolOptions): T {
  return maxPool2dWithArgmax(x, options)[0];
}

/** Max pooling that also returns, per output, the flat index into x of its maximum (u32). */
export function maxPool2dWithArgmax<T extends AnyTensor>(x: T, options: PoolOptions): [values: T, argmax: T] {
  const [values, argmax] = apply(maxPoolOp, [x], poolAttrs('max_pool2d', options));
  return [values!, argmax!];
}

/** dx of max pooling from dy and the forward's recorded argmax; `inputShape` is x's shape. */
export function maxPool2dBackward<T extends AnyTensor>(dy: T, argmax: T, options: PoolOptions & { inputShape: Shape }): T {
  return apply(maxPoolBackwardOp, [dy, argmax], { ...poolAttrs('max_pool2d_backward', options), inputShape: options.inputShape })[0]!;
}

/**
 * 2-D average pooling of NCHW maps with a square window and no padding (every window holds
 * size² values, so the divisor is always size²). Shapes as for maxPool2d.
 * @example const pooled = avgPool2d(features, { size: 3, stride: 2 });
 */
export function avgPool2d<T extends AnyTensor>(x: T, options: PoolOptions): T {
  return apply(avgPoolOp, [x], poolAttrs('avg_pool2d', options))[0]!;
}

/** dx of average pooling: each dy spread evenly over its window; `inputShape` is x's shape. */
export function avgPool2dBackward<T extends AnyTensor>(dy: T, options: PoolOptions & { inputShape: Shape }): T {
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
