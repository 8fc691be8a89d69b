import { batches } from '../data/batches.js';
import { deriveSeed } from '../data/seed.js';
import { requirePixelUnits } from './pixel-units.js';
import { checkClassifierData, checkDataset, classesOf, type Dataset, imageSize } from '../data/dataset.js';
import type { Sequential } from '../nn/sequential.js';
import { evaluate } from '../train/evaluate.js';
import type { AttackNorm } from './attack-ops.js';
import { type AttackCurve, sanityFlags, type SanityFlag } from './attack-sanity.js';
import { type ApgdSpec, Attacker, type AttackSpec, type AutoAttackSpec, checkAttackSpec, checkAutoAttack, type FgsmSpec, type PgdSpec, type SquareSpec } from './attacker.js';

export interface AttackRunOptions {
  /** Images per GPU batch (default 100). */
  batchSize?: number;
  /** Seed of the random starts (default 0): same seed, same result. */
  seed?: number;
  /** Return the adversarial images (default true). */
  adversarial?: boolean;
  /** Called after each batch: long attacks (a cascade on a robust model) show where they are. */
  onProgress?: (progress: AttackProgress) => void;
}

/** Where an attack over a dataset stands, after one batch. */
export interface AttackProgress {
  /** The attack or cascade stage running: 'fgsm', 'pgd', 'apgd-ce', 'apgd-t', 'square'. */
  stage: string;
  epsilon: number;
  /** Images of this stage attacked so far, of `total` (a cascade stage counts its survivors only). */
  done: number;
  total: number;
  /** Seconds since this stage started. */
  seconds: number;
}

function stageName(spec: AttackSpec): string {
  if (spec.kind === 'apgd') return spec.loss === 'dlr-targeted' ? 'apgd-t' : `apgd-${spec.loss ?? 'ce'}`;
  return spec.kind;
}

export interface AttackDatasetResult {
  count: number;
  /** Robust accuracy: images classified correctly clean and under the attack. */
  accuracy: number;
  /** 1 per robust image. */
  robust: Uint8Array;
  /** The strongest adversarial image found per input, NCHW like the dataset's images. */
  adversarial?: Float32Array;
  /** APGD and AutoAttack: robust accuracy after each stage of the cascade (cumulative). */
  stages?: { name: string; accuracy: number }[];
  seconds: number;
}

/**
 * Attacks every image of `ds` (pixels in [0, 1]) with FGSM or PGD on the GPU and returns
 * the robust accuracy and the adversarial images. Deterministic for a seed.
 *
 * @example
 * const { accuracy } = await attackDataset(model, mnist.test, { kind: 'pgd', epsilon: 0.3, steps: 40, restarts: 2, loss: 'margin' });
 */
export async function attackDataset(model: Sequential, ds: Dataset, options: AttackSpec & AttackRunOptions): Promise<AttackDatasetResult> {
  const attacker = new Attacker(model, { batchSize: options.batchSize ?? 100 });
  try {
    return await runAttack(attacker, ds, options, options);
  } finally {
    attacker.dispose();
  }
}

