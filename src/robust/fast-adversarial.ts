// Cheaper robust training: FGSM with a random start ("fast adversarial training", Wong, Rice
// & Kolter 2020) with its catastrophic-overfitting check, and TRADES (Zhang et al. 2019).
import type { Dataset } from '../data/dataset.js';
import { subset } from '../data/dataset.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { klDivergence } from '../losses/kl-divergence.js';
import { softmaxCrossEntropy } from '../losses/softmax-cross-entropy.js';
import { temperatureKlPerRow } from '../losses/temperature-kl.js';
import type { Sequential } from '../nn/sequential.js';
import { add, scale } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import type { AfterEpochContext, EpochStats, FitOptions, FitResult } from '../train/fit.js';
import { fit } from '../train/fit.js';
import { attackDataset } from './attacks.js';
import type { InnerAttackOptions } from './inner-attack.js';
import { requirePixelUnits } from './pixel-units.js';
import { AdversarialTrainingObjective, InnerAttackObjective } from './robust-distill.js';

/** Where each epoch's stats keep the overfitting check's PGD accuracy. */
const CHECK_KEY = 'overfittingCheckPgd';

/** Wong et al.'s FGSM step size (their α): 1.25·ε, from a uniform random start in the ε-ball. */
export const FAST_AT_STEP = 1.25;

/** The check for catastrophic overfitting: PGD accuracy on a fixed set of training images after every epoch. */
export interface OverfittingCheck {
  /** Training images attacked after each epoch (default the first 500 of the training data). */
  images?: number;
  /** PGD steps of the check (default 10, α = ε/4, one random start). */
  steps?: number;
  /**
   * Largest fall of that PGD accuracy from the best epoch so far before the run is stopped
   * and the previous epoch's weights restored (default 0.2: Wong et al. saw it collapse to ~0
   * within an epoch when it happens).
   */
  maxDrop?: number;
}

export interface FastAdversarialResult extends FitResult {
  /** PGD accuracy on the check's images after each epoch (the last one may be the reverted epoch's). */
  checkAccuracy: number[];
  /** Set when the check stopped the run: the epoch that overfitted and the accuracies behind the verdict. */
  catastrophicOverfitting?: { epoch: number; best: number; accuracy: number; message: string };
}

/**
 * Fast adversarial training (Wong et al. 2020): Madry's objective with a one-step inner attack,
 * FGSM from a uniform random start with step size `stepSize` (default 1.25·ε), about as cheap as two plain
 * epochs. After every epoch a PGD attack on a fixed set of training images checks for
 * catastrophic overfitting (FGSM robustness without PGD robustness); when its accuracy falls
 * by more than `maxDrop` from the best epoch, training stops with the previous epoch's weights
 * and `catastrophicOverfitting` says so. `overfittingCheck: false` turns the check off.
 * `epsilonRampSteps` grows ε (and the step) linearly from 0 over that many steps first.
 * @example const result = await fastAdversarialTrain(teacher, train, { epsilon: 0.3, epochs: 10, batchSize: 128, optimizer: new Adam({ learningRate: 1e-3 }) });
 */
