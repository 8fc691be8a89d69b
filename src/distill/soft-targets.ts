import mixtureCode from '../../shaders/soft_target_mixture.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { expectRank, expectSameShape } from '../ops/shape-errors.js';

const mixtureShader = shader('soft_target_mixture', mixtureCode, wgslLib.logSumExp, wgslLib.numbers, wgslLib.grid);

const mixOp: OpDef<{ temperature: number; weight: number }> = {
  name: 'mix_soft_targets',
  grad: null,
  outputs([a, b]) {
    expectRank('mix_soft_targets', 'teacher logits', a!, 2);
    expectSameShape('mix_soft_targets', a!, b!);
    return [{ shape: a!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [a, b], outputs: [out] }, { temperature, weight }) => [
    {
      shader: mixtureShader,
      entry: 'mix_soft_targets',
      params: { rows: a!.shape[0]!, classes: a!.shape[1]!, temperature, weight },
      buffers: { a: a!, b: b!, out: out! },
      workgroups: grid1d(a!.shape[0]!, 64),
    },
  ],
};

/**
 * Logits whose softmax at temperature T is the weighted average of the teachers' softmaxes
 * at T (averaged soft targets), so the fused temperatureKl can distil from an ensemble.
 * Weights are normalised to sum to 1. Teachers are constants (no gradient).
 * @example const target = mixSoftTargets([t1, t2], [0.5, 0.5], 4);
 */
export function mixSoftTargets<T extends AnyTensor>(teachers: readonly T[], weights: readonly number[], temperature: number): T {
  if (teachers.length === 0) throw new Error('mixSoftTargets: needs at least one teacher');
  if (weights.length !== teachers.length) throw new Error(`mixSoftTargets: ${weights.length} weights for ${teachers.length} teachers`);
  if (!weights.every((w) => Number.isFinite(w) && w >= 0) || weights.every((w) => w === 0)) {
    throw new Error(`mixSoftTargets: weights must be non-negative and not all zero, got [${weights.join(', ')}]`);
  }
  // Fold pairwise: mix(m_k, t_{k+1}) with the running weight keeps the mixture exact.
  let mixed = teachers[0]!;
  let total = weights[0]!;
  for (let k = 1; k < teachers.length; k++) {
    const next = total + weights[k]!;
    if (next > 0) mixed = total === 0 ? teachers[k]! : apply(mixOp, [mixed, teachers[k]!], { temperature, weight: total / next })[0]!;
    total = next;
  }
  return mixed;
}
