import reduceCode from '../../shaders/reduce.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import type { KernelCall, OpDef } from '../graph/op.js';
import { sizeOf } from '../graph/tensor.js';
import { broadcastScalar } from './elementwise.js';
import { expectDtype, expectRank } from './shape-errors.js';

const reduceShader = shader('reduce', reduceCode, wgslLib.workgroupReduce, wgslLib.pairwiseSum);

/** Elements per workgroup in the first pass: 256 invocations × 16 terms each. */
const PER_GROUP = 4096;

/** Outputs: [0] the sum [1]; [1] the first pass's partial sums (scratch). */
const reduceSumOp: OpDef<{ factor: number }> = {
  name: 'reduce_sum',
  outputs([x]) {
    expectDtype('reduce_sum', 'x', x!, 'f32');
    const groups = Math.ceil(sizeOf(x!.shape) / PER_GROUP);
    return [
      { shape: [1], dtype: 'f32' },
      { shape: [groups], dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [x], outputs: [y, partials] }, { factor }, ctx): KernelCall[] => {
    const size = sizeOf(x!.shape);
    const groups = partials!.shape[0]!;
    // One serial invocation on software adapters when one pass would do (reduce.wgsl says why).
    if (groups === 1 && ctx.profile.adapterKind === 'software') {
      return [{ shader: reduceShader, entry: 'reduce_sum_serial', params: { size, factor }, buffers: { x: x!, out: y! }, workgroups: [1] }];
    }
    return [
      { shader: reduceShader, entry: 'reduce_partial_sums', params: { size, per_group: PER_GROUP }, buffers: { x: x!, out: partials! }, workgroups: [groups] },
      { shader: reduceShader, entry: 'reduce_sum', params: { size: groups, factor }, buffers: { x: partials!, out: y! }, workgroups: [1] },
    ];
  },
  grad: ([dy], [x], _outputs, { factor }) => [broadcastScalar(dy!, x!.shape, factor)],
};

const columnSumOp: OpDef = {
  name: 'column_sum',
  grad: null,
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
