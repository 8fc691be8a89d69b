import { type Dataset, imageSize, subset } from '../data/dataset.js';
import type { Sequential } from '../nn/sequential.js';
import { type AttackCurve, type SanityFlag, sanityFlags } from '../robust/attack-sanity.js';
import { type AttackProgress, attackDataset, type CurveAttack, robustAccuracyCurve } from '../robust/attacks.js';
import { type CalibrationReport, calibrationReport } from '../robust/calibration.js';
import { type CorruptionName, corruptDataset, DEFAULT_SEVERITY, MNIST_C_CORRUPTIONS, type Severity } from '../robust/corruptions.js';
import { evaluate, Evaluator } from '../train/evaluate.js';
import { greyPngDataUri } from './png.js';

/** A model to evaluate, with what it is and how it was trained (shown in the report). */
export interface RobustnessModel {
  model: Sequential;
  role: string;
  training?: string;
}

export interface RobustnessData {
  /** Clean accuracy, corruptions and calibration; its first `attackImages` are attacked. */
  test: Dataset;
  /** Held-out images (never the test set) on which the temperature is fitted. */
  heldOut: Dataset;
}

export interface RobustnessOptions {
  /** L∞ radii of the attacks (default 0.05, 0.1, 0.2, 0.3); ε = 1 is added as the unbounded check. */
  epsilons?: readonly number[];
  /** PGD steps per restart (default 40). */
  pgdSteps?: number;
  /** PGD random restarts (default 1). */
  restarts?: number;
  /** PGD step size α as a fraction of ε (default 2.5 / pgdSteps, Madry et al.). */
  relativeStepSize?: number;
  /**
   * The AutoAttack-style cascade (APGD-CE, then APGD-T on the survivors) as one more curve:
   * iterations per APGD run and APGD-T target classes, or false to leave it out (default).
   */
  autoattack?: { steps: number; targets: number; queries: number } | false;
  /** How many of the first test images are attacked (default 1000). */
  attackImages?: number;
  /** Images per attack batch (default 100). */
  batchSize?: number;
  /** Seed of the PGD random starts and of the corruptions (default 0). */
  seed?: number;
  /** Adversarial examples shown per model (default 8), attacked by PGD-margin at exampleEpsilon (default 0.2). */
  exampleCount?: number;
  exampleEpsilon?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One corruption setting: a MNIST-C corruption at its benchmark severity, or Gaussian noise at 1..5. */
export interface CorruptionSetting {
  name: CorruptionName;
  /** The severity used; absent for corruptions with a single form. */
  severity?: Severity;
  /** Whether it is one of the 15 MNIST-C corruptions that make the mean corruption error. */
  mnistC: boolean;
}

export interface CorruptionResult extends CorruptionSetting {
  /** Test error (1 − accuracy) on the corrupted test images. */
  error: number;
}

export interface AttackResults {
  /** Attacked images (the first of the test set). */
  count: number;
  /** Clean accuracy on those images. */
  clean: number;
  /** Increasing; the last is the unbounded ε. */
  epsilons: number[];
  unboundedEpsilon: number;
  /** loss: what the attack maximises ('ce+dlr' for the cascade: APGD-CE, then targeted DLR). */
  curves: (AttackCurve & { loss: 'ce' | 'margin' | 'ce+dlr' })[];
  /** Failed sanity checks (empty when the evaluation looks trustworthy). */
  flags: SanityFlag[];
  seconds: number;
}

export interface ModelRobustness {
  name: string;
  role: string;
  training?: string;
  parameters: number;
  /** On the whole test set, raw logits at T = 1. */
  clean: { accuracy: number; errors: number; loss: number };
  attacks: AttackResults;
  corruptions: CorruptionResult[];
  /** Mean of the 15 MNIST-C corruption errors (unnormalised: no baseline model). */
  meanCorruptionError: number;
  /** ECE, NLL and Brier at T = 1 and at the temperature fitted on the held-out images. */
  calibration: CalibrationReport;
}

export interface AdversarialExamples {
  attack: string;
  epsilon: number;
  /** The clean images (PNG data URIs) and labels, shared by all models. */
  images: { index: number; label: number; original: string }[];
  models: {
    name: string;
    /** Per image: perturbation shown as 0.5 + δ/(2ε) (grey = unchanged), the adversarial image, predictions. */
    items: { perturbation: string; adversarial: string; cleanPrediction: number; adversarialPrediction: number }[];
  }[];
}

export interface CorruptedExamples {
  /** Test image shown under every corruption. */
  index: number;
  label: number;
  clean: string;
  /** One per corruption setting; predictions in the order of `models`. */
  items: (CorruptionSetting & { image: string; predictions: number[] })[];
}

/** One attack of the report: FGSM, PGD (CE or margin), or the AutoAttack-style cascade (steps = APGD iterations). */
export type RobustnessAttack =
  | { name: string; kind: 'fgsm' | 'pgd'; loss: 'ce' | 'margin'; steps: number; restarts: number; relativeStepSize?: number }
  | { name: string; kind: 'autoattack'; loss: 'ce+dlr'; steps: number; restarts: 1; targets: number; queries: number };

export interface RobustnessSettings {
  norm: 'linf';
  epsilons: number[];
  unboundedEpsilon: number;
  /** PGD's step size is relativeStepSize·ε. */
  attacks: RobustnessAttack[];
  corruptionSeed: number;
  attackSeed: number;
  calibrationBins: number;
  exampleEpsilon: number;
}

export interface RobustnessResults {
  settings: RobustnessSettings;
  data: { test: number; heldOut: number; attack: number };
  models: ModelRobustness[];
  examples: { adversarial: AdversarialExamples; corrupted: CorruptedExamples };
  seconds: number;
}

export const ROBUSTNESS_EPSILONS = [0.05, 0.1, 0.2, 0.3] as const;
const UNBOUNDED_EPSILON = 1;
const CALIBRATION_BINS = 15;

/** The 15 MNIST-C corruptions at their benchmark severities, then Gaussian noise at severities 1..5. */
export const CORRUPTION_SETTINGS: readonly CorruptionSetting[] = [
  ...MNIST_C_CORRUPTIONS.map((name) => ({ name, ...(DEFAULT_SEVERITY[name] ? { severity: DEFAULT_SEVERITY[name] } : {}), mnistC: true })),
  ...([1, 2, 3, 4, 5] as const).map((severity) => ({ name: 'gaussian_noise' as const, severity, mnistC: false })),
];

/**
 * Evaluates each model's robustness on MNIST-like data (pixels in [0, 1]), always on the
 * raw logits at T = 1:
 * - clean accuracy on `data.test`;
 * - L∞ FGSM (CE), PGD (CE) and PGD (CW margin) accuracy on the first `attackImages` test
 *   images at each ε plus the unbounded ε = 1, with the sanity flags of `sanityFlags`;
 * - the test error under each of the 15 MNIST-C corruptions (benchmark severity) and under
 *   Gaussian noise at severities 1..5; the mean corruption error is the mean of the 15
 *   MNIST-C errors;
 * - calibration: ECE (15 bins), NLL and Brier at T = 1 and after temperature scaling
 *   fitted on `data.heldOut`;
 * - example images (PNG data URIs) for a report.
 *
 * @example
 * const results = await runRobustness([{ model: teacher, role: 'teacher' }], { test, heldOut: validation }, { pgdSteps: 10 });
 */
export async function runRobustness(models: readonly RobustnessModel[], data: RobustnessData, options: RobustnessOptions = {}): Promise<RobustnessResults> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const settings = resolveSettings(options);
  const attackSet = subset(data.test, 0, Math.min(options.attackImages ?? 1000, data.test.count));
  if (models.length === 0) throw new Error('runRobustness: give at least one model');
  if (data.heldOut.count === 0 || attackSet.count === 0) throw new Error(`runRobustness: need held-out and test images, got ${data.heldOut.count} and ${data.test.count}`);

