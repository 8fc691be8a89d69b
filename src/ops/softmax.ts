import softmaxCode from '../../shaders/softmax.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { sizeOf, type TensorSpec } from '../graph/tensor.js';
import { expectDtype, expectSameShape } from './shape-errors.js';

const softmaxShader = shader('softmax', softmaxCode, wgslLib.logSumExp, wgslLib.numbers, wgslLib.grid);

interface RowAttrs {
  /** Trailing elements that form one row (the softmax axis and everything after it). */
  cols: number;
  log: boolean;
}

const opName = (log: boolean) => (log ? 'log_softmax' : 'softmax');

function rowsOf(x: TensorSpec, cols: number, op: string): number {
  const size = sizeOf(x.shape);
  if (!Number.isInteger(cols) || cols < 1 || size % cols !== 0) throw new Error(`${op}: rows of ${cols} elements do not divide x [${x.shape}]`);
  return size / cols;
}

const softmaxOp: OpDef<RowAttrs> = {
  name: 'softmax',
  outputs([x], { cols, log }) {
    expectDtype(opName(log), 'x', x!, 'f32');
    rowsOf(x!, cols, opName(log));
    return [{ shape: x!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }, { cols, log }) => {
    const rows = rowsOf(x!, cols, opName(log));
    return [{ shader: softmaxShader, entry: log ? 'log_softmax_rows' : 'softmax_rows', params: { rows, cols }, buffers: { x: x!, out: y! }, workgroups: grid1d(rows, 64) }];
  },
  grad: ([dy], _inputs, [y], attrs) => [apply(softmaxBackwardOp, [dy!, y!], attrs)[0]!],
};

/** Inputs: dy, y (the forward output). */
const softmaxBackwardOp: OpDef<RowAttrs> = {
  name: 'softmax_backward',
  grad: null,
  outputs([dy, y], { log }) {
    expectSameShape(`${opName(log)} backward`, dy!, y!);
    return [{ shape: y!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [dy, y], outputs: [dx] }, { cols, log }) => {
    const rows = rowsOf(y!, cols, opName(log));
    return [{ shader: softmaxShader, entry: log ? 'log_softmax_backward' : 'softmax_backward', params: { rows, cols }, buffers: { y: y!, dy: dy!, out: dx! }, workgroups: grid1d(rows, 64) }];
  },
};

/**
 * Softmax over the trailing `cols` elements of each row of x (default: the last axis), as
 * ONNX Softmax with axis = −1 (opset 13) or its 2-D coercion at `axis` (opset < 13, where
 * cols = the product of the dims from `axis` on).
 * @example softmax(logits) // rows sum to 1
 */
export function softmax<T extends AnyTensor>(x: T, cols = x.shape.at(-1)!): T {
  return apply(softmaxOp, [x], { cols, log: false })[0]! as T;
}

/** log(softmax(x)) over the same rows, computed as x − max − log Σ e^(x − max). @example logSoftmax(logits) */
export function logSoftmax<T extends AnyTensor>(x: T, cols = x.shape.at(-1)!): T {
  return apply(softmaxOp, [x], { cols, log: true })[0]! as T;
}
