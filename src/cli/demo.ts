import { ensureWritableDirectory, ensureWritableFileLocation } from '../io/directories.js';
import { split, subset, type Dataset } from '../data/dataset.js';
import { loadMnistFromDirectory } from '../data/mnist.js';
import { distill } from '../distill/distiller.js';
import { DISTILLATION_DEFAULTS } from '../distill/options.js';
import { init } from '../init.js';
import { adapterLabel } from '../gpu/context.js';
import { pretrained } from '../models/pretrained.js';
import { ONNX_EXPORT_OPSET, saveOnnx } from '../onnx/export.js';
import { seedCnn, teacherCnn } from '../nn/zoo.js';
import type { Sequential } from '../nn/sequential.js';
import { evaluate } from '../train/evaluate.js';
import type { EpochStats, FitResult } from '../train/fit.js';
import { pairedComparison, type PairedComparison } from '../train/paired-test.js';
import { train } from '../train/train.js';
import { writeDemoReport } from './demo-report.js';
import { ROBUSTNESS_DEFAULTS, ROBUSTNESS_QUICK } from './robustness-command.js';
import { trainArdStudent, trainRsladStudent, type TrainedModel } from './robustness-models.js';
import { robustnessTable, writeRobustnessReport } from './robustness-report.js';
import { runRobustness } from './robustness.js';
import { trainingOptions } from './training-options.js';

export interface DemoConfig {
  quick: boolean;
  out: string;
  seed: number;
  /** Train the teacher from scratch for teacherEpochs instead of loading the shipped 'mnist-teacher'. */
  trainTeacher: boolean;
  teacherEpochs: number;
  studentEpochs: number;
  batchSize: number;
  temperature: number;
  /** Weight of the hard loss in KD. */
  hardWeight: number;
  /** Weight of the hint (feature) loss in KD+feature. */
  hintWeight: number;
  learningRate: number;
  /** The learning rate is multiplied by this after every epoch (0.5; 0.7 with --quick). */
  learningRateDecay: number;
  /** Training images used (default: all 55,000, or 4,000 with --quick). */
  trainImages?: number;
  /** Test images evaluated (default: all 10,000, or 2,000 with --quick). */
  testImages?: number;
  /** Also write the KD student as an ONNX model (opset 13) to this path. */
  exportOnnx?: string;
}

export interface ModelResult {
  name: string;
  role: string;
  parameters: number;
  testAccuracy: number;
  testErrors: number;
  testLoss: number;
  trainSeconds: number;
  epochs: number;
  history: EpochStats[];
}

export interface DemoResults {
  kdgpu: string;
  date: string;
  device: string;
  config: DemoConfig;
  data: { train: number; validation: number; test: number };
  models: ModelResult[];
  /** The KD student against the student alone on the same test images (exact McNemar test). */
  kdVersusAlone: PairedComparison & { verdict: string };
  totalSeconds: number;
}

/** The demo's robustness evaluation; unset fields take `kdgpu robustness`'s defaults (its --quick ones with --quick). */
export interface DemoRobustness {
  attackImages?: number;
  pgdSteps?: number;
  restarts?: number;
  /** The ARD and RSLAD students' inner PGD. */
  trainEpsilon?: number;
  trainSteps?: number;
  /** Epochs of the ARD and RSLAD students (default: the students' epochs; 2 with --quick). */
  ardEpochs?: number;
}

/** The demo's robustness pass attacks fewer images with fewer PGD steps than `kdgpu robustness`. */
export const DEMO_ROBUSTNESS = { attackImages: 500, pgdSteps: 10 } as const;
/** The quick demo's robustness glance: PGD-5 on 200 images (weaker than `kdgpu robustness`, and the report says so). */
export const DEMO_QUICK_ROBUSTNESS = { attackImages: 200, pgdSteps: 5 } as const;

