import dkdCode from '../../shaders/dkd.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { formatShape } from '../graph/tensor.js';
import { scaleRows } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { expectDtype, expectRank, expectSameShape } from '../ops/shape-errors.js';
import { checkNonNegativeWeight, checkTemperature, refuseRenamedOptions } from './loss-options.js';

const dkdShader = shader('dkd', dkdCode, wgslLib.logSumExp, wgslLib.numbers, wgslLib.grid);

interface DkdAttrs {
  temperature: number;
  alpha: number;
  beta: number;
}

/** Inputs: student, teacher [rows, classes], labels u32 [rows]. Outputs: loss per row, saved gradient. */
export const dkdOp: OpDef<DkdAttrs> = {
  name: 'dkd',
  outputs([student, teacher, labels]) {
    expectRank('dkd', 'student logits', student!, 2);
    expectSameShape('dkd', student!, teacher!);
    expectDtype('dkd', 'labels', labels!, 'u32');
    if (student!.shape[1]! < 2) throw new Error(`dkd: needs at least 2 classes, got logits ${formatShape(student!.shape)}`);
    if (labels!.shape.join() !== `${student!.shape[0]}`) {
      throw new Error(`dkd: labels ${formatShape(labels!.shape)} must be [${student!.shape[0]}] for logits ${formatShape(student!.shape)}`);
    }
    return [
      { shape: [student!.shape[0]!], dtype: 'f32' },
      { shape: student!.shape, dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [student, teacher, labels], outputs: [loss, grad] }, attrs) => [
    {
      shader: dkdShader,
      entry: 'dkd',
      params: { rows: student!.shape[0]!, classes: student!.shape[1]!, ...attrs },
      buffers: { student: student!, teacher: teacher!, labels: labels!, loss: loss!, grad: grad! },
      workgroups: grid1d(student!.shape[0]!, 64),
    },
  ],
  grad: ([dLoss], _inputs, [, saved]) => [scaleRows(saved!, dLoss!), undefined, undefined],
};

/** DKD's former option names, refused with their new ones. */
export const DKD_RENAMED = { alpha: "'tckdWeight' (the paper's α, weight of TCKD)", beta: "'nckdWeight' (the paper's β, weight of NCKD)" } as const;

export interface DkdOptions {
  temperature: number;
  /** Weight of the target-class part (TCKD), the paper's α. The paper uses 1. */
  tckdWeight: number;
  /** Weight of the non-target part (NCKD), the paper's β. The paper uses 8 on CIFAR-100. */
  nckdWeight: number;
}

/**
 * Decoupled knowledge distillation (Zhao et al. 2022) as a [1] tensor: the batch mean of
 * T²·(tckdWeight·TCKD + nckdWeight·NCKD), where TCKD is the binary KL between teacher and student on
 * "target class vs. the rest" and NCKD the KL among the non-target classes only. Add the
 * hard cross-entropy yourself (the paper trains with CE + DKD). Loss and gradient come
 * from one fused kernel; the teacher is a constant.
 * @example const loss = add(softmaxCrossEntropy(s, y), dkdLoss(s, t, y, { temperature: 4, tckdWeight: 1, nckdWeight: 8 }));
 */
export function dkdLoss<T extends AnyTensor>(student: T, teacher: T, labels: T, options: DkdOptions): T {
  refuseRenamedOptions('dkd', options, DKD_RENAMED);
  const { temperature, tckdWeight, nckdWeight } = options;
  checkTemperature('dkd', temperature);
  checkNonNegativeWeight('dkd', 'tckdWeight', tckdWeight);
  checkNonNegativeWeight('dkd', 'nckdWeight', nckdWeight);
  // The kernel's uniforms keep the paper's names: alpha = TCKD weight, beta = NCKD weight.
  return mean(apply(dkdOp, [student, teacher, labels], { temperature, alpha: tckdWeight, beta: nckdWeight })[0]!);
}
