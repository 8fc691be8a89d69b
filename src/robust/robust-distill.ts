import type { Dataset } from '../data/dataset.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import type { Tensor } from '../graph/tensor.js';
import { softmaxCrossEntropy, softmaxCrossEntropyPerRow } from '../losses/softmax-cross-entropy.js';
import { temperatureKl, temperatureKlPerRow } from '../losses/temperature-kl.js';
import type { Sequential } from '../nn/sequential.js';
import { add, scale } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { fit, type FitOptions, type FitResult, type Objective } from '../train/fit.js';
import { InnerAttack, type InnerAttackOptions } from './inner-attack.js';
import { requirePixelUnits } from './pixel-units.js';
import { teacherStudentDiagnosis } from '../distill/diagnose.js';
import { checkTeacher, type DistillationWeights, distillationWeights } from '../distill/options.js';
import { TeacherLogitCache } from '../distill/teacher-logit-cache.js';
import type { Batch } from '../data/batches.js';
import type { TensorData } from '../graph/tensor.js';

/**
 * What every objective with a PGD inside its training step shares: the trained model's
 * parameters, the inner attack, its random-start counter in checkpoints (so a resumed run
 * draws the same starts) and dispose(). Subclasses give build().
 */
export abstract class InnerAttackObjective implements Objective {
  readonly parameters: readonly Tensor[];
  protected readonly attack: InnerAttack;

  constructor(protected readonly model: Sequential, attack: InnerAttackOptions) {
    this.parameters = [...model.parameters().values()];
    this.attack = new InnerAttack(model.ctx, attack);
  }

  abstract build(x: SymbolicTensor, y: SymbolicTensor): ReturnType<Objective['build']>;

  saveState(): Record<string, number> {
    return this.attack.saveState();
  }

  restoreState(state: Record<string, number> | undefined, info: { stepsDone: number; source: string }): void {
    this.attack.restoreState(state, info);
  }

  dispose(): void {
    this.attack.dispose();
  }
}

/**
 * What ARD and RSLAD share besides the inner attack: a frozen teacher that sees only the clean
 * batch, so it can run inside the step or be replaced by its logits computed once
 * (`cacheTeacherLogits`).
 */
abstract class TeacherInnerAttackObjective extends InnerAttackObjective {
  private cache?: TeacherLogitCache;

  constructor(model: Sequential, attack: InnerAttackOptions, protected readonly teacher: Sequential) {
    super(model, attack);
  }

  /** Runs the teacher once over `data`; every later step is fed its stored logits. */
  async cacheTeacherLogits(data: Dataset, batchSize: number): Promise<void> {
    this.cache = await TeacherLogitCache.compute([this.teacher], data, batchSize);
  }

  feeds(batch: Batch): Record<string, TensorData> {
    return this.cache ? this.cache.feeds(batch) : {};
  }

  /** The teacher's logits on the clean batch: its forward pass, or the cached rows. */
  protected teacherLogits(x: SymbolicTensor): SymbolicTensor {
    return this.cache ? this.cache.input(x) : this.teacher.call(x, { training: false });
  }
}

/** Shared by ardDistill and rsladDistill: what `cacheTeacherLogits` means there. */
export interface TeacherCacheOption {
  /**
   * Run the teacher once over the training set before training and feed its stored logits to
   * every step (default false): the same targets (up to the last bit), without a teacher forward
   * pass per step — the teacher is usually the largest network in the step. Refused with
   * `augment`.
   */
  cacheTeacherLogits?: boolean;
}

/**
 * Madry et al. (2018) adversarial training: minimise CE(model(x′), y) where x′ = PGD
 * maximising the model's own cross-entropy, regenerated on the GPU inside every step.
 * Training accuracy is measured on x′. Call dispose() after fitting.
 */
export class AdversarialTrainingObjective extends InnerAttackObjective {
  build(x: SymbolicTensor, y: SymbolicTensor) {
    const xAdv = this.attack.trace(this.model, x, (logits) => sum(softmaxCrossEntropyPerRow(logits, y)));
    const logits = this.model.call(xAdv, { training: true });
    return { loss: softmaxCrossEntropy(logits, y), logits };
  }
}

