import { deriveSeed } from '../data/seed.js';
import { gradients } from '../graph/autodiff.js';
import type { Graph } from '../graph/graph.js';
import type { Plan } from '../graph/plan.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { formatShape, sizeOf, Tensor } from '../graph/tensor.js';
import { marginLossPerRow } from '../losses/margin-loss.js';
import { softmaxCrossEntropyPerRow } from '../losses/softmax-cross-entropy.js';
import type { Sequential } from '../nn/sequential.js';
import { argmaxCorrect } from '../ops/accuracy.js';
import { sum } from '../ops/reduce.js';
import { type ApgdLoss, ApgdRunner, targetsOfRank } from './apgd.js';
import { type AttackNorm, attackRandomStart, attackStep, keepBestAdversarial } from './attack-ops.js';
import { PlanCache } from './plan-cache.js';
import { SquareRunner } from './square.js';

/** What the attacker maximises: softmax cross-entropy at T = 1, or the CW margin max_{c≠y} z_c − z_y. */
export type AttackLoss = 'ce' | 'margin';

/** Fast gradient sign method: one step of size ε from the clean image (L2: along g/‖g‖). */
export interface FgsmSpec {
  kind: 'fgsm';
  epsilon: number;
  norm?: AttackNorm;
  loss?: AttackLoss;
}

/** Projected gradient descent (Madry et al. 2018) with random starts. */
export interface PgdSpec {
  kind: 'pgd';
  epsilon: number;
  norm?: AttackNorm;
  loss?: AttackLoss;
  /** Gradient steps per restart (default 10). */
  steps?: number;
  /** Step size α (default relativeStepSize · ε). */
  stepSize?: number;
  /** α / ε when stepSize is not given (default 2.5 / steps, Madry's choice). */
  relativeStepSize?: number;
  /** Independent random starts; per image the strongest result is kept (default 1). */
  restarts?: number;
  /** Start from a random point of the ball (default true); false starts from the clean image. */
  randomStart?: boolean;
}

/**
 * APGD (Croce & Hein 2020), L∞: momentum and a per-image step size that halves where the
 * loss stalls; `loss` 'ce' (APGD-CE), 'dlr' (APGD-DLR) or 'dlr-targeted' (APGD-T: one run per
 * target class, the `targets` classes with the largest clean logits after the top one).
 */
export interface ApgdSpec {
  kind: 'apgd';
  epsilon: number;
  norm?: 'linf';
  loss?: ApgdLoss;
  /** Iterations per run (default 100, as in AutoAttack). */
  steps?: number;
  /** Random restarts per loss and target (default 1). */
  restarts?: number;
  /** Target classes of APGD-T (default 9, at most classes − 1). */
  targets?: number;
}

/**
 * The AutoAttack-style cascade (Croce & Hein 2020, its white-box part) over a dataset:
 * APGD-CE on every image, then APGD-T with `targets` target classes and the black-box Square
 * on the images still robust; an image counts as robust only if it survives every stage (the
 * worst case per image). Run by attackDataset and robustAccuracyCurve.
 */
export interface AutoAttackSpec {
  kind: 'autoattack';
  epsilon: number;
  norm?: 'linf';
  /** Iterations of each APGD run (default 100). */
  steps?: number;
  /** Target classes of the APGD-T stage (default 9, at most classes − 1). */
  targets?: number;
  /** Queries of the final Square stage on the images still robust (default 5000; 0 leaves it out). */
  queries?: number;
}

/**
 * The Square attack (Andriushchenko et al. 2020), L∞: a black-box random search on the CW
 * margin that only reads logits (so gradient masking cannot stop it).
 */
export interface SquareSpec {
  kind: 'square';
  epsilon: number;
  norm?: 'linf';
  /** Model queries per image after the start (default 5000, as in AutoAttack). */
  queries?: number;
  /** Fraction of the pixels the first squares cover (default 0.8, AutoAttack's L∞ value). */
  pInit?: number;
}

export type AttackSpec = FgsmSpec | PgdSpec | ApgdSpec | AutoAttackSpec | SquareSpec;

