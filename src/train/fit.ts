import { type Batch, batchCount, batchesFrom } from '../data/batches.js';
import { checkClassifierData, classesOf, type Dataset } from '../data/dataset.js';
import { Graph } from '../graph/graph.js';
import { compile, type Plan } from '../graph/plan.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { Tensor, type TensorData } from '../graph/tensor.js';
import { argmaxCorrect } from '../ops/accuracy.js';
import { accumulate } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import type { Sequential } from '../nn/sequential.js';
import type { Precision } from '../ops/matmul.js';
import { type LossScaleOptions, type LossScaleReading, LossScaler } from '../optim/loss-scale.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Evaluator } from './evaluate.js';
import { StepSnapshot } from './nan-guard.js';

/** How fit asks an objective to build its step. */
export interface ObjectiveBuildOptions {
  /** FitOptions.precision: pass it to the forward passes of the trained model (model.call). */
  precision: Precision;
}

/** What one training step minimises, built into the step's graph. */
export interface Objective {
  /** Tensors the optimizer updates (the student's parameters, projections, ...). */
  parameters: readonly Tensor[];
  /**
   * The loss of one batch (x [batch, ...inputShape], y [batch] u32), the logits used for
   * training accuracy, and optional named parts of the loss to report per epoch.
   */
  build(x: SymbolicTensor, y: SymbolicTensor, options: ObjectiveBuildOptions): { loss: SymbolicTensor; logits: SymbolicTensor; parts?: Record<string, SymbolicTensor> };
  /**
   * Host-side state a resumed run needs besides tensors (e.g. the inner attack's
   * random-start counter), as JSON numbers; saved in every checkpoint.
   */
  saveState?(): Record<string, number>;
  /**
   * Restores what saveState() returned when a run resumes. `state` is undefined when the
   * checkpoint has none (written before the objective saved it); `stepsDone` is the number
   * of training steps (plan runs) the checkpoint covers; `source` names the checkpoint for messages.
   */
  restoreState?(state: Record<string, number> | undefined, info: { stepsDone: number; source: string }): void;
  /**
   * What the loss is made of, by name ('teacher logits', 'hard loss ...', ...), for the NaN
   * guard's message: built and run only when a step's loss is non-finite, as a forward-only
   * graph on that step's batch with the weights from before the step.
   */
  diagnose?(x: SymbolicTensor, y: SymbolicTensor): Record<string, SymbolicTensor>;
  /**
   * Values for the graph inputs that build() (and diagnose()) made besides x and y, for one
   * batch (e.g. cached teacher logits looked up by `batch.rows`).
   */
  feeds?(batch: Batch): Record<string, TensorData>;
}

export interface EpochStats {
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Training accuracy over the epoch (in training mode: dropout on). */
  accuracy: number;
  /** Mean of each named loss part over the epoch. */
  parts: Record<string, number>;
  validation?: { accuracy: number; loss: number };
  /** Mean training loss and accuracy over each `logEvery` steps (when asked for). */
  curve?: { step: number; loss: number; accuracy: number }[];
  /** Values an `afterEpoch` hook recorded for this epoch (e.g. the overfitting check's accuracy); kept in checkpoints with the history. */
  checks?: Record<string, number>;
  /**
   * precision 'f16' only: the loss scale S at the epoch's end, and the steps of this epoch
   * that were skipped because a gradient overflowed (their batches did not train the model;
   * in an epoch resumed mid-way, those since the resume).
   */
  lossScale?: { scale: number; skippedSteps: number };
  seconds: number;
}

export interface StepProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
}

/** Saved state of a run, written at the end of every epoch and every `checkpointEvery` steps. */
export interface TrainingState {
  /** Epochs completed. */
  epoch: number;
  /** Steps done in the next, unfinished epoch (absent or 0 at an epoch's end). */
  stepInEpoch?: number;
  /** Mid-epoch only: that epoch's running sums [loss, correct, ...parts] and logged curve so far. */
  partialEpoch?: { sums: number[]; curve: NonNullable<EpochStats['curve']>; logged: { step: number; loss: number; correct: number } };
  optimizerStep: number;
  dropoutSeed: number;
  dropoutStep: number;
  history: EpochStats[];
  bestEpoch: number;
  /** Objective.saveState() (absent when the objective has none, and in older checkpoints). */
  objectiveState?: Record<string, number>;
  /** Every GPU tensor whose value a resumed run needs, by name. */
  tensors: Map<string, Tensor>;
}