export interface ArdOptions extends DistillationWeights, TeacherCacheOption {
  /** The (robust) teacher, frozen; run in evaluation mode on the clean batch. */
  teacher: Sequential;
  attack: InnerAttackOptions;
  // temperature (default 4) of the KL term and hardWeight (default 0.1), the weight of the
  // clean cross-entropy (the KL term gets 1 − hardWeight), as in distill: DistillationWeights.
  // (ARD's former `alpha` weighted the KL term: passing it fails with a message.)
  /**
   * What the inner PGD maximises on the student: 'ce' its cross-entropy with the labels (as
   * in the ARD authors' code, the default), 'kl' the distillation term T²·KL(t(x) ‖ s(x′)), or
   * 'trades' TRADES' KL(s(x) ‖ s(x′)) away from the student's own clean prediction.
   */
  attackLoss?: 'ce' | 'kl' | 'trades';
}

/**
 * Adversarially robust distillation (Goldblum et al. 2020), with h = hardWeight:
 *   loss = (1 − h)·T²·KL(softmax(t(x)/T) ‖ softmax(s(x′)/T)) + h·CE(s(x), y)
 * with x′ = PGD on the student (see ArdOptions.attackLoss), made on the GPU inside every
 * step. Parts 'kd' and 'ce' are reported; training accuracy is the student's on x′.
 */
export class ArdObjective extends TeacherInnerAttackObjective {
  private readonly temperature: number;
  private readonly hardWeight: number;

  constructor(student: Sequential, private readonly options: ArdOptions) {
    checkTeacher('ard', student, options.teacher);
    if ('alpha' in options) {
      throw new Error(
        `ard: 'alpha' is no longer an ARD option (it weighted the KL term here but the hard loss in distill); pass hardWeight = 1 − alpha ` +
          `(${Number((1 - Number((options as { alpha: unknown }).alpha)).toFixed(6))} for your ${String((options as { alpha: unknown }).alpha)}), the weight of the clean cross-entropy`,
      );
    }
    // Checked before super() creates the attack's GPU buffers.
    const { temperature, hardWeight } = distillationWeights('ard', options);
    if (options.attackLoss !== undefined && !['ce', 'kl', 'trades'].includes(options.attackLoss)) {
      throw new Error(`ard: attackLoss must be 'ce', 'kl' or 'trades', got '${options.attackLoss as string}'`);
    }
    super(student, options.attack, options.teacher);
    this.temperature = temperature;
    this.hardWeight = hardWeight;
  }

  build(x: SymbolicTensor, y: SymbolicTensor) {
    const teacher = this.teacherLogits(x);
    const reference = this.options.attackLoss === 'trades' ? this.model.call(x, { training: false }) : teacher;
    const temperature = this.temperature;
    const xAdv = this.attack.trace(this.model, x, (logits) => sum(this.innerLoss(logits, reference, y)));
    const adversarial = this.model.call(xAdv, { training: true });
    const clean = this.model.call(x, { training: true });
    const parts = {
      kd: scale(temperatureKl(adversarial, teacher, { temperature }), 1 - this.hardWeight),
      ce: scale(softmaxCrossEntropy(clean, y), this.hardWeight),
    };
    return { loss: add(parts.kd, parts.ce), logits: adversarial, parts };
  }

  diagnose(x: SymbolicTensor, y: SymbolicTensor): Record<string, SymbolicTensor> {
    return teacherStudentDiagnosis(this.model, this.options.teacher, x, y, this.temperature);
  }

  /** What the inner PGD maximises per row (see ArdOptions.attackLoss); `reference` is the teacher's logits, or for 'trades' the student's clean ones. */
  private innerLoss(logits: SymbolicTensor, reference: SymbolicTensor, y: SymbolicTensor): SymbolicTensor {
    if (this.options.attackLoss === 'kl') return temperatureKlPerRow(logits, reference, { temperature: this.temperature });
    if (this.options.attackLoss === 'trades') return temperatureKlPerRow(logits, reference, { temperature: 1 });
    return softmaxCrossEntropyPerRow(logits, y);
  }
}

export interface RsladOptions extends TeacherCacheOption {
  /** The (robust) teacher, frozen; its soft labels on clean images are the only targets. */
  teacher: Sequential;
  attack: InnerAttackOptions;
  /**
   * What the inner PGD maximises: 'kl' KL(t(x) ‖ s(x′)) as in the paper (default), or
   * 'trades' TRADES' KL(s(x) ‖ s(x′)) away from the student's own clean prediction.
   */
  attackLoss?: 'kl' | 'trades';
}

