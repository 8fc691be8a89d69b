import type { Batch } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import type { AnyTensor } from '../graph/apply.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { formatShape, type Tensor, type TensorData } from '../graph/tensor.js';
import { attentionTransferLoss } from '../losses/attention-transfer.js';
import { DKD_RENAMED, dkdLoss } from '../losses/dkd.js';
import { hintLoss } from '../losses/hint-loss.js';
import { refuseRenamedOptions } from '../losses/loss-options.js';
import { softmaxCrossEntropy } from '../losses/softmax-cross-entropy.js';
import { temperatureKl } from '../losses/temperature-kl.js';
import { Conv2d } from '../nn/conv2d.js';
import { Dense } from '../nn/dense.js';
import { Random } from '../nn/random.js';
import type { Sequential } from '../nn/sequential.js';
import { add, scale } from '../ops/elementwise.js';
import type { Precision } from '../ops/matmul.js';
import { fit, type FitOptions, type FitResult, type Objective, type ObjectiveBuildOptions } from '../train/fit.js';
import { DIAGNOSIS_NAMES } from './diagnose.js';
import { checkTeacher, type DistillationWeights, distillationWeights } from './options.js';
import { mixSoftTargets } from './soft-targets.js';
import { TeacherLogitCache } from './teacher-logit-cache.js';

/** A student layer matched to a teacher layer by name. */
export interface LayerPair {
  student: string;
  teacher: string;
  /** Weight of this pair's loss term. */
  weight: number;
  /** Which teacher, when there are several (default 0). */
  teacherIndex?: number;
}

export interface DistillOptions extends FitOptions, DistillationWeights {
  /** One frozen teacher, or several whose soft targets are averaged. */
  teacher: Sequential | readonly Sequential[];
  /** Weights of the teachers' soft targets (default equal). */
  teacherWeights?: readonly number[];
  // temperature (default 4) and hardWeight (default 0.1, the weight of the hard loss:
  // loss = hardWeight·CE(student, y) + (1 − hardWeight)·T²·KL(teacher ‖ student); ignored
  // with `dkd`) come from DistillationWeights, shared with ARD and the CLI.
  /** Hint (FitNets) terms: weight·MSE(projection(student layer), teacher layer). */
  hints?: readonly LayerPair[];
  /** Attention-transfer terms between conv layers (channels may differ). */
  attention?: readonly LayerPair[];
  /** Decoupled KD instead of the classic KL: CE + T²·(tckdWeight·TCKD + nckdWeight·NCKD). */
  dkd?: { tckdWeight: number; nckdWeight: number };
  /**
   * Run each teacher once over the training set before training and feed its stored logits
   * to every step instead of running the teacher in the step (default false). The same soft
   * targets, several times cheaper per epoch when the teacher is larger than the student;
   * costs count × classes floats of memory per teacher. Needs images the teacher sees
   * unchanged every epoch: refused with `augment`, hints or attention terms.
   */
  cacheTeacherLogits?: boolean;
}

export interface DistillResult extends FitResult {
  /** Learned projections for hints whose shapes differed, by student layer name. */
  projections: Record<string, Sequential['layers'][number]>;
}

/**
 * Trains `student` from frozen teacher(s): the teachers run in evaluation mode inside the
 * same compiled step (no CPU round trip), and only the student (and hint projections) are
 * updated. Response KD goes through the fused temperature-KL kernel.
 *
 * Loss = h·CE(s, y) + (1 − h)·T²·KL(softmax(t/T) ‖ softmax(s/T))   (h = hardWeight)
 *        + Σ hints weight·MSE(P(s_layer), t_layer) + Σ attention weight·AT(s_layer, t_layer)
 * (with `dkd`: CE(s, y) + T²·(dkd.tckdWeight·TCKD + dkd.nckdWeight·NCKD) replaces the first two terms).
 *
 * @example
 * await distill(student, mnist.train, {
 *   teacher, temperature: 4, hardWeight: 0.1, epochs: 5, batchSize: 128,
 *   optimizer: new Adam({ learningRate: 1e-3 }),
 *   hints: [{ student: 'conv1', teacher: 'conv2', weight: 0.1 }],
 * });
 */