  const results: ModelRobustness[] = [];
  for (const { model, role, training } of models) {
    const calibration = await calibrate(model, data);
    log(`${model.name}: clean accuracy ${pct(calibration.clean.accuracy)}, ECE ${calibration.report.before.ece.toFixed(4)} → ${calibration.report.after.ece.toFixed(4)} at T = ${calibration.report.temperature.toFixed(3)}`);
    const attacks = await attackCurves(model, attackSet, settings, Math.min(options.batchSize ?? 100, attackSet.count), log);
    results.push({ name: model.name, role, ...(training ? { training } : {}), parameters: model.parameterCount, clean: calibration.clean, attacks, corruptions: [], meanCorruptionError: NaN, calibration: calibration.report });
  }
  const corrupted = await corruptionErrors(models, data.test, settings.corruptionSeed, results, log);
  const adversarial = await adversarialExamples(models, attackSet, settings, options.exampleCount ?? 8);
  return {
    settings,
    data: { test: data.test.count, heldOut: data.heldOut.count, attack: attackSet.count },
    models: results,
    examples: { adversarial, corrupted },
    seconds: (performance.now() - started) / 1000,
  };
}

function resolveSettings(options: RobustnessOptions): RobustnessSettings {
  const steps = options.pgdSteps ?? 40;
  const restarts = options.restarts ?? 1;
  const epsilons = [...(options.epsilons ?? ROBUSTNESS_EPSILONS)].sort((a, b) => a - b);
  if (epsilons.some((e) => !(e > 0 && e < UNBOUNDED_EPSILON))) throw new Error(`runRobustness: epsilons [${epsilons}] must be in (0, ${UNBOUNDED_EPSILON})`);
  const pgd = { kind: 'pgd' as const, steps, restarts, relativeStepSize: options.relativeStepSize ?? 2.5 / steps };
  return {
    norm: 'linf',
    epsilons,
    unboundedEpsilon: UNBOUNDED_EPSILON,
    attacks: [
      { name: 'fgsm-ce', kind: 'fgsm', loss: 'ce', steps: 1, restarts: 1 },
      { name: 'pgd-ce', loss: 'ce', ...pgd },
      { name: 'pgd-margin', loss: 'margin', ...pgd },
      ...(options.autoattack ? [{ name: 'autoattack', kind: 'autoattack' as const, loss: 'ce+dlr' as const, steps: options.autoattack.steps, restarts: 1 as const, targets: options.autoattack.targets, queries: options.autoattack.queries }] : []),
    ],
    corruptionSeed: options.seed ?? 0,
    attackSeed: options.seed ?? 0,
    calibrationBins: CALIBRATION_BINS,
    exampleEpsilon: options.exampleEpsilon ?? 0.2,
  };
}