export interface CheckpointStore {
  /** Writes `state` so that a crash during the write leaves the previous checkpoint intact. */
  save(state: TrainingState): Promise<void>;
  /** Loads the latest checkpoint into `tensors` (same names); undefined when there is none. */
  load(tensors: Map<string, Tensor>): Promise<Omit<TrainingState, 'tensors'> | undefined>;
  /** Where the checkpoint lives, for messages (fileCheckpoint: the file's path). */
  readonly path?: string;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  optimizer: Optimizer;
  /** Seed of the data order and augmentation (default 0). */
  seed?: number;
  /** Random shifts of up to ±maxShift pixels per training image (Hinton's jitter). */
  augment?: { maxShift: number };
  /** Held-out data evaluated after every epoch (drives early stopping when given). */
  validation?: Dataset;
  /**
   * Stop when the monitored score (validation accuracy, else −training loss) has not
   * improved by more than minDelta for `patience` epochs; the best epoch's weights are
   * restored.
   */
  earlyStopping?: { patience: number; minDelta?: number };
  onStep?: (progress: StepProgress) => void;
  onEpoch?: (stats: EpochStats) => void;
  /** Write a checkpoint each epoch and, when it has one, resume from it. */
  checkpoint?: CheckpointStore;
  /**
   * Also write the checkpoint every this many steps within an epoch, so that a killed run
   * loses fewer steps; the resumed run continues mid-epoch with the same batches, shifts,
   * dropout masks and result as an uninterrupted run. Needs `checkpoint`.
   */
  checkpointEvery?: number;
  /** Batch size of validation passes (default 500). */
  evaluationBatchSize?: number;
  /** Also record the mean loss and accuracy of every `logEvery` steps (one small readback each). */
  logEvery?: number;
  /**
   * Check the loss after every step (default true): at the first non-finite loss, undo that
   * step (weights, optimizer state and counters as before it) and throw naming the loss
   * parts that went non-finite. Costs a GPU copy of the trained tensors and a one-value
   * readback per step; false checks only once per epoch, after the weights are spoilt.
   */
  nanGuard?: boolean;
  /**
   * Called after every epoch with its statistics; 'revert-and-stop' ends training with the
   * weights the model had before that epoch (e.g. fast adversarial training's check for
   * catastrophic overfitting). Costs one read of the model's weights per epoch. The epoch's
   * checkpoint is not written then, so a resumed run starts from the epoch before.
   */
  afterEpoch?: (stats: EpochStats, context: AfterEpochContext) => Promise<'continue' | 'revert-and-stop'>;
  /**
   * 'f16': mixed precision. The layers that support it (Dense, Conv2d) multiply f16 copies of their
   * inputs and weights (f32 sums), and their backward GEMMs f16 copies of the gradients; every
   * other layer, the loss, the master weights and the optimizer state stay f32. The loss is
   * scaled dynamically (`lossScale`), and each epoch's stats report S and the skipped steps.
   * Validation runs in f32. Needs the device's 'shader-f16' (ctx.hasF16); default 'f32'.
   */
  precision?: Precision;
  /** precision 'f16': the loss scaler's start and growth (defaults 2^15 and 2000 steps; see LossScaler). */
  lossScale?: LossScaleOptions;
}

export interface FitResult {
  history: EpochStats[];
  /** Epoch (1-based) whose weights the model holds at the end. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** The epoch whose weights afterEpoch reverted (training stopped after it). */
  revertedEpoch?: number;
  seconds: number;
}

/** What an `afterEpoch` hook sees besides the epoch's stats. */
export interface AfterEpochContext {
  /** Every epoch so far, this one last (resumed runs included: the history comes from the checkpoint). */
  history: readonly EpochStats[];
  /**
   * Set when this epoch was resumed from a mid-epoch checkpoint: the step it resumed after.
   * A revert then restores the weights of that point, not those of the epoch's start (a
   * mid-epoch checkpoint does not keep them).
   */
  resumedAfterStep?: number;
}

/**
 * Trains `model` on `data` to minimise `objective`, one compiled plan for the whole step
 * (forward, loss, backward, optimizer), one submit per batch. Loss and accuracy are summed
 * on the GPU and read once per epoch. Deterministic for a seed; resumable per epoch.
 */
