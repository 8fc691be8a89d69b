import accuracyCode from '../../shaders/accuracy.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { mean } from './reduce.js';
import { expectDtype, expectRank } from './shape-errors.js';

const accuracyShader = shader('accuracy', accuracyCode, wgslLib.grid);

/** Outputs: [0] predicted class u32 [rows]; [1] 1.0 where it equals the label, else 0.0. */
const argmaxCorrectOp: OpDef = {
  name: 'argmax_correct',
  grad: null,
  outputs([logits, labels]) {
    expectRank('argmax_correct', 'logits', logits!, 2);
    expectDtype('argmax_correct', 'labels', labels!, 'u32');
    if (labels!.shape.join() !== `${logits!.shape[0]}`) {
      throw new Error(`argmax_correct: labels [${labels!.shape}] must be [${logits!.shape[0]}] for logits [${logits!.shape}]`);
    }
    const rows = logits!.shape[0]!;
    return [
      { shape: [rows], dtype: 'u32' },
      { shape: [rows], dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [logits, labels], outputs: [predicted, correct] }) => [
    {
      shader: accuracyShader,
      entry: 'argmax_correct',
      params: { rows: logits!.shape[0]!, classes: logits!.shape[1]! },
      buffers: { logits: logits!, labels: labels!, predicted: predicted!, correct: correct! },
      workgroups: grid1d(logits!.shape[0]!, 64),
    },
  ],
};

/** [predicted class per row (u32), 1/0 correctness per row (f32)]. */
export function argmaxCorrect<T extends AnyTensor>(logits: T, labels: T): [T, T] {
  const [predicted, correct] = apply(argmaxCorrectOp, [logits, labels], {});
  return [predicted!, correct!];
}

/** Fraction of rows whose argmax equals the label, as a [1] tensor. */
export function accuracy<T extends AnyTensor>(logits: T, labels: T): T {
  return mean(argmaxCorrect(logits, labels)[1]);
}
