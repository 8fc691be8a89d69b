import { ensureWritableDirectory } from '../io/directories.js';
import type { Dataset } from '../data/dataset.js';
import { distill } from '../distill/distiller.js';
import type { GpuContext } from '../gpu/context.js';
import { readFileBytes } from '../io/atomic-write.js';
import { loadParametersInto } from '../io/parameters.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { saveSafetensorsFile } from '../io/safetensors-file.js';
import type { Sequential } from '../nn/sequential.js';
import { seedCnn, teacherCnn } from '../nn/zoo.js';
import { adversarialTrain, ardDistill, rsladDistill } from '../robust/robust-distill.js';
import type { FitOptions } from '../train/fit.js';
import { train } from '../train/train.js';
import type { RobustnessModel } from './robustness.js';

/** The four models of `kdgpu robustness`, in report order; files are `<name>.safetensors`. */
export const ROBUSTNESS_MODEL_NAMES = ['teacher', 'student-alone', 'student-kd', 'student-ard'] as const;

export interface ModelTrainingConfig {
  seed: number;
  teacherEpochs: number;
  studentEpochs: number;
  /** KD and ARD softmax temperature. */
  temperature: number;
  /** Weight of the hard (clean cross-entropy) loss in KD and ARD; the KL term gets 1 − hardWeight. */
  hardWeight: number;
  /** Madry-train the teacher with the PGD below. */
  robustTeacher: boolean;
  /** L∞ PGD of ARD's (and the robust teacher's) inner attack. */
  trainEpsilon: number;
  trainSteps: number;
}

/** A trained (or loaded) model with its role and training, and whether it is robustly trained. */
export type TrainedModel = RobustnessModel & { adversariallyTrained: boolean };

/**
 * Trains the teacher (plain, or Madry PGD with `robustTeacher`), the seed CNN alone, the
 * seed CNN by KD and by ARD from that teacher; the students start from the same weights.
 * `fitOptions(epochs, label)` gives the shared training settings.
 * @example const models = await trainRobustnessModels(ctx, train, config, trainingOptions(settings), log);
 */
export async function trainRobustnessModels(
  ctx: GpuContext,
  data: Dataset,
  config: ModelTrainingConfig,
  fitOptions: (epochs: number, label: string) => FitOptions,
  log: (line: string) => void,
): Promise<TrainedModel[]> {
  const attack = { epsilon: config.trainEpsilon, steps: config.trainSteps, seed: config.seed };
  const pgd = `PGD-${config.trainSteps} L∞ ε = ${config.trainEpsilon}`;
  const teacher = teacherCnn('teacher').build(ctx, [1, 28, 28], { seed: config.seed });
  const teacherFit = { ...fitOptions(config.teacherEpochs, 'teacher'), augment: { maxShift: 2 } };
  const teacherTraining = config.robustTeacher
    ? `Madry adversarial training (${pgd} on its cross-entropy), ±2 px jitter, ${epochCount(config.teacherEpochs)}`
    : `cross-entropy, ±2 px jitter, ${epochCount(config.teacherEpochs)} (not adversarially trained)`;
  log(`teacher: ${teacherTraining}`);
  await (config.robustTeacher ? adversarialTrain(teacher, data, { ...teacherFit, attack }) : train(teacher, data, teacherFit));

  const student = (name: string) => seedCnn(name).build(ctx, [1, 28, 28], { seed: config.seed + 1 });
  const epochs = config.studentEpochs;
  const alone = student('student-alone');
  log(`student alone: cross-entropy, ${epochCount(epochs)}`);
  await train(alone, data, fitOptions(epochs, 'alone'));

  const kd = student('student-kd');
  const kdTraining = `KD: ${config.hardWeight}·CE + ${round(1 - config.hardWeight)}·T²·KL(teacher ‖ student), T = ${config.temperature}, ${epochCount(epochs)}`;
  log(`student with ${kdTraining}`);
  await distill(kd, data, { ...fitOptions(epochs, 'kd'), teacher, temperature: config.temperature, hardWeight: config.hardWeight });

  const ard = await trainArdStudent(student('student-ard'), teacher, data, { ...config, teacherAdversariallyTrained: config.robustTeacher }, fitOptions(epochs, 'ard'), log);
  return [
    { model: teacher, role: 'teacher', training: teacherTraining, adversariallyTrained: config.robustTeacher },
    { model: alone, role: 'student trained alone', training: `cross-entropy, ${epochCount(epochs)}`, adversariallyTrained: false },
    { model: kd, role: 'student distilled (KD)', training: kdTraining, adversariallyTrained: false },
    ard,
  ];
}

/**
 * Trains `student` by ARD (Goldblum et al. 2020) from `teacher`:
 * h·CE(s(x), y) + (1 − h)·T²·KL(t(x) ‖ s(x′)) with h = config.hardWeight, the same
 * weight of the hard loss as KD's; x′ = PGD on the student's cross-entropy, made in every step.
 * @example const ard = await trainArdStudent(student, teacher, train, config, fitOptions(3, 'ard'), log);
 */
