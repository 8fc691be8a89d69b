import reduceCode from '../../shaders/reduce.wgsl';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import type { OpDef } from '../graph/op.js';
import { sizeOf } from '../graph/tensor.js';
import { broadcastScalar } from './elementwise.js';
import { expectDtype, expectRank } from './shape-errors.js';

const reduceShader = shader('reduce', reduceCode);

const reduceSumOp: OpDef<{ factor: number }> = {
  name: 'reduce_sum',
  outputs([x]) {
    expectDtype('reduce_sum', 'x', x!, 'f32');
    return [{ shape: [1], dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }, { factor }) => [
    { shader: reduceShader, entry: 'reduce_sum', params: { size: sizeOf(x!.shape), factor }, buffers: { x: x!, out: y! }, workgroups: [1] },
  ],
  grad: ([dy], [x], _outputs, { factor }) => [broadcastScalar(dy!, x!.shape, factor)],
};

const columnSumOp: OpDef = {
  name: 'column_sum',
  outputs([x]) {
    expectRank('column_sum', 'x', x!, 2);
    return [{ shape: [x!.shape[1]!], dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }) => [
    {
      shader: reduceShader,
      entry: 'column_sum',
      params: { rows: x!.shape[0]!, cols: x!.shape[1]! },
      buffers: { x: x!, out: y! },
      workgroups: [Math.ceil(x!.shape[1]! / 64)],
    },
  ],
};

/** factor · (sum of all elements), as a [1] tensor. */
export function reduceSum<T extends AnyTensor>(x: T, factor = 1): T {
  return apply(reduceSumOp, [x], { factor })[0]!;
}

/** Sum of all elements. @example const total = sum(x); */
export function sum<T extends AnyTensor>(x: T): T {
  return reduceSum(x, 1);
}

/** Mean of all elements. @example const loss = mean(perRowLoss); */
export function mean<T extends AnyTensor>(x: T): T {
  return reduceSum(x, 1 / sizeOf(x.shape));
}

/** Sum over rows of a 2-D tensor: [rows, cols] -> [cols] (the bias gradient). */
export function columnSum<T extends AnyTensor>(x: T): T {
  return apply(columnSumOp, [x], {})[0]!;
}
