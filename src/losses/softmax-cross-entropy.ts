import softmaxCrossEntropyCode from '../../shaders/softmax_cross_entropy.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import type { OpDef } from '../graph/op.js';
import { grid1d } from '../graph/op.js';
import { scaleRows } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { expectDtype, expectRank } from '../ops/shape-errors.js';

const softmaxCrossEntropyShader = shader('softmax_cross_entropy', softmaxCrossEntropyCode, wgslLib.logSumExp, wgslLib.workgroupReduce, wgslLib.numbers, wgslLib.grid);

/** Outputs: [0] loss per row [rows]; [1] d(loss row)/d(logits) [rows, classes], saved for backward. */
export const softmaxCrossEntropyOp: OpDef = {
  name: 'softmax_cross_entropy',
  outputs([logits, labels]) {
    expectRank('softmax_cross_entropy', 'logits', logits!, 2);
    expectRank('softmax_cross_entropy', 'labels', labels!, 1);
    expectDtype('softmax_cross_entropy', 'logits', logits!, 'f32');
    expectDtype('softmax_cross_entropy', 'labels', labels!, 'u32');
    if (labels!.shape[0] !== logits!.shape[0]) {
      throw new Error(`softmax_cross_entropy: ${labels!.shape[0]} labels for ${logits!.shape[0]} rows of logits [${logits!.shape}]`);
    }
    return [
      { shape: [logits!.shape[0]!], dtype: 'f32' },
      { shape: logits!.shape, dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [logits, labels], outputs: [loss, grad] }) => [
    {
      shader: softmaxCrossEntropyShader,
      entry: 'softmax_cross_entropy',
      params: { rows: logits!.shape[0]!, classes: logits!.shape[1]! },
      buffers: { logits: logits!, labels: labels!, loss: loss!, grad: grad! },
      workgroups: grid1d(logits!.shape[0]!, 1),
    },
  ],
  // The kernel already wrote d(loss_r)/d(logits_r); scale each row by the incoming gradient.
  grad: ([dLoss], _inputs, [, saved]) => [scaleRows(saved!, dLoss!), undefined],
};

/** Per-row cross-entropy of softmax(logits) against integer labels, [rows]. */
export function softmaxCrossEntropyPerRow<T extends AnyTensor>(logits: T, labels: T): T {
  return apply(softmaxCrossEntropyOp, [logits, labels], {})[0]!;
}

/**
 * Mean cross-entropy of softmax(logits) against u32 labels, as a [1] tensor. Softmax and
 * loss are one fused kernel that also writes the gradient, so backward costs one scaling.
 * @example const loss = softmaxCrossEntropy(logits, labels);
 */
export function softmaxCrossEntropy<T extends AnyTensor>(logits: T, labels: T): T {
  return mean(softmaxCrossEntropyPerRow(logits, labels));
}