async function calibrate(model: Sequential, data: RobustnessData) {
  const test = await evaluate(model, data.test, { logits: true, batchSize: evaluationBatch(data.test) });
  const heldOut = await evaluate(model, data.heldOut, { logits: true, batchSize: evaluationBatch(data.heldOut) });
  const report = calibrationReport(test.logits!, data.test.labels, { heldOut: { logits: heldOut.logits!, labels: data.heldOut.labels }, bins: CALIBRATION_BINS });
  return { clean: { accuracy: test.accuracy, errors: test.errors, loss: test.loss }, report };
}

/** One curve per attack (so progress shows per attack), then the sanity checks over all of them. */
async function attackCurves(model: Sequential, ds: Dataset, settings: RobustnessSettings, batchSize: number, log: (line: string) => void): Promise<AttackResults> {
  const started = performance.now();
  const curves: AttackResults['curves'] = [];
  let clean = NaN;
  let epsilons: number[] = [];
  for (const attack of settings.attacks) {
    const onProgress = throttledProgress(model.name, log);
    const curve = await robustAccuracyCurve(model, ds, { epsilons: settings.epsilons, attacks: [curveAttack(attack)], unboundedEpsilon: settings.unboundedEpsilon, batchSize, seed: settings.attackSeed, onProgress });
    [clean, epsilons] = [curve.clean, curve.epsilons];
    const { name, kind, loss } = attack;
    const { accuracy, stages } = curve.curves[0]!;
    curves.push({ name, kind, loss, accuracy, ...(stages ? { stages } : {}) });
    log(`  ${model.name} ${name}: ${curve.epsilons.map((e, i) => `ε ${e} ${pct(curve.curves[0]!.accuracy[i]!)}`).join(', ')} (${curve.seconds.toFixed(0)} s)`);
  }
  const flags = sanityFlags({ clean, count: ds.count, epsilons, unbounded: true, curves });
  for (const flag of flags) log(`  ${model.name} SANITY FLAG ${flag.check}: ${flag.message}`);
  return { count: ds.count, clean, epsilons, unboundedEpsilon: settings.unboundedEpsilon, curves, flags, seconds: (performance.now() - started) / 1000 };
}

/**
 * A progress line at most once a minute, and at the end of any stage that took longer (quick
 * runs print none): a cascade on a robust model runs for an hour on a software GPU and must
 * not look hung.
 */
export function throttledProgress(modelName: string, log: (line: string) => void, everySeconds = 60): (p: AttackProgress & { attack: string }) => void {
  let last = performance.now();
  return (p) => {
    const now = performance.now();
    const longStageEnded = p.done === p.total && p.seconds >= everySeconds;
    if (now - last < everySeconds * 1000 && !longStageEnded) return;
    last = now;
    log(`    ${modelName} ${p.attack} ε ${p.epsilon}: ${p.stage} ${p.done}/${p.total} images (${p.seconds.toFixed(0)} s)`);
  };
}