export async function distill(student: Sequential, data: Dataset, options: DistillOptions): Promise<DistillResult> {
  const objective = new DistillationObjective(student, options);
  if (options.cacheTeacherLogits) await objective.cacheTeacherLogits(data);
  const result = await fit(student, data, objective, options);
  return { ...result, projections: objective.projections };
}

class DistillationObjective implements Objective {
  readonly teachers: readonly Sequential[];
  readonly projections: Record<string, Dense | Conv2d> = {};
  private readonly temperature: number;
  private readonly hardWeight: number;
  /** Each teacher's logits over the training set, when cached (cacheTeacherLogits). */
  private cache?: TeacherLogitCache;

  constructor(private readonly student: Sequential, private readonly options: DistillOptions) {
    this.teachers = Array.isArray(options.teacher) ? options.teacher : [options.teacher as Sequential];
    if (this.teachers.length === 0) throw new Error('distill: needs at least one teacher');
    ({ temperature: this.temperature, hardWeight: this.hardWeight } = distillationWeights('distill', options));
    if (options.dkd) refuseRenamedOptions('distill: dkd', options.dkd, DKD_RENAMED);
    for (const t of this.teachers) checkTeacher('distill', student, t);
    const weights = options.teacherWeights ?? this.teachers.map(() => 1);
    if (weights.length !== this.teachers.length) throw new Error(`distill: ${weights.length} teacher weights for ${this.teachers.length} teachers`);
    for (const pair of [...(options.hints ?? []), ...(options.attention ?? [])]) this.teacherOf(pair);
    if (options.cacheTeacherLogits) {
      const features = options.hints?.length || options.attention?.length ? "hints or attention terms (they need the teacher's features in the step)" : undefined;
      TeacherLogitCache.refuseUnless('distill', options, features);
    }
    this.createProjections();
  }

  /** Runs every teacher once over `data` (evaluation mode) and keeps its logits for feeds(). */
  async cacheTeacherLogits(data: Dataset): Promise<void> {
    this.cache = await TeacherLogitCache.compute(this.teachers, data, this.options.batchSize);
  }

  /** The cached teacher logits of the batch's images (nothing when the teachers run in the step). */
  feeds(batch: Batch): Record<string, TensorData> {
    return this.cache ? this.cache.feeds(batch) : {};
  }

  get parameters(): Tensor[] {
    const own = [...this.student.parameters().values()];
    for (const p of Object.values(this.projections)) own.push(...Object.values(p.parameters()));
    return own;
  }

  build(x: SymbolicTensor, y: SymbolicTensor, { precision }: ObjectiveBuildOptions) {
    const terms = this.terms(x, y, true, precision);
    const parts: Record<string, SymbolicTensor> = {};
    if (this.options.dkd) {
      parts.ce = terms.hardLoss();
      parts.dkd = dkdLoss(terms.logits, terms.target, y, { temperature: this.temperature, ...this.options.dkd });
    } else {
      parts.kd = temperatureKl(terms.logits, terms.target, { temperature: this.temperature, hardWeight: this.hardWeight, labels: y });
    }
    Object.assign(parts, terms.featureTerms);
    const values = Object.values(parts);
    const loss = values.slice(1).reduce((acc: SymbolicTensor, t) => add(acc, t), values[0]!);
    return { loss, logits: terms.logits, parts: values.length > 1 ? parts : {} };
  }

  /** The loss's ingredients one by one, student in evaluation mode, for the NaN guard's message. */
  diagnose(x: SymbolicTensor, y: SymbolicTensor): Record<string, SymbolicTensor> {
    const terms = this.terms(x, y, false);
    const checks: Record<string, SymbolicTensor> = {};
    terms.teacherLogits.forEach((t, i) => {
      checks[this.teachers.length === 1 ? DIAGNOSIS_NAMES.teacherLogits : `teacher ${i} ('${this.teachers[i]!.name}') logits`] = t;
    });
    checks[DIAGNOSIS_NAMES.studentLogits] = terms.logits;
    checks[DIAGNOSIS_NAMES.hardLoss] = terms.hardLoss();
    checks[DIAGNOSIS_NAMES.softLoss] = temperatureKl(terms.logits, terms.target, { temperature: this.temperature });
    return Object.assign(checks, terms.featureTerms);
  }