async function runAttack(attacker: Attacker, ds: Dataset, spec: AttackSpec, options: AttackRunOptions): Promise<AttackDatasetResult> {
  if (spec.kind === 'autoattack') return runAutoAttack(attacker, ds, spec, options);
  checkDataset(ds, 'attackDataset');
  checkAttackSpec(spec, classesOf(attacker.model.outputShape, 'attackDataset'));
  if (ds.shape.join() !== attacker.model.inputShape.join()) {
    throw new Error(`attackDataset: images are [${ds.shape}] but model '${attacker.model.name}' takes [${attacker.model.inputShape}]`);
  }
  requirePixelUnits(ds, 'attackDataset', 'attacks work', 'attack');
  checkClassifierData(ds, attacker.model.inputShape, classesOf(attacker.model.outputShape, 'attackDataset'), 'attackDataset');
  if (ds.count === 0) throw new Error('attackDataset: the dataset is empty');
  const started = performance.now();
  const { seed = 0, adversarial: keepImages = true } = options;
  const robust = new Uint8Array(ds.count);
  const adversarial = keepImages ? new Float32Array(ds.images.length) : undefined;
  const size = imageSize(ds.shape);
  let offset = 0;
  let stages: { name: string; robustCount: number }[] | undefined;
  for (const batch of batches(ds, { batchSize: attacker.batchSize })) {
    const result = await attacker.attackBatch(batch.images, batch.labels, batch.count, spec, { seed, batchIndex: batch.index, adversarial: keepImages });
    robust.set(result.robust, offset);
    adversarial?.set(result.adversarial!, offset * size);
    offset += batch.count;
    options.onProgress?.({ stage: stageName(spec), epsilon: spec.epsilon, done: offset, total: ds.count, seconds: (performance.now() - started) / 1000 });
    if (result.stages) {
      stages ??= result.stages.map((s) => ({ name: s.name, robustCount: 0 }));
      result.stages.forEach((s, i) => (stages![i]!.robustCount += s.robust.reduce((a, b) => a + b, 0)));
    }
  }
  const accuracy = robust.reduce((a, b) => a + b, 0) / ds.count;
  return {
    count: ds.count,
    accuracy,
    robust,
    adversarial,
    ...(stages ? { stages: stages.map((s) => ({ name: s.name, accuracy: s.robustCount / ds.count })) } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The cascade: APGD-CE on every image, then APGD-T (every target rank) and Square on the
 * images still robust, packed into full batches, so their cost follows the survivors. Stage
 * accuracies are cumulative over the whole dataset.
 */
async function runAutoAttack(attacker: Attacker, ds: Dataset, spec: AutoAttackSpec, options: AttackRunOptions): Promise<AttackDatasetResult> {
  const started = performance.now();
  const { epsilon, steps, targets, queries } = checkAutoAttack(spec, classesOf(attacker.model.outputShape, 'attackDataset'));
  const ce = await runAttack(attacker, ds, { kind: 'apgd', loss: 'ce', epsilon, steps }, options);
  const robust = ce.robust.slice();
  const adversarial = ce.adversarial?.slice();
  const stages = [{ name: 'apgd-ce', accuracy: ce.accuracy }];
  const size = imageSize(ds.shape);
  /** Runs `spec` on the images still robust, packed into full batches, and merges the result. */
  const onSurvivors = async (spec: AttackSpec, purpose: number, names: string[]) => {
    const survivors = [...robust.keys()].filter((i) => robust[i] === 1);
    if (survivors.length === 0) {
      for (const name of names) stages.push({ name, accuracy: 0 });
      return;
    }
    const images = new Float32Array(survivors.length * size);
    survivors.forEach((i, k) => images.set(ds.images.subarray(i * size, (i + 1) * size), k * size));
    const packed: Dataset = { ...ds, images, labels: Uint32Array.from(survivors, (i) => ds.labels[i]!), count: survivors.length };
    const result = await runAttack(attacker, packed, spec, { ...options, seed: deriveSeed(options.seed ?? 0, purpose) });
    survivors.forEach((i, k) => {
      robust[i] = result.robust[k]!;
      adversarial?.set(result.adversarial!.subarray(k * size, (k + 1) * size), i * size);
    });
    // Stages on the survivors count them only; the images fooled before stay fooled.
    const perStage = result.stages ?? [{ name: names[0]!, accuracy: result.accuracy }];
    for (const stage of perStage) stages.push({ name: stage.name, accuracy: (stage.accuracy * packed.count) / ds.count });
  };
  await onSurvivors({ kind: 'apgd', loss: 'dlr-targeted', epsilon, steps, targets }, 0x41504754, Array.from({ length: targets }, (_, i) => `apgd-t (target rank ${i + 2})`));
  if (queries > 0) await onSurvivors({ kind: 'square', epsilon, queries }, 0x53515541, ['square']);
  const accuracy = robust.reduce((a, b) => a + b, 0) / ds.count;
  return { count: ds.count, accuracy, robust, adversarial, stages, seconds: (performance.now() - started) / 1000 };
}

/** An attack of a robustness curve: ε comes from the curve (and α, for PGD, from relativeStepSize). */
export type CurveAttack = (
  | Omit<FgsmSpec, 'epsilon' | 'norm'>
  | Omit<PgdSpec, 'epsilon' | 'norm' | 'stepSize'>
  | Omit<ApgdSpec, 'epsilon' | 'norm'>
  | Omit<AutoAttackSpec, 'epsilon' | 'norm'>
  | Omit<SquareSpec, 'epsilon' | 'norm'>
) & {
  /** Label in the results (default e.g. 'pgd-margin'). */
  name?: string;
};

export interface RobustCurveOptions {
  /** Radii to attack at (sorted for you); all below the unbounded ε. */
  epsilons: readonly number[];
  attacks: readonly CurveAttack[];
  norm?: AttackNorm;
  /**
   * A radius whose ball holds every image, appended as the last point so an attack that
   * works must reach ~0% there (default 1 for L∞, √pixels for L2); false leaves it out.
   */
  unboundedEpsilon?: number | false;
  batchSize?: number;
  seed?: number;
  /** Called after each batch of each attack, with the attack's name. */
  onProgress?: (progress: AttackProgress & { attack: string }) => void;
}

export interface RobustCurve {
  norm: AttackNorm;
  count: number;
  clean: number;
  /** Increasing; the last is the unbounded ε when `unboundedEpsilon` is set. */
  epsilons: number[];
  unboundedEpsilon?: number;
  curves: (AttackCurve & { attack: CurveAttack })[];
  /** Failed sanity checks, as data (empty when the evaluation looks trustworthy). */
  flags: SanityFlag[];
  seconds: number;
}

/**
 * Robust accuracy of `model` on `ds` for each attack at each ε, plus the sanity checks of
 * {@link sanityFlags}: unbounded PGD must reach ~0%, accuracy must not rise with ε, PGD
 * must be at least as strong as FGSM, and one attack must not be powerless where another
 * succeeds (gradient masking). The flags are returned as data.
 *
 * @example
 * const curve = await robustAccuracyCurve(model, test, {
 *   epsilons: [0.05, 0.1, 0.2],
 *   attacks: [{ kind: 'fgsm' }, { kind: 'pgd', steps: 20, loss: 'margin', restarts: 2 }],
 * });
 * for (const flag of curve.flags) console.warn(flag.message);
 */
export async function robustAccuracyCurve(model: Sequential, ds: Dataset, options: RobustCurveOptions): Promise<RobustCurve> {
  const started = performance.now();
  const norm = options.norm ?? 'linf';
  const unbounded = options.unboundedEpsilon === false ? undefined : (options.unboundedEpsilon ?? (norm === 'linf' ? 1 : Math.sqrt(imageSize(ds.shape))));
  const epsilons = [...options.epsilons].sort((a, b) => a - b);
  if (options.attacks.length === 0) throw new Error('robustAccuracyCurve: give at least one attack');
  if (epsilons.length === 0 && unbounded === undefined) throw new Error('robustAccuracyCurve: give at least one epsilon');
  if (unbounded !== undefined) {
    if (epsilons.some((e) => e >= unbounded)) throw new Error(`robustAccuracyCurve: epsilons [${epsilons}] must be below the unbounded ε = ${unbounded}`);
    epsilons.push(unbounded);
  }
  const names = options.attacks.map((a) => a.name ?? (a.kind === 'autoattack' || a.kind === 'square' ? a.kind : `${a.kind}-${a.loss ?? 'ce'}`));
  if (new Set(names).size !== names.length) throw new Error(`robustAccuracyCurve: attack names must differ, got ${names.join(', ')}; give each a name`);

  const batchSize = options.batchSize ?? 100;
  const clean = (await evaluate(model, ds, { batchSize })).accuracy;
  const attacker = new Attacker(model, { batchSize });
  const curves: RobustCurve['curves'] = [];
  try {
    for (const [i, attack] of options.attacks.entries()) {
      const accuracy: number[] = [];
      const stages = new Map<string, number[]>();
      const onProgress = options.onProgress && ((p: AttackProgress) => options.onProgress!({ ...p, attack: names[i]! }));
      for (const epsilon of epsilons) {
        const spec = { ...attack, epsilon, norm } as AttackSpec;
        const result = await runAttack(attacker, ds, spec, { seed: options.seed, adversarial: false, onProgress });
        accuracy.push(result.accuracy);
        for (const stage of result.stages ?? []) stages.set(stage.name, [...(stages.get(stage.name) ?? []), stage.accuracy]);
      }
      const staged = attack.kind === 'autoattack' ? { stages: [...stages].map(([name, values]) => ({ name, accuracy: values })) } : {};
      curves.push({ name: names[i]!, kind: attack.kind, accuracy, attack, ...staged });
    }
  } finally {
    attacker.dispose();
  }
  const flags = sanityFlags({ clean, count: ds.count, epsilons, unbounded: unbounded !== undefined, curves });
  return { norm, count: ds.count, clean, epsilons, unboundedEpsilon: unbounded, curves, flags, seconds: (performance.now() - started) / 1000 };
}