export async function trainArdStudent(
  student: Sequential,
  teacher: Sequential,
  data: Dataset,
  config: Omit<ModelTrainingConfig, 'robustTeacher' | 'teacherEpochs' | 'studentEpochs'> & { teacherAdversariallyTrained: boolean },
  fitOptions: FitOptions,
  log: (line: string) => void,
): Promise<TrainedModel> {
  const training =
    `ARD from the ${config.teacherAdversariallyTrained ? 'adversarially trained' : 'plain (not adversarially trained)'} teacher: ` +
    `${config.hardWeight}·CE(s(x), y) + ${round(1 - config.hardWeight)}·T²·KL(t(x) ‖ s(x′)), T = ${config.temperature}, ` +
    `x′ = PGD-${config.trainSteps} L∞ ε = ${config.trainEpsilon} on the student's cross-entropy, ${epochCount(fitOptions.epochs)}`;
  log(`student with ${training}`);
  await ardDistill(student, data, {
    ...fitOptions,
    teacher,
    temperature: config.temperature,
    hardWeight: config.hardWeight,
    attack: { epsilon: config.trainEpsilon, steps: config.trainSteps, seed: config.seed },
    // The teacher only sees clean images: without augmentation its logits are run once.
    cacheTeacherLogits: fitOptions.augment === undefined,
  });
  return { model: student, role: 'student distilled adversarially (ARD)', training, adversariallyTrained: true };
}

/**
 * Trains `student` by RSLAD (Zi et al. 2021) from `teacher`, with no hard labels:
 * 5/6·KL(t(x) ‖ s(x′)) + 1/6·KL(t(x) ‖ s(x)), x′ = PGD on the student maximising the first KL.
 * @example const rslad = await trainRsladStudent(student, robustTeacher, train, config, fitOptions(3, 'rslad'), log);
 */
export async function trainRsladStudent(
  student: Sequential,
  teacher: Sequential,
  data: Dataset,
  config: Pick<ModelTrainingConfig, 'seed' | 'trainEpsilon' | 'trainSteps'> & { teacherAdversariallyTrained: boolean },
  fitOptions: FitOptions,
  log: (line: string) => void,
): Promise<TrainedModel> {
  const training =
    `RSLAD from the ${config.teacherAdversariallyTrained ? 'adversarially trained' : 'plain (not adversarially trained)'} teacher: ` +
    `5/6·KL(t(x) ‖ s(x′)) + 1/6·KL(t(x) ‖ s(x)), x′ = PGD-${config.trainSteps} L∞ ε = ${config.trainEpsilon} on the first KL, ${epochCount(fitOptions.epochs)}`;
  log(`student with ${training}`);
  await rsladDistill(student, data, {
    ...fitOptions,
    teacher,
    attack: { epsilon: config.trainEpsilon, steps: config.trainSteps, seed: config.seed },
    cacheTeacherLogits: fitOptions.augment === undefined,
  });
  return { model: student, role: 'student distilled adversarially (RSLAD)', training, adversariallyTrained: true };
}

/**
 * Writes each model's state to `dir/<name>.safetensors`, with its role and training in the
 * file's metadata so a later `--load` can report them.
 * @example await saveModels('weights', models);
 */
export async function saveModels(dir: string, models: readonly TrainedModel[]): Promise<string[]> {
  await ensureWritableDirectory(dir, 'weights folder');
  const paths: string[] = [];
  for (const m of models) {
    const path = `${dir}/${m.model.name}.safetensors`;
    await saveSafetensorsFile(path, m.model.state(), { role: m.role, training: m.training ?? '', adversariallyTrained: String(m.adversariallyTrained) });
    paths.push(path);
  }
  return paths;
}

/**
 * Builds the four architectures and loads `dir/<name>.safetensors` into each (as written by
 * saveModels); role and training come from the files' metadata.
 * @example const models = await loadModels(ctx, 'weights');
 */
export async function loadModels(ctx: GpuContext, dir: string): Promise<TrainedModel[]> {
  const models: TrainedModel[] = [];
  for (const name of ROBUSTNESS_MODEL_NAMES) {
    const model = (name === 'teacher' ? teacherCnn(name) : seedCnn(name)).build(ctx, [1, 28, 28]);
    const path = `${dir}/${name}.safetensors`;
    const bytes = await readFileBytes(path);
    loadParametersInto(model.state(), bytes, { source: path });
    const { metadata } = decodeSafetensors(bytes, path);
    models.push({ model, role: metadata.role ?? name, training: `${metadata.training || 'unknown'} (loaded from ${path})`, adversariallyTrained: metadata.adversariallyTrained === 'true' });
  }
  return models;
}

function epochCount(n: number): string {
  return `${n} epoch${n === 1 ? '' : 's'}`;
}

function round(x: number): number {
  return Number(x.toFixed(6));
}