export const DEMO_DEFAULTS: DemoConfig = {
  quick: false,
  out: 'kdgpu-out',
  seed: 1,
  trainTeacher: false,
  teacherEpochs: 3,
  studentEpochs: 3,
  batchSize: 64,
  temperature: DISTILLATION_DEFAULTS.temperature,
  hardWeight: DISTILLATION_DEFAULTS.hardWeight,
  hintWeight: 0.5,
  learningRate: 1e-3,
  learningRateDecay: 0.5,
};

/**
 * --quick: 4,000 training images, batch 32, 5 student epochs with the rate ×0.7 per epoch,
 * ARD and RSLAD for 2. Measured here: KD from the shipped teacher beats the student alone beyond
 * noise at this size (docs in README), and the whole run stays under 10 minutes.
 */
export const DEMO_QUICK = { trainImages: 4000, testImages: 2000, batchSize: 32, studentEpochs: 5, learningRateDecay: 0.7, ardEpochs: 2 } as const;

/**
 * The main job: train a teacher CNN, the seed CNN alone (baseline), the seed CNN distilled
 * (KD) and distilled with a feature hint (KD+feature), all from the same initial student
 * weights; evaluate on the MNIST test set; write results.json and report.html. Then, unless
 * `robustness` is false, distil the shipped robust teacher into the same initial student by
 * ARD and by RSLAD (with --train-teacher: ARD alone, from the trained teacher) and evaluate
 * the teachers, the student alone, KD, ARD and RSLAD with runRobustness, writing
 * robustness.json and robustness.html beside them.
 */