  /**
   * Student and teacher forward passes on `x` and what every term is made of: the student's
   * logits, the (mixed) teacher target, each teacher's logits, the hint and attention terms
   * (named as the loss parts are), and the hard loss on demand. `precision` applies to the
   * student and the hint projections (the trained parts); teachers run in f32.
   */
  private terms(x: SymbolicTensor, y: SymbolicTensor, training: boolean, precision: Precision = 'f32') {
    const { hints = [], attention = [] } = this.options;
    const studentTaps = [...hints, ...attention].map((p) => p.student);
    const { output: logits, features: studentFeatures } = this.student.forward(x, { training, taps: studentTaps, precision });
    const cache = this.cache;
    const teacherRuns = this.teachers.map((teacher, i) => {
      if (cache) return { output: cache.input(x, i), features: {} as Record<string, SymbolicTensor> };
      const taps = [...hints, ...attention].filter((p) => (p.teacherIndex ?? 0) === i).map((p) => p.teacher);
      return teacher.forward(x, { training: false, taps });
    });
    const T = this.temperature;
    const teacherLogits = teacherRuns.map((r) => r.output);
    const target = teacherRuns.length === 1 ? teacherLogits[0]! : mixSoftTargets(teacherLogits, this.options.teacherWeights ?? this.teachers.map(() => 1), T);
    const featureTerms: Record<string, SymbolicTensor> = {};
    for (const pair of hints) {
      const s = studentFeatures[pair.student]!;
      const t = teacherRuns[pair.teacherIndex ?? 0]!.features[pair.teacher]!;
      const projection = this.projections[pair.student];
      const projected = projection ? projection.forward(s, { training, precision }) : s;
      featureTerms[`hint:${pair.student}`] = scale(hintLoss(projected, t), pair.weight);
    }
    for (const pair of attention) {
      const s = studentFeatures[pair.student]!;
      const t = teacherRuns[pair.teacherIndex ?? 0]!.features[pair.teacher]!;
      featureTerms[`attention:${pair.student}`] = scale(attentionTransferLoss(s, t), pair.weight);
    }
    return { logits, target, teacherLogits, featureTerms, hardLoss: () => softmaxCrossEntropy(logits, y) };
  }

  private teacherOf(pair: LayerPair): Sequential {
    const teacher = this.teachers[pair.teacherIndex ?? 0];
    if (!teacher) throw new Error(`distill: pair '${pair.student}' → '${pair.teacher}' names teacher ${pair.teacherIndex}, but there are ${this.teachers.length}`);
    this.student.shapeOf(pair.student); // throws listing the student's layers
    teacher.shapeOf(pair.teacher);
    if (!(Number.isFinite(pair.weight) && pair.weight >= 0)) throw new Error(`distill: weight of '${pair.student}' must be ≥ 0, got ${pair.weight}`);
    return teacher;
  }

  /** A learned 1×1 conv (maps) or dense (vectors) wherever a hint's shapes differ. */
  private createProjections(): void {
    const random = new Random(0x5eed);
    for (const pair of this.options.hints ?? []) {
      const s = this.student.shapeOf(pair.student);
      const t = this.teacherOf(pair).shapeOf(pair.teacher);
      if (s.join() === t.join()) continue;
      let layer: Dense | Conv2d;
      if (s.length === 3 && t.length === 3 && s[1] === t[1] && s[2] === t[2]) layer = new Conv2d(t[0]!, { kernel: 1, name: `${pair.student}_to_${pair.teacher}` });
      else if (s.length === 1 && t.length === 1) layer = new Dense(t[0]!, { name: `${pair.student}_to_${pair.teacher}`, init: 'glorot' });
      else {
        throw new Error(
          `distill: hint '${pair.student}' ${formatShape(s)} → '${pair.teacher}' ${formatShape(t)}: shapes differ in more than channels; ` +
            'pick layers with the same spatial size (a 1×1 conv projection maps channels) or flat features (a dense projection)',
        );
      }
      layer.outputShape(s);
      layer.build(this.student.ctx, s, random);
      this.projections[pair.student] = layer;
    }
  }
}

export type { AnyTensor };