/**
 * Robust soft label adversarial distillation (Zi et al. 2021), at T = 1:
 *   loss = 5/6·KL(softmax(t(x)) ‖ softmax(s(x′))) + 1/6·KL(softmax(t(x)) ‖ softmax(s(x)))
 * with x′ = PGD on the student maximising KL(softmax(t(x)) ‖ softmax(s(x′))). No hard
 * labels are used. Parts 'adversarialKl' and 'naturalKl' (weighted) are reported.
 */
export class RsladObjective extends TeacherInnerAttackObjective {
  constructor(student: Sequential, private readonly options: RsladOptions) {
    checkTeacher('rslad', student, options.teacher);
    if (options.attackLoss !== undefined && options.attackLoss !== 'kl' && options.attackLoss !== 'trades') {
      throw new Error(`rslad: attackLoss must be 'kl' or 'trades', got '${options.attackLoss as string}'`);
    }
    super(student, options.attack, options.teacher);
  }

  build(x: SymbolicTensor, _y: SymbolicTensor) {
    const teacher = this.teacherLogits(x);
    const reference = this.options.attackLoss === 'trades' ? this.model.call(x, { training: false }) : teacher;
    const xAdv = this.attack.trace(this.model, x, (logits) => sum(temperatureKlPerRow(logits, reference, { temperature: 1 })));
    const adversarial = this.model.call(xAdv, { training: true });
    const clean = this.model.call(x, { training: true });
    const parts = {
      adversarialKl: scale(temperatureKl(adversarial, teacher, { temperature: 1 }), 5 / 6),
      naturalKl: scale(temperatureKl(clean, teacher, { temperature: 1 }), 1 / 6),
    };
    return { loss: add(parts.adversarialKl, parts.naturalKl), logits: adversarial, parts };
  }

  diagnose(x: SymbolicTensor, y: SymbolicTensor): Record<string, SymbolicTensor> {
    return teacherStudentDiagnosis(this.model, this.options.teacher, x, y, 1);
  }
}

/**
 * Adversarially trains `model` (Madry PGD), e.g. to make a robust teacher. Each training
 * step runs the inner PGD and the update as one submit (no readback).
 * @example await adversarialTrain(teacher, train, { attack: { epsilon: 0.1, steps: 7 }, epochs: 5, batchSize: 64, optimizer: new Adam({ learningRate: 1e-3 }) });
 */
export async function adversarialTrain(model: Sequential, data: Dataset, options: FitOptions & { attack: InnerAttackOptions }): Promise<FitResult> {
  requirePixelUnits(data, 'adversarialTrain', 'the inner attack works', 'train on');
  return fitAndDispose(model, data, new AdversarialTrainingObjective(model, options.attack), options);
}

/**
 * Trains `student` by ARD from a frozen (robust) teacher; see {@link ArdObjective}.
 * @example await ardDistill(student, train, { teacher, attack: { epsilon: 0.1, steps: 7 }, temperature: 4, hardWeight: 0.1, epochs: 5, batchSize: 64, optimizer });
 */
export async function ardDistill(student: Sequential, data: Dataset, options: FitOptions & ArdOptions): Promise<FitResult> {
  requirePixelUnits(data, 'ardDistill', 'the inner attack works', 'train on');
  if (options.cacheTeacherLogits) TeacherLogitCache.refuseUnless('ardDistill', options);
  return fitAndDispose(student, data, new ArdObjective(student, options), options);
}

/**
 * Trains `student` by RSLAD from a frozen (robust) teacher; see {@link RsladObjective}.
 * @example await rsladDistill(student, train, { teacher, attack: { epsilon: 0.1, steps: 7 }, epochs: 5, batchSize: 64, optimizer });
 */
export async function rsladDistill(student: Sequential, data: Dataset, options: FitOptions & RsladOptions): Promise<FitResult> {
  requirePixelUnits(data, 'rsladDistill', 'the inner attack works', 'train on');
  if (options.cacheTeacherLogits) TeacherLogitCache.refuseUnless('rsladDistill', options);
  return fitAndDispose(student, data, new RsladObjective(student, options), options);
}

async function fitAndDispose(model: Sequential, data: Dataset, objective: Objective & { dispose(): void }, options: FitOptions & TeacherCacheOption): Promise<FitResult> {
  try {
    if (options.cacheTeacherLogits && objective instanceof TeacherInnerAttackObjective) await objective.cacheTeacherLogits(data, options.batchSize);
    return await fit(model, data, objective, options);
  } finally {
    objective.dispose();
  }
}
