import type { Dataset } from '../data/dataset.js';
import type { AnyTensor } from '../graph/apply.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { formatShape, type Tensor } from '../graph/tensor.js';
import { attentionTransferLoss } from '../losses/attention-transfer.js';
import { dkdLoss } from '../losses/dkd.js';
import { hintLoss } from '../losses/hint-loss.js';
import { softmaxCrossEntropy } from '../losses/softmax-cross-entropy.js';
import { temperatureKl } from '../losses/temperature-kl.js';
import { Conv2d } from '../nn/conv2d.js';
import { Dense } from '../nn/dense.js';
import { Random } from '../nn/random.js';
import type { Sequential } from '../nn/sequential.js';
import { add, scale } from '../ops/elementwise.js';
import { fit, type FitOptions, type FitResult, type Objective } from '../train/fit.js';
import { mixSoftTargets } from './soft-targets.js';

/** A student layer matched to a teacher layer by name. */
export interface LayerPair {
  student: string;
  teacher: string;
  /** Weight of this pair's loss term. */
  weight: number;
  /** Which teacher, when there are several (default 0). */
  teacherIndex?: number;
}

export interface DistillOptions extends FitOptions {
  /** One frozen teacher, or several whose soft targets are averaged. */
  teacher: Sequential | readonly Sequential[];
  /** Weights of the teachers' soft targets (default equal). */
  teacherWeights?: readonly number[];
  /** Softmax temperature T (default 4). */
  temperature?: number;
  /**
   * Weight of the HARD loss: loss = alpha·CE(student, y) + (1 − alpha)·T²·KL(teacher ‖ student)
   * (default 0.5). Ignored with `dkd`.
   */
  alpha?: number;
  /** Hint (FitNets) terms: weight·MSE(projection(student layer), teacher layer). */
  hints?: readonly LayerPair[];
  /** Attention-transfer terms between conv layers (channels may differ). */
  attention?: readonly LayerPair[];
  /** Decoupled KD instead of the classic KL: CE + T²·(alpha·TCKD + beta·NCKD). */
  dkd?: { alpha: number; beta: number };
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
 * Loss = alpha·CE(s, y) + (1 − alpha)·T²·KL(softmax(t/T) ‖ softmax(s/T))
 *        + Σ hints weight·MSE(P(s_layer), t_layer) + Σ attention weight·AT(s_layer, t_layer)
 * (with `dkd`: CE(s, y) + T²·(dkd.alpha·TCKD + dkd.beta·NCKD) replaces the first two terms).
 *
 * @example
 * await distill(student, mnist.train, {
 *   teacher, temperature: 4, alpha: 0.1, epochs: 5, batchSize: 128,
 *   optimizer: new Adam({ learningRate: 1e-3 }),
 *   hints: [{ student: 'conv1', teacher: 'conv2', weight: 0.1 }],
 * });
 */
export async function distill(student: Sequential, data: Dataset, options: DistillOptions): Promise<DistillResult> {
  const objective = new DistillationObjective(student, options);
  const result = await fit(student, data, objective, options);
  return { ...result, projections: objective.projections };
}

class DistillationObjective implements Objective {
  readonly teachers: readonly Sequential[];
  readonly projections: Record<string, Dense | Conv2d> = {};
  private readonly temperature: number;
  private readonly alpha: number;

  constructor(private readonly student: Sequential, private readonly options: DistillOptions) {
    this.teachers = Array.isArray(options.teacher) ? options.teacher : [options.teacher as Sequential];
    if (this.teachers.length === 0) throw new Error('distill: needs at least one teacher');
    this.temperature = options.temperature ?? 4;
    this.alpha = options.alpha ?? 0.5;
    if (!(this.temperature > 0 && Number.isFinite(this.temperature))) throw new Error(`distill: temperature must be > 0, got ${this.temperature}`);
    if (!(this.alpha >= 0 && this.alpha <= 1)) throw new Error(`distill: alpha weights the hard loss and must be in [0, 1], got ${this.alpha}`);
    for (const t of this.teachers) {
      if (t === student) throw new Error('distill: the teacher and the student must be different models');
      if (t.inputShape.join() !== student.inputShape.join()) {
        throw new Error(`distill: teacher '${t.name}' takes [${t.inputShape}] but student '${student.name}' takes [${student.inputShape}]`);
      }
      if (t.outputShape.join() !== student.outputShape.join()) {
        throw new Error(`distill: teacher '${t.name}' outputs [${t.outputShape}] but student '${student.name}' outputs [${student.outputShape}]`);
      }
    }
    const weights = options.teacherWeights ?? this.teachers.map(() => 1);
    if (weights.length !== this.teachers.length) throw new Error(`distill: ${weights.length} teacher weights for ${this.teachers.length} teachers`);
    for (const pair of [...(options.hints ?? []), ...(options.attention ?? [])]) this.teacherOf(pair);
    this.createProjections();
  }

  get parameters(): Tensor[] {
    const own = [...this.student.parameters().values()];
    for (const p of Object.values(this.projections)) own.push(...Object.values(p.parameters()));
    return own;
  }

  build(x: SymbolicTensor, y: SymbolicTensor) {
    const { hints = [], attention = [] } = this.options;
    const studentTaps = [...hints, ...attention].map((p) => p.student);
    const { output: logits, features: studentFeatures } = this.student.forward(x, { training: true, taps: studentTaps });
    const teacherRuns = this.teachers.map((teacher, i) => {
      const taps = [...hints, ...attention].filter((p) => (p.teacherIndex ?? 0) === i).map((p) => p.teacher);
      return teacher.forward(x, { training: false, taps });
    });
    const T = this.temperature;
    const target =
      teacherRuns.length === 1
        ? teacherRuns[0]!.output
        : mixSoftTargets(teacherRuns.map((r) => r.output), this.options.teacherWeights ?? this.teachers.map(() => 1), T);

    const parts: Record<string, SymbolicTensor> = {};
    if (this.options.dkd) {
      parts.ce = softmaxCrossEntropy(logits, y);
      parts.dkd = dkdLoss(logits, target, y, { temperature: T, ...this.options.dkd });
    } else {
      parts.kd = temperatureKl(logits, target, { temperature: T, alpha: this.alpha, labels: y });
    }
    for (const pair of hints) {
      const s = studentFeatures[pair.student]!;
      const t = teacherRuns[pair.teacherIndex ?? 0]!.features[pair.teacher]!;
      const projection = this.projections[pair.student];
      const projected = projection ? projection.forward(s, { training: true }) : s;
      parts[`hint:${pair.student}`] = scale(hintLoss(projected, t), pair.weight);
    }
    for (const pair of attention) {
      const s = studentFeatures[pair.student]!;
      const t = teacherRuns[pair.teacherIndex ?? 0]!.features[pair.teacher]!;
      parts[`attention:${pair.student}`] = scale(attentionTransferLoss(s, t), pair.weight);
    }
    const terms = Object.values(parts);
    const loss = terms.slice(1).reduce((acc: SymbolicTensor, t) => add(acc, t), terms[0]!);
    return { loss, logits, parts: terms.length > 1 ? parts : {} };
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
