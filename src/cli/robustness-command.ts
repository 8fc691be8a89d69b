import { ensureWritableDirectory } from '../io/directories.js';
import { split, subset } from '../data/dataset.js';
import { loadMnistFromDirectory } from '../data/mnist.js';
import { DISTILLATION_DEFAULTS } from '../distill/options.js';
import { init } from '../init.js';
import { adapterLabel } from '../gpu/context.js';
import { loadModels, type ModelTrainingConfig, saveModels, trainRobustnessModels } from './robustness-models.js';
import { robustnessTable, type RobustnessReport, writeRobustnessReport } from './robustness-report.js';
import { ROBUSTNESS_EPSILONS, runRobustness } from './robustness.js';
import { trainingOptions } from './training-options.js';

export interface RobustnessConfig extends ModelTrainingConfig {
  quick: boolean;
  out: string;
  batchSize: number;
  learningRate: number;
  /** Training images (default all 55,000; 2,000 with --quick). */
  trainImages?: number;
  /** Test images for clean accuracy, corruptions and calibration (default 10,000; 500 with --quick). */
  testImages?: number;
  /** The first N test images are attacked (default 1,000; 100 with --quick). */
  attackImages?: number;
  /** PGD steps (default 40, --quick too: quick mode attacks fewer images, not more weakly). */
  pgdSteps?: number;
  /** The AutoAttack-style cascade: APGD iterations, APGD-T target classes and Square queries (default 100, 9, 5000), or false to skip it. */
  autoattack: { steps: number; targets: number; queries: number } | false;
  /** PGD step size as a fraction of ε (default 2.5 / pgdSteps). */
  relativeStepSize?: number;
  restarts: number;
  epsilons: number[];
  /** Load the four models from this folder instead of training them. */
  load?: string;
  /** Save the trained models to this folder. */
  save?: string;
}

export const ROBUSTNESS_DEFAULTS: RobustnessConfig = {
  quick: false,
  out: 'kdgpu-out',
  seed: 1,
  teacherEpochs: 3,
  studentEpochs: 3,
  batchSize: 64,
  learningRate: 1e-3,
  temperature: DISTILLATION_DEFAULTS.temperature,
  hardWeight: DISTILLATION_DEFAULTS.hardWeight,
  robustTeacher: false,
  trainEpsilon: 0.1,
  trainSteps: 10,
  restarts: 1,
  epsilons: [...ROBUSTNESS_EPSILONS],
  autoattack: { steps: 100, targets: 9, queries: 5000 },
};

/** What --quick changes when the option is not given. */
/**
 * --quick trains less and attacks fewer images, with the same attacks as a full run (PGD-40,
 * the full AutoAttack cascade), so its robust accuracies are not overstated, only noisier
 * (the report gives the interval).
 */
export const ROBUSTNESS_QUICK = { trainImages: 2000, testImages: 500, attackImages: 100, epochs: 1, trainSteps: 5 } as const;

/**
 * `kdgpu robustness`: trains (or loads) a teacher CNN, the seed CNN alone, by KD and by ARD
 * on MNIST, evaluates their robustness (runRobustness) and writes robustness.json and
 * robustness.html into `config.out`. Progress goes to `log` (stderr for the command).
 *
 * @example await runRobustnessCommand({ ...ROBUSTNESS_DEFAULTS, quick: true, out: 'out' });
 */
export async function runRobustnessCommand(config: RobustnessConfig, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<RobustnessReport> {
  const started = performance.now();
  // Every output location is checked before hours of training, not after.
  await ensureWritableDirectory(config.out);
  if (config.save) await ensureWritableDirectory(config.save, 'weights folder');
  const ctx = await init();
  try {
    const mnist = await loadMnistFromDirectory();
    const { train: fullTrain, validation: fullValidation } = split(mnist.train, 5000);
    const trainCount = config.trainImages ?? (config.quick ? ROBUSTNESS_QUICK.trainImages : fullTrain.count);
    const testCount = config.testImages ?? (config.quick ? ROBUSTNESS_QUICK.testImages : mnist.test.count);
    if (trainCount > fullTrain.count || testCount > mnist.test.count) {
      throw new Error(`robustness: at most ${fullTrain.count} training and ${mnist.test.count} test images, asked for ${trainCount} and ${testCount}`);
    }
    const trainSet = subset(fullTrain, 0, trainCount);
    const validation = config.quick || config.trainImages !== undefined ? subset(fullValidation, 0, 1000) : fullValidation;
    const test = subset(mnist.test, 0, testCount);
    const device = adapterLabel(ctx.adapterInfo);
    log(`kdgpu robustness on ${device}: ${config.load ? `models from ${config.load}` : `${trainSet.count} training images`}, ${validation.count} held-out, ${test.count} test images${config.quick ? ' (--quick)' : ''}`);

    const models = config.load
      ? await loadModels(ctx, config.load)
      : await trainRobustnessModels(ctx, trainSet, config, trainingOptions({ train: trainSet, validation, batchSize: config.batchSize, learningRate: config.learningRate, seed: config.seed, log }), log);
    try {
      if (config.save) log(`saved ${(await saveModels(config.save, models)).join(', ')}`);
      log('robustness evaluation');
      const results = await runRobustness(models, { test, heldOut: validation }, {
        epsilons: config.epsilons,
        pgdSteps: config.pgdSteps,
        autoattack: config.autoattack,
        relativeStepSize: config.relativeStepSize,
        restarts: config.restarts,
        attackImages: config.attackImages ?? (config.quick ? ROBUSTNESS_QUICK.attackImages : undefined),
        seed: config.seed,
        log,
      });
      const report: RobustnessReport = {
        kdgpu: '0.1.0',
        date: new Date().toISOString(),
        device,
        command: 'robustness',
        config: { ...config },
        teacherAdversariallyTrained: models[0]!.adversariallyTrained,
        ...results,
        data: { train: config.load ? null : trainSet.count, ...results.data },
        totalSeconds: (performance.now() - started) / 1000,
      };
      log('');
      log(robustnessTable(report));
      const files = await writeRobustnessReport(config.out, report);
      log(`\nwrote ${files.join(' and ')}`);
      return report;
    } finally {
      for (const m of models) m.model.dispose();
    }
  } finally {
    ctx.dispose();
  }
}
