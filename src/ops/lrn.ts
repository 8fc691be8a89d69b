import lrnCode from '../../shaders/lrn.wgsl';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { formatShape, type Shape, sizeOf, type TensorSpec } from '../graph/tensor.js';
import { expectDtype } from './shape-errors.js';

const lrnShader = shader('lrn', lrnCode);

export interface LrnOptions {
  /** Channels in each window (ONNX `size`). */
  size: number;
  /** Default 1e-4 (ONNX). */
  alpha?: number;
  /** Default 0.75 (ONNX). */
  beta?: number;
  /** Default 1 (ONNX). */
  bias?: number;
}

interface LrnAttrs {
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

function lrnParams(shape: Shape, a: LrnAttrs) {
  return { channels: shape[1]!, plane: sizeOf(shape.slice(2)), total: sizeOf(shape), size: a.size, alpha: a.alpha, beta: a.beta, bias: a.bias };
}

function expectChannels(op: string, x: TensorSpec): void {
  if (x.shape.length < 3) throw new Error(`${op}: x must have rank 3 or more ([N, C, ...]), got shape ${formatShape(x.shape)}`);
  expectDtype(op, 'x', x, 'f32');
}

/** Outputs: [0] y; [1] the scale bias + alpha/size·Σx² (kept for the backward). */
const lrnOp: OpDef<LrnAttrs> = {
  name: 'lrn',
  outputs([x]) {
    expectChannels('lrn', x!);
    return [
      { shape: x!.shape, dtype: 'f32' },
      { shape: x!.shape, dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [x], outputs: [y, scale] }, attrs) => [
    { shader: lrnShader, entry: 'lrn_forward', params: lrnParams(x!.shape, attrs), buffers: { x: x!, y: y!, scale_out: scale! }, workgroups: grid1d(sizeOf(x!.shape), 256) },
  ],
  grad: ([dy], [x], [, scale], attrs) => [apply(lrnBackwardOp, [x!, scale!, dy!], attrs)[0]!],
};

const lrnBackwardOp: OpDef<LrnAttrs> = {
  name: 'lrn_backward',
  grad: null,
  outputs([x, scale, dy]) {
    expectChannels('lrn_backward', x!);
    for (const [what, t] of [['scale', scale!], ['dy', dy!]] as const) {
      if (t.shape.join() !== x!.shape.join()) throw new Error(`lrn_backward: ${what} ${formatShape(t.shape)} must have x's shape ${formatShape(x!.shape)}`);
    }
    return [{ shape: x!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x, scale, dy], outputs: [dx] }, attrs) => [
    { shader: lrnShader, entry: 'lrn_backward', params: lrnParams(x!.shape, attrs), buffers: { x: x!, scale: scale!, dy: dy!, dx: dx! }, workgroups: grid1d(sizeOf(x!.shape), 256) },
  ],
};

/**
 * Local response normalisation across channels (ONNX LRN; AlexNet, GoogLeNet, ZFNet):
 * y = x / (bias + alpha/size · Σ x²)^beta, the sum over `size` neighbouring channels
 * (⌊(size − 1)/2⌋ before, ⌈(size − 1)/2⌉ after, clipped to the channels). x is [N, C, ...].
 * Differentiable in x.
 * @example const h = lrn(conv1, { size: 5, alpha: 1e-4, beta: 0.75, bias: 2 });
 */
export function lrn<T extends AnyTensor>(x: T, options: LrnOptions): T {
  return apply(lrnOp, [x], lrnAttrs(options))[0]!;
}

function lrnAttrs(options: LrnOptions): LrnAttrs {
  const { size, alpha = 1e-4, beta = 0.75, bias = 1 } = options;
  if (!Number.isInteger(size) || size < 1) throw new Error(`lrn: size must be a positive integer, got ${size}`);
  for (const [what, v] of [['alpha', alpha], ['beta', beta], ['bias', bias]] as const) {
    if (!Number.isFinite(v)) throw new Error(`lrn: ${what} must be a finite number, got ${v}`);
  }
  if (bias <= 0) throw new Error(`lrn: bias must be positive (the scale bias + alpha/size·Σx² is raised to −beta), got ${bias}`);
  return { size, alpha, beta, bias };
}

/** LRN that also returns the scale bias + alpha/size·Σx² it divided by (to the power beta). */
export function lrnWithScale<T extends AnyTensor>(x: T, options: LrnOptions): [y: T, scale: T] {
  const [y, scale] = apply(lrnOp, [x], lrnAttrs(options));
  return [y!, scale!];
}

/** dx of LRN from x, the forward's scale and dy. */
export function lrnBackward<T extends AnyTensor>(x: T, scale: T, dy: T, options: LrnOptions): T {
  return apply(lrnBackwardOp, [x, scale, dy], lrnAttrs(options))[0]!;
}
