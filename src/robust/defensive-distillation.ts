import type { Dataset } from '../data/dataset.js';
import { distill } from '../distill/distiller.js';
import { checkTeacher } from '../distill/options.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { checkTemperature } from '../losses/loss-options.js';
import { softmaxCrossEntropy } from '../losses/softmax-cross-entropy.js';
import type { Sequential } from '../nn/sequential.js';
import { scale } from '../ops/elementwise.js';
import { fit, type FitOptions, type FitResult } from '../train/fit.js';
import type { AttackNorm } from './attack-ops.js';
import { type RobustCurve, robustAccuracyCurve } from './attacks.js';

/**
 * Trains `model` with cross-entropy of softmax(logits / T): the first stage of defensive
 * distillation (Papernot et al. 2016). At T = 1 this is plain training.
 * @example await temperatureTrain(teacher, train, { temperature: 100, epochs: 5, batchSize: 64, optimizer });
 */
export function temperatureTrain(model: Sequential, data: Dataset, options: FitOptions & { temperature: number }): Promise<FitResult> {
  checkTemperature('temperatureTrain', options.temperature);
  return fit(model, data, {
    parameters: [...model.parameters().values()],
    build: (x: SymbolicTensor, y: SymbolicTensor) => {
      const logits = model.call(x, { training: true });
      return { loss: softmaxCrossEntropy(scale(logits, 1 / options.temperature), y), logits };
    },
  }, options);
}

/**
 * Second stage of defensive distillation: trains `student` on the soft labels
 * softmax(t(x)/T) of a teacher trained at the same T (see temperatureTrain), with the
 * loss T²·KL(softmax(t/T) ‖ softmax(s/T)) and no hard labels. The student is then used at
 * T = 1, where its logits are about T times larger: softmax saturates and cross-entropy
 * gradients vanish, which defeats gradient attacks on that loss without making the model
 * robust (Carlini & Wagner 2017) — see apparentRobustness.
 * @example await defensiveDistill(student, train, { teacher, temperature: 100, epochs: 5, batchSize: 64, optimizer });
 */
export async function defensiveDistill(student: Sequential, data: Dataset, options: FitOptions & { teacher: Sequential; temperature: number }): Promise<FitResult> {
  checkTemperature('defensiveDistill', options.temperature);
  checkTeacher('defensiveDistill', student, options.teacher);
  return distill(student, data, { ...options, hardWeight: 0 });
}

export interface ApparentRobustness {
  clean: number;
  /** Accuracy under softmax-CE FGSM: what a naive evaluation reports. */
  fgsmCe: number;
  /** Accuracy under CW-margin PGD: what is left against an attack whose gradients do not vanish. */
  pgdMargin: number;
  /** fgsmCe − pgdMargin: robustness that is only apparent. */
  gap: number;
  /** True when the sanity checks flag gradient masking. */
  maskingSuspected: boolean;
  /** The full curve (at ε and the unbounded ε) with its sanity flags. */
  curve: RobustCurve;
}

/**
 * Compares a model's accuracy under softmax-cross-entropy FGSM with its accuracy under
 * CW-margin PGD at one ε. A defensively distilled model typically looks robust to the
 * first (its CE gradients underflow to zero in f32) and is not robust to the second.
 * @example const { fgsmCe, pgdMargin, maskingSuspected } = await apparentRobustness(student, test, { epsilon: 0.2 });
 */
export async function apparentRobustness(
  model: Sequential,
  ds: Dataset,
  options: { epsilon: number; norm?: AttackNorm; steps?: number; restarts?: number; batchSize?: number; seed?: number },
): Promise<ApparentRobustness> {
  const { epsilon, norm, steps = 20, restarts = 1, batchSize, seed } = options;
  const curve = await robustAccuracyCurve(model, ds, {
    epsilons: [epsilon],
    norm,
    batchSize,
    seed,
    attacks: [
      { kind: 'fgsm', loss: 'ce' },
      { kind: 'pgd', loss: 'margin', steps, restarts },
    ],
  });
  const [fgsm, pgd] = curve.curves;
  const fgsmCe = fgsm!.accuracy[0]!;
  const pgdMargin = pgd!.accuracy[0]!;
  const maskingSuspected = curve.flags.some((f) => f.check === 'gradient-masking-suspected');
  return { clean: curve.clean, fgsmCe, pgdMargin, gap: fgsmCe - pgdMargin, maskingSuspected, curve };
}