export async function fastAdversarialTrain(
  model: Sequential,
  data: Dataset,
  options: FitOptions & { epsilon: number; stepSize?: number; seed?: number; epsilonRampSteps?: number; overfittingCheck?: OverfittingCheck | false },
): Promise<FastAdversarialResult> {
  requirePixelUnits(data, 'fastAdversarialTrain', 'the inner attack works', 'train on');
  const { epsilon } = options;
  const stepSize = options.stepSize ?? FAST_AT_STEP * epsilon;
  const check = options.overfittingCheck === false ? undefined : { images: 500, steps: 10, maxDrop: 0.2, ...options.overfittingCheck };
  if (check && !(check.maxDrop >= -1 && check.maxDrop <= 1)) throw new Error(`fastAdversarialTrain: overfittingCheck.maxDrop must be in [-1, 1], got ${check.maxDrop}`);
  const checkSet = check ? subset(data, 0, Math.min(check.images, data.count)) : undefined;
  let checkAccuracy: number[] = [];
  let verdict: FastAdversarialResult['catastrophicOverfitting'];
  const afterEpoch = async (stats: EpochStats, { history, resumedAfterStep }: AfterEpochContext): Promise<'continue' | 'revert-and-stop'> => {
    const { accuracy } = await attackDataset(model, checkSet!, { kind: 'pgd', epsilon, steps: check!.steps, relativeStepSize: 0.25, seed: stats.epoch, adversarial: false });
    // Kept in the epoch's stats, so a run resumed from a checkpoint still knows the earlier epochs'.
    stats.checks = { ...stats.checks, [CHECK_KEY]: accuracy };
    checkAccuracy = history.flatMap((h) => (h.checks?.[CHECK_KEY] === undefined ? [] : [h.checks[CHECK_KEY]]));
    const earlier = checkAccuracy.slice(0, -1);
    // The first epoch has nothing to fall from.
    const best = earlier.length > 0 ? Math.max(...earlier) : undefined;
    if (best === undefined || accuracy >= best - check!.maxDrop) return 'continue';
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    const restored =
      resumedAfterStep === undefined
        ? `the weights of epoch ${stats.epoch - 1}`
        : `the weights at step ${resumedAfterStep} of epoch ${stats.epoch}, where this run resumed from a mid-epoch checkpoint (it does not keep those of epoch ${stats.epoch - 1})`;
    verdict = {
      epoch: stats.epoch,
      best,
      accuracy,
      message:
        `catastrophic overfitting in epoch ${stats.epoch}: PGD-${check!.steps} accuracy (ε = ${epsilon}) on ${checkSet!.count} training images fell from ${pct(best)} to ${pct(accuracy)}; ` +
        `training stopped with ${restored}. Try a smaller step (stepSize), a smaller ε at first (epsilonRampSteps), or multi-step PGD (adversarialTrain)`,
    };
    return 'revert-and-stop';
  };
  const objective = new AdversarialTrainingObjective(model, { epsilon, steps: 1, stepSize, randomStart: true, seed: options.seed, epsilonRampSteps: options.epsilonRampSteps });
  try {
    const result = await fit(model, data, objective, { ...options, ...(check ? { afterEpoch } : {}) });
    return { ...result, checkAccuracy, ...(verdict ? { catastrophicOverfitting: verdict } : {}) };
  } finally {
    objective.dispose();
  }
}

export interface TradesOptions {
  /** The inner attack: it maximises KL(f(x) ‖ f(x′)) (TRADES uses 10 steps of ε/4 at ε = 0.3 on MNIST). */
  attack: InnerAttackOptions;
  /** β: weight of the robust (KL) term (default 6, the paper's choice; larger: more robust, less accurate). */
  beta?: number;
}

/**
 * TRADES (Zhang et al. 2019): loss = CE(f(x), y) + β·KL(softmax f(x) ‖ softmax f(x′)), with x′
 * from PGD maximising that KL on the model in evaluation mode (random start in the ε-ball,
 * where the paper starts at x + 0.001·N(0, I)). The KL term's gradient flows into both
 * forward passes, as in the authors' code. Parts 'ce' and 'kl' (weighted) are reported;
 * training accuracy is measured on x′. Call dispose() after fitting.
 */
export class TradesObjective extends InnerAttackObjective {
  private readonly beta: number;

  constructor(model: Sequential, options: TradesOptions) {
    const beta = options.beta ?? 6;
    // Checked before super() creates the attack's GPU buffers.
    if (!(Number.isFinite(beta) && beta >= 0)) throw new Error(`trades: beta must be a finite number ≥ 0, got ${beta}`);
    super(model, options.attack);
    this.beta = beta;
  }

  build(x: SymbolicTensor, y: SymbolicTensor) {
    const reference = this.model.call(x, { training: false });
    const xAdv = this.attack.trace(this.model, x, (logits) => sum(temperatureKlPerRow(logits, reference, { temperature: 1 })));
    const natural = this.model.call(x, { training: true });
    const adversarial = this.model.call(xAdv, { training: true });
    const parts = { ce: softmaxCrossEntropy(natural, y), kl: scale(klDivergence(natural, adversarial), this.beta) };
    return { loss: add(parts.ce, parts.kl), logits: adversarial, parts };
  }
}

/**
 * Trains `model` with TRADES; see {@link TradesObjective}.
 * @example await tradesTrain(model, train, { attack: { epsilon: 0.3, steps: 10 }, beta: 6, epochs: 5, batchSize: 128, optimizer });
 */
export async function tradesTrain(model: Sequential, data: Dataset, options: FitOptions & TradesOptions): Promise<FitResult> {
  requirePixelUnits(data, 'tradesTrain', 'the inner attack works', 'train on');
  const objective = new TradesObjective(model, options);
  try {
    return await fit(model, data, objective, options);
  } finally {
    objective.dispose();
  }
}