function curveAttack(attack: RobustnessAttack): CurveAttack {
  const { name, steps } = attack;
  if (attack.kind === 'autoattack') return { kind: 'autoattack', name, steps, targets: attack.targets, queries: attack.queries };
  const { kind, loss, restarts, relativeStepSize } = attack;
  return kind === 'fgsm' ? { kind, loss, name } : { kind, loss, name, steps, restarts, ...(relativeStepSize !== undefined ? { relativeStepSize } : {}) };
}

/**
 * Corrupts the test set once per setting (not kept: 20 copies of 10,000 images would be
 * 630 MB) and evaluates every model on it; fills each result's corruptions and mean error.
 */
async function corruptionErrors(models: readonly RobustnessModel[], test: Dataset, seed: number, results: ModelRobustness[], log: (line: string) => void): Promise<CorruptedExamples> {
  const evaluators = models.map(({ model }) => new Evaluator(model, { batchSize: evaluationBatch(test) }));
  const size = imageSize(test.shape);
  const examples: CorruptedExamples = { index: 0, label: test.labels[0]!, clean: await greyPngDataUri(test.images.subarray(0, size), test.shape[2], test.shape[1]), items: [] };
  try {
    for (const setting of CORRUPTION_SETTINGS) {
      const started = performance.now();
      const corrupted = corruptDataset(test, setting.name, { seed, ...(setting.mnistC ? {} : { severity: setting.severity }) });
      const predictions: number[] = [];
      for (const [m, evaluator] of evaluators.entries()) {
        const e = await evaluator.run(corrupted);
        results[m]!.corruptions.push({ ...setting, error: 1 - e.accuracy });
        predictions.push(e.predictions[0]!);
      }
      examples.items.push({ ...setting, image: await greyPngDataUri(corrupted.images.subarray(0, size), test.shape[2], test.shape[1]), predictions });
      log(`  ${settingLabel(setting)}: error ${results.map((r) => `${r.name} ${pct(r.corruptions.at(-1)!.error)}`).join(', ')} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    for (const evaluator of evaluators) evaluator.dispose();
  }
  for (const r of results) {
    const mnistC = r.corruptions.filter((c) => c.mnistC);
    r.meanCorruptionError = mnistC.reduce((a, c) => a + c.error, 0) / mnistC.length;
  }
  return examples;
}

/** PGD-margin at the example ε on the first few images, per model. */
async function adversarialExamples(models: readonly RobustnessModel[], ds: Dataset, settings: RobustnessSettings, count: number): Promise<AdversarialExamples> {
  const few = subset(ds, 0, Math.min(count, ds.count));
  const size = imageSize(ds.shape);
  const [height, width] = [ds.shape[1], ds.shape[2]];
  const epsilon = settings.exampleEpsilon;
  const pgd = settings.attacks.find((a) => a.name === 'pgd-margin' && a.kind === 'pgd') as Extract<RobustnessAttack, { kind: 'pgd' | 'fgsm' }>;
  const image = (pixels: Float32Array, i: number) => greyPngDataUri(pixels.subarray(i * size, (i + 1) * size), width, height);
  const images = await Promise.all(Array.from({ length: few.count }, async (_, i) => ({ index: i, label: few.labels[i]!, original: await image(few.images, i) })));
  const perModel: AdversarialExamples['models'] = [];
  for (const { model } of models) {
    const { adversarial } = await attackDataset(model, few, {
      kind: 'pgd',
      loss: 'margin',
      epsilon,
      steps: pgd.steps,
      restarts: pgd.restarts,
      ...(pgd.relativeStepSize !== undefined ? { relativeStepSize: pgd.relativeStepSize } : {}),
      batchSize: few.count,
      seed: settings.attackSeed,
    });
    const clean = await evaluate(model, few, { batchSize: few.count });
    const attacked = await evaluate(model, { ...few, images: adversarial! }, { batchSize: few.count });
    const perturbation = adversarial!.map((v, k) => 0.5 + (v - few.images[k]!) / (2 * epsilon));
    const items = await Promise.all(
      images.map(async (_, i) => ({
        perturbation: await image(perturbation, i),
        adversarial: await image(adversarial!, i),
        cleanPrediction: clean.predictions[i]!,
        adversarialPrediction: attacked.predictions[i]!,
      })),
    );
    perModel.push({ name: model.name, items });
  }
  return { attack: `${pgd.name} (${pgd.steps} steps)`, epsilon, images, models: perModel };
}

/** The evaluator's default batch of 500, or fewer for small sets (a partial batch is padded). */
function evaluationBatch(ds: Dataset): number {
  return Math.max(1, Math.min(500, ds.count));
}

/** 'fog' or 'gaussian_noise (severity 3)'. */
export function settingLabel(setting: CorruptionSetting): string {
  return setting.mnistC ? setting.name : `${setting.name} (severity ${setting.severity})`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