export async function fit(model: Sequential, data: Dataset, objective: Objective, options: FitOptions): Promise<FitResult> {
  const { epochs, batchSize, optimizer } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${epochs}`);
  const classes = classesOf(model.outputShape, 'fit');
  checkClassifierData(data, model.inputShape, classes, 'fit');
  if (options.validation) checkClassifierData(options.validation, model.inputShape, classes, 'fit (validation)');
  const steps = batchCount(data, { batchSize, dropLast: true });
  if (steps === 0) throw new Error(`fit: ${data.count} training images make no full batch of ${batchSize}`);
  const every = options.checkpointEvery;
  if (every !== undefined && !(Number.isInteger(every) && every >= 1)) throw new Error(`fit: checkpointEvery must be a positive integer of steps, got ${every}`);
  if (every !== undefined && !options.checkpoint) throw new Error('fit: checkpointEvery needs a checkpoint store (e.g. checkpoint: fileCheckpoint(dir))');
  const ctx = model.ctx;
  const started = performance.now();
  const precision = options.precision ?? 'f32';
  if (precision !== 'f32' && precision !== 'f16') throw new Error(`fit: precision must be 'f32' or 'f16', got ${String(precision)}`);
  if (options.lossScale && precision !== 'f16') throw new Error("fit: lossScale is for precision 'f16' (f32 training needs no loss scaling)");
  if (precision === 'f16') ctx.requireF16("fit with precision 'f16'");

  const graph = new Graph(ctx);
  const x = graph.input('x', [batchSize, ...model.inputShape]);
  const y = graph.input('y', [batchSize], 'u32');
  const { loss, logits, parts = {} } = objective.build(x, y, { precision });
  if (precision === 'f16' && !graph.nodes.some((node) => node.outputs.some((t) => t.dtype === 'f16'))) {
    graph.dispose();
    throw new Error(
      "fit: precision 'f16' was asked for, but this objective built no f16 operation (only Dense and Conv2d layers run in f16, through " +
        'Objective.build passing options.precision to model.call); use precision \'f32\' for this model or objective',
    );
  }
  const scaler = precision === 'f16' ? new LossScaler(ctx, options.lossScale) : undefined;
  optimizer.minimize(loss, objective.parameters, { lossScaler: scaler });
  // Running sums on the GPU: [loss, correct, ...parts], reset each epoch.
  const partNames = Object.keys(parts);
  const sums = [loss, sum(argmaxCorrect(logits, y)[1]), ...partNames.map((n) => parts[n]!)].map((value) => {
    const total = Tensor.from(ctx, new Float32Array(1), [1]);
    accumulate(graph.bind(total), value);
    return total;
  });
  const guarded = options.nanGuard ?? true;
  const plan = compile(graph, { fetch: guarded ? [loss, ...Object.values(parts)] : [loss] });
  const evaluator = options.validation ? new Evaluator(model, { batchSize: options.evaluationBatchSize }) : undefined;

  const tensors = trainingTensors(model, objective, optimizer);
  if (scaler) tensors.set('lossScale.state', scaler.state);
  let history: EpochStats[] = [];
  let bestEpoch = 0;
  let firstEpoch = 1;
  let partial: TrainingState['partialEpoch'];
  let startStep = 0;
  const resumed = await options.checkpoint?.load(tensors);
  if (resumed) {
    history = resumed.history;
    bestEpoch = resumed.bestEpoch;
    firstEpoch = resumed.epoch + 1;
    startStep = resumed.stepInEpoch ?? 0;
    partial = resumed.partialEpoch;
    checkPartialEpoch(startStep, steps, partial, sums.length, options.checkpoint!.path ?? 'the checkpoint');
    optimizer.restoreStep(resumed.optimizerStep);
    model.dropoutRng.restore(resumed.dropoutStep, resumed.dropoutSeed);
    objective.restoreState?.(resumed.objectiveState, { stepsDone: resumed.epoch * steps + startStep, source: options.checkpoint!.path ?? 'the checkpoint' });
  }
  const saveCheckpoint = async (epochsDone: number, stepInEpoch: number, partialEpoch?: TrainingState['partialEpoch']) =>
    options.checkpoint?.save({
      epoch: epochsDone,
      ...(stepInEpoch > 0 ? { stepInEpoch, partialEpoch } : {}),
      optimizerStep: optimizer.step,
      dropoutSeed: model.dropoutRng.seed,
      dropoutStep: model.dropoutRng.step,
      history,
      bestEpoch,
      ...(objective.saveState ? { objectiveState: objective.saveState() } : {}),
      tensors,
    });
  const snapshot = guarded ? new StepSnapshot(ctx, tensors.values()) : undefined;
  let best = bestEpoch > 0 ? snapshotScore(history[bestEpoch - 1]!) : -Infinity;
  let bestWeights: Map<string, Float32Array> | undefined;
  let skippedBefore = scaler ? (await scaler.read()).skippedSteps : 0;
  let stoppedEarly = false;
  let revertedEpoch: number | undefined;

  try {
    for (let epoch = firstEpoch; epoch <= epochs; epoch++) {
      const t0 = performance.now();
      const before = options.afterEpoch ? await readAll(model.state()) : undefined;
      sums.forEach((total, i) => total.write(new Float32Array([partial?.sums[i] ?? 0])));
      const order = { batchSize, shuffle: true, seed: options.seed ?? 0, epoch: epoch - 1, dropLast: true, augment: options.augment };
      const curve: NonNullable<EpochStats['curve']> = partial?.curve ?? [];
      let logged = partial?.logged ?? { step: 0, loss: 0, correct: 0 };
      const first = startStep;
      const resumedAfterStep = first > 0 ? first : undefined;
      partial = undefined;
      startStep = 0;
      for (const batch of batchesFrom(data, order, first)) {
        const step = batch.index + 1;
        const before = { optimizerStep: optimizer.step, dropoutStep: model.dropoutRng.step };
        snapshot?.save();
        plan.run({ x: batch.images, y: batch.labels, ...objective.feeds?.(batch) });
        if (snapshot) {
          const value = (await plan.read(loss))[0]!;
          if (!Number.isFinite(value)) {
            snapshot.restore();
            optimizer.restoreStep(before.optimizerStep);
            model.dropoutRng.restore(before.dropoutStep, model.dropoutRng.seed);
            await ctx.sync();
            const diagnosis = objective.diagnose ? `; ${await diagnoseBatch(objective, model, batch, batchSize)}` : '';
            throw new Error(
              `fit: the training loss became ${value} at step ${step} of epoch ${epoch} (${await nonFiniteParts(plan, parts)}${diagnosis}); ` +
                `the weights are as they were before that step. Lower the learning rate or check the inputs of that batch`,
            );
          }
        } else {
          await ctx.throttle();
        }
        if (options.logEvery && (step % options.logEvery === 0 || step === steps)) {
          const [loss, correct] = await Promise.all(sums.slice(0, 2).map(async (t) => (await t.read())[0]!));
          const n = step - logged.step;
          curve.push({ step: (epoch - 1) * steps + step, loss: (loss! - logged.loss) / n, accuracy: (correct! - logged.correct) / (n * batchSize) });
          logged = { step, loss: loss!, correct: correct! };
        }
        if (every && step % every === 0 && step < steps) {
          const running = await Promise.all(sums.map(async (t) => (await t.read())[0]!));
          await saveCheckpoint(epoch - 1, step, { sums: running, curve, logged });
        }
        options.onStep?.({ epoch, epochs, step, steps });
      }
      const values = await Promise.all(sums.map(async (t) => (await t.read())[0]!));
      if (!Number.isFinite(values[0]!)) {
        throw new Error(`fit: the training loss became ${values[0]} in epoch ${epoch}; lower the learning rate or check the inputs`);
      }
      const stats: EpochStats = {
        epoch,
        loss: values[0]! / steps,
        accuracy: values[1]! / (steps * batchSize),
        parts: Object.fromEntries(partNames.map((n, i) => [n, values[i + 2]! / steps])),
        seconds: 0,
      };
      if (options.logEvery) stats.curve = curve;
      if (scaler) {
        const reading: LossScaleReading = await scaler.read();
        stats.lossScale = { scale: reading.scale, skippedSteps: reading.skippedSteps - skippedBefore };
        skippedBefore = reading.skippedSteps;
      }
      if (evaluator) {
        const v = await evaluator.run(options.validation!);
        stats.validation = { accuracy: v.accuracy, loss: v.loss };
      }
      stats.seconds = (performance.now() - t0) / 1000;
      history.push(stats);
      options.onEpoch?.(stats);
      if (before && (await options.afterEpoch!(stats, { history, ...(resumedAfterStep !== undefined ? { resumedAfterStep } : {}) })) === 'revert-and-stop') {
        for (const [name, t] of model.state()) t.write(before.get(name)!);
        revertedEpoch = epoch;
        stoppedEarly = true;
        bestEpoch = epoch - 1;
        bestWeights = undefined;
        break;
      }

      const score = snapshotScore(stats);
      if (score > best + (options.earlyStopping?.minDelta ?? 0)) {
        best = score;
        bestEpoch = epoch;
        if (options.earlyStopping) bestWeights = await readAll(model.state());
      }
      await saveCheckpoint(epoch, 0);
      if (options.earlyStopping && epoch - bestEpoch >= options.earlyStopping.patience) {
        stoppedEarly = epoch < epochs;
        break;
      }
    }
    if (bestWeights) for (const [name, t] of model.state()) t.write(bestWeights.get(name)!);
    else if (revertedEpoch === undefined) bestEpoch = history.length;
  } finally {
    plan.dispose();
    graph.dispose();
    snapshot?.dispose();
    evaluator?.dispose();
    scaler?.dispose();
    for (const t of sums) t.dispose();
  }
  return { history, bestEpoch, stoppedEarly, ...(revertedEpoch !== undefined ? { revertedEpoch } : {}), seconds: (performance.now() - started) / 1000 };
}

/** Names the loss parts whose value in the latest run is not finite, for the NaN guard's message. */
async function nonFiniteParts(plan: Plan, parts: Record<string, SymbolicTensor>): Promise<string> {
  const bad: string[] = [];
  for (const [name, part] of Object.entries(parts)) {
    const value = (await plan.read(part))[0]!;
    if (!Number.isFinite(value)) bad.push(`${name} = ${value}`);
  }
  if (bad.length > 0) return `non-finite parts: ${bad.join(', ')}`;
  return Object.keys(parts).length > 0 ? 'every named part is finite; their sum is not' : 'it has no named parts';
}

/**
 * Runs the objective's diagnostic tensors on one batch and says which are non-finite (any
 * element NaN or ±Infinity) and which are finite.
 */
async function diagnoseBatch(objective: Objective, model: Sequential, batch: Batch, batchSize: number): Promise<string> {
  const graph = new Graph(model.ctx);
  const x = graph.input('x', [batchSize, ...model.inputShape]);
  const y = graph.input('y', [batchSize], 'u32');
  const checks = Object.entries(objective.diagnose!(x, y));
  const plan = compile(graph, { fetch: checks.map(([, t]) => t) });
  try {
    plan.run({ x: batch.images, y: batch.labels, ...objective.feeds?.(batch) });
    const bad: string[] = [];
    const good: string[] = [];
    for (const [name, tensor] of checks) {
      const values = await plan.read(tensor);
      (values.every(Number.isFinite) ? good : bad).push(name);
    }
    return `on that batch with the weights from before the step, non-finite: ${bad.join(', ') || 'none'}; finite: ${good.join(', ') || 'none'}`;
  } finally {
    plan.dispose();
    graph.dispose();
  }
}

/** Checks a mid-epoch checkpoint's step and running sums before training continues from them. */
function checkPartialEpoch(startStep: number, steps: number, partial: TrainingState['partialEpoch'], sumCount: number, source: string): void {
  if (!(Number.isInteger(startStep) && startStep >= 0 && startStep < steps)) {
    throw new Error(`${source}: stepInEpoch ${startStep} is not a step of an epoch of ${steps} steps; was it written with another batch size or dataset?`);
  }
  if (startStep > 0 && !(partial && partial.sums.length === sumCount && partial.sums.every(Number.isFinite))) {
    throw new Error(`${source}: a mid-epoch checkpoint needs ${sumCount} finite running sums, got ${JSON.stringify(partial?.sums)}`);
  }
}

function snapshotScore(stats: EpochStats): number {
  return stats.validation ? stats.validation.accuracy : -stats.loss;
}

/** Model state, other trained tensors, and optimizer state, under stable names. */
function trainingTensors(model: Sequential, objective: Objective, optimizer: Optimizer): Map<string, Tensor> {
  const tensors = new Map(model.state());
  const names = new Map<Tensor, string>();
  for (const [name, t] of tensors) names.set(t, name);
  objective.parameters.forEach((p, i) => {
    if (!names.has(p)) {
      const name = `objective.${i}`;
      names.set(p, name);
      tensors.set(name, p);
    }
  });
  for (const p of objective.parameters) {
    optimizer.stateOf(p).forEach((t, i) => tensors.set(`optimizer.${names.get(p)}.${i}`, t));
  }
  return tensors;
}

async function readAll(tensors: Map<string, Tensor>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of tensors) out.set(name, (await t.read()) as Float32Array);
  return out;
}
