import { ensureWritableDirectory, ensureWritableFileLocation } from '../io/directories.js';
import { split, subset } from '../data/dataset.js';
import { loadMnistFromDirectory } from '../data/mnist.js';
import { distill } from '../distill/distiller.js';
import { DISTILLATION_DEFAULTS } from '../distill/options.js';
import { init } from '../init.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { seedCnn } from '../nn/zoo.js';
import { ONNX_EXPORT_OPSET, saveOnnx } from '../onnx/export.js';
import { loadOnnx } from '../onnx/load.js';
import { evaluate } from '../train/evaluate.js';
import { trainingOptions } from './training-options.js';

export interface DistillCommandConfig {
  /** The teacher: an ONNX file taking MNIST-shaped images. */
  teacher: string;
  /** The teacher's input normalisation, when it was trained on standardised pixels. */
  teacherNormalization?: { mean: number; std: number };
  out: string;
  exportOnnx?: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  temperature: number;
  hardWeight: number;
  seed: number;
  trainImages?: number;
  testImages?: number;
}

export const DISTILL_DEFAULTS = { out: 'kdgpu-distill', epochs: 3, batchSize: 64, learningRate: 1e-3, temperature: DISTILLATION_DEFAULTS.temperature, hardWeight: DISTILLATION_DEFAULTS.hardWeight, seed: 1 } as const;

/**
 * `kdgpu distill --teacher teacher.onnx`: imports the teacher, distils the seed CNN from it on
 * MNIST (KD loss as in the demo; the teacher's logits computed once, `cacheTeacherLogits`),
 * evaluates both on the test set, writes OUT/distill.json and, with --export-onnx, the
 * student as ONNX.
 * @example await runDistillCommand({ ...DISTILL_DEFAULTS, teacher: 'teacher.onnx', exportOnnx: 'student.onnx' });
 */
export async function runDistillCommand(config: DistillCommandConfig, log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  await ensureWritableDirectory(config.out);
  if (config.exportOnnx) await ensureWritableFileLocation(config.exportOnnx, 'ONNX export');
  const ctx = await init();
  try {
    const teacher = await loadOnnx(ctx, config.teacher, { inputShape: [1, 28, 28], normalization: config.teacherNormalization });
    const mnist = await loadMnistFromDirectory();
    const { train: fullTrain, validation: fullValidation } = split(mnist.train, 5000);
    const train = subset(fullTrain, 0, config.trainImages ?? fullTrain.count);
    const validation = config.trainImages === undefined ? fullValidation : subset(fullValidation, 0, 1000);
    const test = subset(mnist.test, 0, config.testImages ?? mnist.test.count);
    const teacherEval = await evaluate(teacher, test);
    log(`teacher ${config.teacher}${config.teacherNormalization ? ` (inputs standardised with mean ${config.teacherNormalization.mean}, std ${config.teacherNormalization.std})` : ''}: test accuracy ${(teacherEval.accuracy * 100).toFixed(2)}% on ${test.count} images`);
    const student = seedCnn('student-kd').build(ctx, [1, 28, 28], { seed: config.seed + 1 });
    const fitOptions = trainingOptions({ train, validation, batchSize: config.batchSize, learningRate: config.learningRate, seed: config.seed, log })(config.epochs, 'kd');
    // The student sees unshifted images: the teacher runs once over them, not in every step.
    const result = await distill(student, train, { ...fitOptions, teacher, temperature: config.temperature, hardWeight: config.hardWeight, cacheTeacherLogits: true });
    const studentEval = await evaluate(student, test);
    log(`student (seed CNN, KD with T = ${config.temperature}, hardWeight = ${config.hardWeight}): test accuracy ${(studentEval.accuracy * 100).toFixed(2)}%`);
    const report = {
      teacher: { file: config.teacher, normalization: config.teacherNormalization ?? null, testAccuracy: teacherEval.accuracy, parameters: teacher.parameterCount },
      student: { architecture: 'seedCnn', testAccuracy: studentEval.accuracy, testErrors: studentEval.errors, parameters: student.parameterCount, history: result.history },
      config,
      data: { train: train.count, validation: validation.count, test: test.count },
    };
    await ensureWritableDirectory(config.out);
    await writeFileAtomic(`${config.out}/distill.json`, new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
    log(`wrote ${config.out}/distill.json`);
    if (config.exportOnnx) {
      await saveOnnx(student, config.exportOnnx);
      log(`wrote the student as ONNX (opset ${ONNX_EXPORT_OPSET}, input 'input' [batch, 1, 28, 28] in [0, 1], output 'logits') to ${config.exportOnnx}`);
    }
    teacher.dispose();
    student.dispose();
    return report;
  } finally {
    ctx.dispose();
  }
}
