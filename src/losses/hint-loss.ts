import hintLossCode from '../../shaders/hint_loss.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { sizeOf } from '../graph/tensor.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { expectDtype, expectSameShape } from '../ops/shape-errors.js';

const hintLossShader = shader('hint_loss', hintLossCode, wgslLib.grid);

/**
 * Inputs: student, teacher (same shape). Outputs: [0] (s − t)²/n per element; [1] 2(s − t)/n,
 * d(mean)/d(student), saved for backward.
 */
const hintLossOp: OpDef = {
  name: 'hint_loss',
  outputs([student, teacher]) {
    expectDtype('hint_loss', 'student features', student!, 'f32');
    expectDtype('hint_loss', 'teacher features', teacher!, 'f32');
    expectSameShape('hint_loss', student!, teacher!);
    return [
      { shape: student!.shape, dtype: 'f32' },
      { shape: student!.shape, dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [student, teacher], outputs: [terms, grad] }) => {
    const size = sizeOf(student!.shape);
    return [
      {
        shader: hintLossShader,
        entry: 'hint_loss',
        params: { size, inv_size: 1 / size },
        buffers: { student: student!, teacher: teacher!, terms: terms!, grad: grad! },
        workgroups: grid1d(size, 256),
      },
    ];
  },
  // The kernel wrote d(term_i)/d(s_i); the teacher's features are constants.
  grad: ([dTerms], _inputs, [, saved]) => [mul(dTerms!, saved!), undefined],
};

/**
 * Feature (hint) loss: the mean over all elements of (student − teacher)², as a [1] tensor.
 * Shapes must match (put a regressor on the student first if they do not). The teacher is
 * a constant: no gradient flows into it. One kernel writes the squared errors (divided by n)
 * and the gradient; `sum` adds the errors up.
 * @example const loss = hintLoss(studentFeatures, teacherFeatures);
 */
export function hintLoss<T extends AnyTensor>(student: T, teacher: T): T {
  return sum(apply(hintLossOp, [student, teacher], {})[0]!);
}