/** Checks a Square spec; returns it with defaults filled in. */
export function resolveSquare(spec: SquareSpec): Required<Omit<SquareSpec, 'norm'>> {
  const { epsilon, norm = 'linf', queries = 5000, pInit = 0.8 } = spec;
  if (norm !== 'linf') throw new Error(`square: only the L∞ norm is implemented, got '${norm as string}'`);
  if (!(Number.isFinite(epsilon) && epsilon >= 0)) throw new Error(`square: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  if (!Number.isInteger(queries) || queries < 1) throw new Error(`square: queries must be a positive integer, got ${queries}`);
  if (!(pInit > 0 && pInit <= 1)) throw new Error(`square: pInit must be in (0, 1], got ${pInit}`);
  return { kind: 'square', epsilon, queries, pInit };
}

/** One APGD run of a cascade: its loss and, for APGD-T, the rank of its target class. */
interface ApgdStage {
  name: string;
  loss: ApgdLoss;
  targetRank?: number;
}

/** Checks an APGD spec; returns its stages (in order: one per loss, or per APGD-T target rank), iterations and restarts. */
export function resolveApgd(spec: ApgdSpec, classes: number): { epsilon: number; steps: number; restarts: number; stages: ApgdStage[] } {
  const { epsilon, steps, targets } = checkApgdBudget(spec, classes);
  const restarts = spec.restarts ?? 1;
  if (!Number.isInteger(restarts) || restarts < 1) throw new Error(`apgd: restarts must be a positive integer, got ${restarts}`);
  const loss = spec.loss ?? 'ce';
  if (loss !== 'ce' && loss !== 'dlr' && loss !== 'dlr-targeted') throw new Error(`apgd: loss must be 'ce', 'dlr' or 'dlr-targeted', got '${loss as string}'`);
  const stages: ApgdStage[] =
    loss === 'dlr-targeted'
      ? Array.from({ length: targets }, (_, i) => ({ name: `apgd-t (target rank ${i + 2})`, loss, targetRank: i + 2 }))
      : [{ name: `apgd-${loss}`, loss }];
  return { epsilon, steps, restarts, stages };
}

/** Checks an AutoAttack spec: its APGD budget and its Square queries. */
export function checkAutoAttack(spec: AutoAttackSpec, classes: number): ReturnType<typeof checkApgdBudget> & { queries: number } {
  const budget = checkApgdBudget(spec, classes);
  const queries = spec.queries ?? 5000;
  if (!Number.isInteger(queries) || queries < 0) throw new Error(`autoattack: queries must be an integer ≥ 0 (0 leaves Square out), got ${queries}`);
  return { ...budget, queries };
}

/** Checks what APGD and AutoAttack share: L∞, ε, iterations and the number of APGD-T targets. */
export function checkApgdBudget(spec: ApgdSpec | AutoAttackSpec, classes: number): { epsilon: number; steps: number; targets: number } {
  const who = spec.kind;
  const { epsilon, norm = 'linf' } = spec;
  if (norm !== 'linf') throw new Error(`${who}: only the L∞ norm is implemented, got '${norm as string}'`);
  if (!(Number.isFinite(epsilon) && epsilon >= 0)) throw new Error(`${who}: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  const steps = spec.steps ?? 100;
  const targets = spec.targets ?? Math.min(9, classes - 1);
  for (const [what, v] of [['steps', steps], ['targets', targets]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${who}: ${what} must be a positive integer, got ${v}`);
  }
  if (targets > classes - 1) throw new Error(`${who}: targets must be at most classes − 1 = ${classes - 1}, got ${targets}`);
  return { epsilon, steps, targets };
}

export interface BatchAttackResult {
  /** 1 where the image stayed correctly classified (clean and under every candidate tried). */
  robust: Uint8Array;
  /** APGD: robustness after each stage (each APGD-T target), cumulative. */
  stages?: { name: string; robust: Uint8Array }[];
  /** The kept adversarial images [count, ...inputShape], when asked for. */
  adversarial?: Float32Array;
}

/** Per-row attack loss on raw logits (T = 1). */
export function attackLossPerRow(loss: AttackLoss, logits: SymbolicTensor, labels: SymbolicTensor): SymbolicTensor {
  return loss === 'margin' ? marginLossPerRow(logits, labels) : softmaxCrossEntropyPerRow(logits, labels);
}

/**
 * Appends one attack step to `xAdv`'s graph: the model in evaluation mode on `xAdv`,
 * `objective(logits)` (a scalar to maximise), its gradient with respect to the images,
 * and the projected step that rewrites `xAdv` in place. Used by the Attacker's step plan
 * and inside training steps (adversarial training, robust distillation).
 * @example traceAttackStep(student, xAdv, x, budget, 'linf', (z) => sum(softmaxCrossEntropyPerRow(z, y)));
 */
export function traceAttackStep(
  model: Sequential,
  xAdv: SymbolicTensor,
  x: SymbolicTensor,
  budget: SymbolicTensor,
  norm: AttackNorm,
  objective: (logits: SymbolicTensor) => SymbolicTensor,
): void {
  const [grad] = gradients(objective(model.call(xAdv, { training: false })), [xAdv]);
  attackStep(xAdv, x, grad!, budget, { norm });
}

/** Checks any attack spec for a model with `classes` classes, before any GPU work. */
export function checkAttackSpec(spec: AttackSpec, classes: number): void {
  if (spec.kind === 'apgd') resolveApgd(spec, classes);
  else if (spec.kind === 'autoattack') checkAutoAttack(spec, classes);
  else if (spec.kind === 'square') resolveSquare(spec);
  else resolveAttack(spec);
}

/** Checks ε, α, steps and restarts; returns them with defaults filled in. */
export function resolveAttack(spec: FgsmSpec | PgdSpec): Required<Omit<PgdSpec, 'kind' | 'relativeStepSize'>> & { kind: AttackSpec['kind'] } {
  const { kind, epsilon, norm = 'linf', loss = 'ce' } = spec;
  if (kind !== 'fgsm' && kind !== 'pgd') throw new Error(`attack: kind must be 'fgsm', 'pgd', 'apgd' or 'autoattack', got '${kind as string}'`);
  if (norm !== 'linf' && norm !== 'l2') throw new Error(`attack: norm must be 'linf' or 'l2', got '${norm as string}'`);
  if (loss !== 'ce' && loss !== 'margin') throw new Error(`attack: loss must be 'ce' or 'margin', got '${loss as string}'`);
  if (!(Number.isFinite(epsilon) && epsilon >= 0)) throw new Error(`attack: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  if (kind === 'fgsm') return { kind, epsilon, norm, loss, steps: 1, stepSize: epsilon, restarts: 1, randomStart: false };
  const steps = spec.steps ?? 10;
  const restarts = spec.restarts ?? 1;
  for (const [what, v] of [['steps', steps], ['restarts', restarts]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`pgd: ${what} must be a positive integer, got ${v}`);
  }
  const stepSize = spec.stepSize ?? (spec.relativeStepSize ?? 2.5 / steps) * epsilon;
  if (!(Number.isFinite(stepSize) && stepSize >= 0)) throw new Error(`pgd: stepSize must be a finite number ≥ 0, got ${stepSize}`);
  return { kind, epsilon, norm, loss, steps, stepSize, restarts, randomStart: spec.randomStart ?? true };
}

/**
 * Attacks batches of images on the GPU for one model and batch size. Each (loss, norm)
 * gets ONE compiled step plan: forward in evaluation mode on the adversarial images (a GPU
 * tensor), loss at T = 1 on the raw logits, input gradient, and the projected step writing
 * the images in place — so a PGD step is one submit with no readback. ε and α live in a
 * small GPU buffer, so the same plans serve every ε. Random starts are drawn on the GPU
 * from (seed, batch index, restart), so results are deterministic for a seed.
 *
 * Robust means: classified correctly at the clean image and at every candidate tried. The
 * clean image is scored first, then each restart's final iterate; per image the strongest
 * (misclassified, else highest loss) is kept on the GPU, and only correctness is read back
 * after each restart (remaining restarts are skipped once every image is fooled).
 *
 * @example
 * const attacker = new Attacker(model, { batchSize: 100 });
 * const { robust } = await attacker.attackBatch(images, labels, 100, { kind: 'pgd', epsilon: 0.1, steps: 20, loss: 'margin' });
 * attacker.dispose();
 */
export class Attacker {
  readonly batchSize: number;
  private readonly x: Tensor;
  private readonly y: Tensor;
  private readonly xAdv: Tensor;
  private readonly best: Tensor;
  private readonly bestKey: Tensor;
  private readonly budget: Tensor;
  private readonly counter: Tensor;
  private readonly plans: PlanCache;
  private apgd?: ApgdRunner;
  private square?: SquareRunner;

  constructor(readonly model: Sequential, options: { batchSize: number }) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`Attacker: batchSize must be a positive integer, got ${batchSize}`);
    if (model.outputShape.length !== 1) throw new Error(`Attacker: model '${model.name}' must output [batch, classes], got per-sample ${formatShape(model.outputShape)}`);
    this.batchSize = batchSize;
    const ctx = model.ctx;
    const shape = [batchSize, ...model.inputShape];
    [this.x, this.xAdv, this.best] = [0, 1, 2].map(() => Tensor.from(ctx, new Float32Array(sizeOf(shape)), shape));
    this.y = Tensor.from(ctx, new Uint32Array(batchSize), [batchSize]);
    this.bestKey = Tensor.from(ctx, new Float32Array(batchSize * 2), [batchSize, 2]);
    this.budget = Tensor.from(ctx, new Float32Array(2), [2]);
    this.counter = Tensor.from(ctx, new Uint32Array(2), [2]);
    this.plans = new PlanCache(ctx);
  }

  /**
   * Attacks the first `count` images of one batch ([batchSize, ...inputShape] values; the
   * rest is padding and ignored). `seed` and `batchIndex` fix the random starts.
   */
  async attackBatch(
    images: Float32Array,
    labels: Uint32Array,
    count: number,
    spec: AttackSpec,
    options: { seed?: number; batchIndex?: number; adversarial?: boolean } = {},
  ): Promise<BatchAttackResult> {
    const { seed = 0, batchIndex = 0 } = options;
    if (images.length !== this.x.size || labels.length !== this.batchSize) {
      throw new Error(`Attacker.attackBatch: expected ${this.x.size} image values and ${this.batchSize} labels (batch ${formatShape(this.x.shape)}), got ${images.length} and ${labels.length}`);
    }
    if (!Number.isInteger(count) || count < 1 || count > this.batchSize) throw new Error(`Attacker.attackBatch: count must be 1..${this.batchSize}, got ${count}`);
    if (spec.kind === 'autoattack') {
      throw new Error('Attacker.attackBatch: autoattack runs over a dataset (attackDataset, robustAccuracyCurve), so that APGD-T attacks only the images APGD-CE left robust');
    }
    if (spec.kind === 'square') return this.attackSquare(images, labels, count, resolveSquare(spec), { seed, batchIndex, adversarial: options.adversarial });
    if (spec.kind === 'apgd') {
      return this.attackApgd(images, labels, count, resolveApgd(spec, this.model.outputShape[0]!), { seed, batchIndex, adversarial: options.adversarial });
    }
    const attack = resolveAttack(spec);
    this.budget.write(new Float32Array([attack.epsilon, attack.stepSize]));
    let key = await this.scoreClean(images, labels, attack.loss);
    for (let restart = 0; restart < attack.restarts && !allFooled(key, count); restart++) {
      if (attack.randomStart) {
        this.counter.write(new Uint32Array([deriveSeed(seed, batchIndex), restart]));
        this.startPlan(attack.norm).run();
      } else {
        this.xAdv.write(images);
      }
      const step = this.stepPlan(attack.loss, attack.norm);
      for (let s = 0; s < attack.steps; s++) step.run();
      this.scorePlan(attack.loss).run();
      key = (await this.bestKey.read()) as Float32Array;
    }
    return this.result(key, count, options.adversarial);
  }

  /**
   * APGD on one batch: the clean images are scored, then each stage (one per APGD-T target)
   * attacks the batch while some image is still robust; best/bestKey keep the strongest point
   * per image across stages, so the result is the worst case per image.
   */
  private async attackApgd(
    images: Float32Array,
    labels: Uint32Array,
    count: number,
    attack: ReturnType<typeof resolveApgd>,
    options: { seed: number; batchIndex: number; adversarial?: boolean },
  ): Promise<BatchAttackResult> {
    let key = await this.scoreClean(images, labels, 'ce');
    this.apgd ??= new ApgdRunner(this.model, { x: this.x, y: this.y, xAdv: this.xAdv, best: this.best, bestKey: this.bestKey, budget: this.budget, counter: this.counter });
    const classes = this.model.outputShape[0]!;
    const clean = attack.stages.some((s) => s.targetRank) ? await this.apgd.cleanLogits() : undefined;
    const stages: { name: string; robust: Uint8Array }[] = [];
    for (const [index, stage] of attack.stages.entries()) {
      for (let restart = 0; restart < attack.restarts && !allFooled(key, count); restart++) {
        const targets = stage.targetRank ? targetsOfRank(clean!, this.batchSize, classes, stage.targetRank) : undefined;
        await this.apgd.run({ loss: stage.loss, epsilon: attack.epsilon, steps: attack.steps, seed: deriveSeed(options.seed, options.batchIndex), stream: index * attack.restarts + restart, targets });
        key = (await this.bestKey.read()) as Float32Array;
      }
      stages.push({ name: stage.name, robust: robustOf(key, count) });
    }
    return { ...(await this.result(key, count, options.adversarial)), stages };
  }

  /** Square on one batch: the clean images are scored, then the search's best point. */
  private async attackSquare(
    images: Float32Array,
    labels: Uint32Array,
    count: number,
    attack: ReturnType<typeof resolveSquare>,
    options: { seed: number; batchIndex: number; adversarial?: boolean },
  ): Promise<BatchAttackResult> {
    let key = await this.scoreClean(images, labels, 'margin');
    if (!allFooled(key, count)) {
      this.square ??= new SquareRunner(this.model, { x: this.x, y: this.y, best: this.best, bestKey: this.bestKey, budget: this.budget });
      await this.square.run({ epsilon: attack.epsilon, queries: attack.queries, pInit: attack.pInit, seed: deriveSeed(options.seed, options.batchIndex), count });
      key = (await this.bestKey.read()) as Float32Array;
    }
    return this.result(key, count, options.adversarial);
  }

  /**
   * Loads a batch (x = x′ = the images) and scores the clean images first, so an image counts
   * as robust only if it is classified right clean; returns the (wrong, loss) keys.
   */
  private async scoreClean(images: Float32Array, labels: Uint32Array, loss: AttackLoss): Promise<Float32Array> {
    this.x.write(images);
    this.y.write(labels);
    this.xAdv.write(images);
    this.bestKey.write(new Float32Array(this.batchSize * 2).fill(-1));
    this.scorePlan(loss).run();
    return (await this.bestKey.read()) as Float32Array;
  }

  private async result(key: Float32Array, count: number, adversarial?: boolean): Promise<BatchAttackResult> {
    const robust = robustOf(key, count);
    if (!adversarial) return { robust };
    return { robust, adversarial: ((await this.best.read()) as Float32Array).slice(0, count * (this.x.size / this.batchSize)) };
  }

  dispose(): void {
    this.plans.dispose();
    this.apgd?.dispose();
    this.square?.dispose();
    for (const t of [this.x, this.y, this.xAdv, this.best, this.bestKey, this.budget, this.counter]) t.dispose();
  }

  /** x′ ← x′ + step on the attack loss, projected and clipped: one submit. */
  private stepPlan(loss: AttackLoss, norm: AttackNorm): Plan {
    return this.planFor(`step/${loss}/${norm}`, (g) => {
      const y = g.bind(this.y);
      traceAttackStep(this.model, g.bind(this.xAdv), g.bind(this.x), g.bind(this.budget), norm, (logits) => sum(attackLossPerRow(loss, logits, y)));
    });
  }

  private startPlan(norm: AttackNorm): Plan {
    return this.planFor(`start/${norm}`, (g) => attackRandomStart(g.bind(this.xAdv), g.bind(this.x), g.bind(this.budget), g.bind(this.counter), { norm }));
  }

  /** Scores x′ (correctness, attack loss) and keeps it per image where it beats the best so far. */
  private scorePlan(loss: AttackLoss): Plan {
    return this.planFor(`score/${loss}`, (g) => {
      const xAdv = g.bind(this.xAdv);
      const y = g.bind(this.y);
      const logits = this.model.call(xAdv, { training: false });
      keepBestAdversarial(g.bind(this.best), g.bind(this.bestKey), xAdv, argmaxCorrect(logits, y)[1], attackLossPerRow(loss, logits, y));
    });
  }

  private planFor(key: string, trace: (graph: Graph) => void): Plan {
    return this.plans.get(key, trace);
  }
}

function robustOf(key: Float32Array, count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => (key[2 * i] === 0 ? 1 : 0));
}

function allFooled(key: Float32Array, count: number): boolean {
  for (let i = 0; i < count; i++) if (key[2 * i] !== 1) return false;
  return true;
}