export async function runDemo(options: DemoConfig & { robustness?: DemoRobustness | false }, log: (line: string) => void = console.log): Promise<DemoResults> {
  const { robustness = {}, ...config } = options;
  const started = performance.now();
  // Every output location is checked before hours of training, not after.
  await ensureWritableDirectory(config.out);
  if (config.exportOnnx) await ensureWritableFileLocation(config.exportOnnx, 'ONNX export');
  const ctx = await init();
  try {
    const mnist = await loadMnistFromDirectory();
    const { train: fullTrain, validation: fullValidation } = split(mnist.train, 5000);
    const trainCount = config.trainImages ?? (config.quick ? DEMO_QUICK.trainImages : fullTrain.count);
    const testCount = config.testImages ?? (config.quick ? DEMO_QUICK.testImages : mnist.test.count);
    if (trainCount > fullTrain.count || testCount > mnist.test.count) {
      throw new Error(`demo: at most ${fullTrain.count} training and ${mnist.test.count} test images, asked for ${trainCount} and ${testCount}`);
    }
    const trainSet = subset(fullTrain, 0, trainCount);
    const validation = config.quick || config.trainImages !== undefined ? subset(fullValidation, 0, Math.min(1000, fullValidation.count)) : fullValidation;
    const test = subset(mnist.test, 0, testCount);
    const device = adapterLabel(ctx.adapterInfo);
    log(`kdgpu demo on ${device}: ${trainSet.count} training, ${validation.count} validation, ${test.count} test images${config.quick ? ' (--quick)' : ''}`);

    const fitOptions = trainingOptions({ train: trainSet, validation, batchSize: config.batchSize, learningRate: config.learningRate, decayPerEpoch: config.learningRateDecay, seed: config.seed, log });
    const models: ModelResult[] = [];
    const predictions = new Map<string, Uint32Array>();
    const record = async (model: Sequential, role: string, result: FitResult) => {
      const e = await evaluate(model, test);
      predictions.set(model.name, e.predictions);
      models.push({
        name: model.name,
        role,
        parameters: model.parameterCount,
        testAccuracy: e.accuracy,
        testErrors: e.errors,
        testLoss: e.loss,
        trainSeconds: result.seconds,
        epochs: result.history.length,
        history: result.history,
      });
      log(`${model.name}: test accuracy ${pct(e.accuracy)} (${e.errors} errors), ${model.parameterCount} parameters, ${result.seconds.toFixed(0)} s`);
    };

    let teacher: Sequential;
    if (config.trainTeacher) {
      log(`teacher (${config.teacherEpochs} epochs, jitter ±2 px)`);
      teacher = teacherCnn('teacher').build(ctx, [1, 28, 28], { seed: config.seed });
      await record(teacher, 'teacher', await train(teacher, trainSet, { ...fitOptions(config.teacherEpochs, 'teacher'), augment: { maxShift: 2 } }));
    } else {
      const shipped = await pretrained(ctx, 'mnist-teacher');
      teacher = shipped;
      log(`teacher: the shipped 'mnist-teacher' (${shipped.manifest.command}; ${pct(shipped.manifest.accuracy.clean)} on the full test set); --train-teacher trains one instead`);
      await record(teacher, 'teacher (shipped, pretrained)', { history: [], bestEpoch: 0, stoppedEarly: false, seconds: 0 });
    }

    const studentSeed = config.seed + 1;
    const student = (name: string) => seedCnn(name).build(ctx, [1, 28, 28], { seed: studentSeed });
    log(`student alone (${config.studentEpochs} epochs)`);
    const alone = student('student-alone');
    await record(alone, 'student trained alone', await train(alone, trainSet, fitOptions(config.studentEpochs, 'alone')));

    log(`student with KD (T = ${config.temperature}, hardWeight = ${config.hardWeight})`);
    const kd = student('student-kd');
    const kdOptions = { teacher, temperature: config.temperature, hardWeight: config.hardWeight };
    // The students see unshifted images, so the teacher's logits are run once, not every epoch.
    await record(kd, 'student distilled (KD)', await distill(kd, trainSet, { ...fitOptions(config.studentEpochs, 'kd'), ...kdOptions, cacheTeacherLogits: true }));

    log(`student with KD + feature hint (relu1 ← teacher relu1, hintWeight = ${config.hintWeight})`);
    const kdFeature = student('student-kd-feature');
    const hints = [{ student: 'relu1', teacher: 'relu1', weight: config.hintWeight }];
    await record(kdFeature, 'student distilled (KD + feature)', await distill(kdFeature, trainSet, { ...fitOptions(config.studentEpochs, 'kd+feature'), ...kdOptions, hints }));

    const comparison = pairedComparison(predictions.get(kd.name)!, predictions.get(alone.name)!, test.labels);
    const results: DemoResults = {
      kdgpu: '0.1.0',
      date: new Date().toISOString(),
      device,
      config,
      data: { train: trainSet.count, validation: validation.count, test: test.count },
      models,
      kdVersusAlone: { ...comparison, verdict: kdVerdict(comparison) },
      totalSeconds: (performance.now() - started) / 1000,
    };
    log('');
    log(resultsTable(results));
    log(`\nKD vs alone: ${results.kdVersusAlone.verdict}`);
    const files = await writeDemoReport(config.out, results);
    log(`\nwrote ${files.join(' and ')}`);
    if (config.exportOnnx) {
      await saveOnnx(kd, config.exportOnnx);
      log(`wrote the KD student as ONNX (opset ${ONNX_EXPORT_OPSET}, input 'input' [batch, 1, 28, 28] in [0, 1], output 'logits') to ${config.exportOnnx}`);
    }

    if (robustness) {
      const trainSteps = robustness.trainSteps ?? (config.quick ? ROBUSTNESS_QUICK.trainSteps : ROBUSTNESS_DEFAULTS.trainSteps);
      // The shipped teachers: the robust one teaches ARD and RSLAD (as in the papers); with
      // --train-teacher, ARD distils the teacher trained here, which is not robust.
      const robustTeacher = config.trainTeacher ? undefined : await pretrained(ctx, 'mnist-robust-teacher');
      if (robustTeacher) log(`robust teacher: the shipped 'mnist-robust-teacher' (${robustTeacher.manifest.training.adversarial as string}; ${pct(robustTeacher.manifest.accuracy.clean)} clean on the full test set)`);
      const adversarialConfig = {
        seed: config.seed,
        temperature: config.temperature,
        hardWeight: config.hardWeight,
        trainEpsilon: robustness.trainEpsilon ?? ROBUSTNESS_DEFAULTS.trainEpsilon,
        trainSteps,
        teacherAdversariallyTrained: robustTeacher !== undefined,
      };
      const adversarialFit = (label: string) => fitOptions(robustness.ardEpochs ?? config.studentEpochs, label);
      const ard = await trainArdStudent(student('student-ard'), robustTeacher ?? teacher, trainSet, adversarialConfig, adversarialFit('ard'), log);
      const rslad: TrainedModel | undefined = robustTeacher && (await trainRsladStudent(student('student-rslad'), robustTeacher, trainSet, adversarialConfig, adversarialFit('rslad'), log));
      const role = (m: Sequential) => models.find((r) => r.name === m.name)!.role;
      log('robustness evaluation');
      // --quick evaluates robustness on as many test images as `kdgpu robustness --quick`.
      const robustTest = config.quick ? subset(test, 0, Math.min(test.count, ROBUSTNESS_QUICK.testImages)) : test;
      const evaluatedModels = [
        { model: teacher, role: role(teacher) },
        ...(robustTeacher ? [{ model: robustTeacher, role: 'robust teacher (shipped, pretrained)', training: robustTeacher.manifest.command }] : []),
        { model: alone, role: role(alone) },
        { model: kd, role: role(kd) },
        ard,
        ...(rslad ? [rslad] : []),
      ];
      const evaluated = await runRobustness(evaluatedModels, { test: robustTest, heldOut: validation }, {
        // Lighter than `kdgpu robustness` (PGD-40 on 1,000 images) so the demo's defaults
        // finish in reasonable time on a CPU-only machine.
        pgdSteps: robustness.pgdSteps ?? (config.quick ? DEMO_QUICK_ROBUSTNESS.pgdSteps : DEMO_ROBUSTNESS.pgdSteps),
        restarts: robustness.restarts,
        attackImages: robustness.attackImages ?? (config.quick ? DEMO_QUICK_ROBUSTNESS.attackImages : DEMO_ROBUSTNESS.attackImages),
        seed: config.seed,
        log,
      });
      ard.model.dispose();
      rslad?.model.dispose();
      robustTeacher?.dispose();
      const report = {
        kdgpu: results.kdgpu,
        date: new Date().toISOString(),
        device,
        command: 'demo' as const,
        config: { ...config, robustness },
        teacherAdversariallyTrained: adversarialConfig.teacherAdversariallyTrained,
        ...evaluated,
        data: { train: trainSet.count, ...evaluated.data },
        totalSeconds: (performance.now() - started) / 1000,
      };
      log('');
      log(robustnessTable(report));
      log(`\nwrote ${(await writeRobustnessReport(config.out, report)).join(' and ')}`);
    }
    for (const m of [teacher, alone, kd, kdFeature]) m.dispose();
    return results;
  } finally {
    ctx.dispose();
  }
}

/**
 * Says in words whether the KD student beat the student alone on the test images, with the
 * exact McNemar test at the 5 % level (two-sided).
 */
export function kdVerdict(c: PairedComparison): string {
  const counts = `KD right and alone wrong on ${c.onlyA} images, the reverse on ${c.onlyB} (exact McNemar p = ${c.pValue < 1e-4 ? c.pValue.toExponential(1) : c.pValue.toFixed(4)}, ${c.count} test images)`;
  if (c.pValue >= 0.05) return `no significant difference: ${counts}`;
  return c.onlyA > c.onlyB ? `KD is significantly better than the student alone: ${counts}` : `KD is significantly WORSE than the student alone: ${counts}`;
}

/** The comparison as a plain-text table. */
export function resultsTable(results: DemoResults): string {
  const header = ['model', 'test acc', 'errors', 'params', 'train s'];
  const rows = results.models.map((m) => [m.name, pct(m.testAccuracy), String(m.testErrors), String(m.parameters), m.trainSeconds.toFixed(0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

export type { Dataset };
