import { batches } from '../data/batches.js';
import { checkClassifierData, type Dataset } from '../data/dataset.js';
import { Graph } from '../graph/graph.js';
import { compile, type Plan } from '../graph/plan.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { softmaxCrossEntropyPerRow } from '../losses/softmax-cross-entropy.js';
import { argmaxCorrect } from '../ops/accuracy.js';
import type { Sequential } from '../nn/sequential.js';

export interface Evaluation {
  count: number;
  accuracy: number;
  /** Misclassified images (count − correct). */
  errors: number;
  /** Mean cross-entropy of softmax(logits) at T = 1. */
  loss: number;
  predictions: Uint32Array;
  /** [count, classes] logits, when asked for (calibration, reports). */
  logits?: Float32Array;
}

/**
 * Evaluates a model in evaluation mode over a dataset, batch by batch through one compiled
 * plan (reused across calls). The last partial batch is padded and only its real rows count.
 *
 * @example
 * const evaluator = new Evaluator(model, { batchSize: 500 });
 * const { accuracy, errors } = await evaluator.run(mnist.test);
 */
export class Evaluator {
  private readonly graph: Graph;
  private readonly plan: Plan;
  private readonly logits: SymbolicTensor;
  private readonly predicted: SymbolicTensor;
  private readonly lossPerRow: SymbolicTensor;
  readonly batchSize: number;

  constructor(readonly model: Sequential, options: { batchSize?: number } = {}) {
    this.batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new Error(`Evaluator: batchSize ${this.batchSize} must be a positive integer`);
    this.graph = new Graph(model.ctx);
    const x = this.graph.input('x', [this.batchSize, ...model.inputShape]);
    const y = this.graph.input('y', [this.batchSize], 'u32');
    this.logits = model.call(x, { training: false });
    if (this.logits.shape.length !== 2) throw new Error(`Evaluator: model '${model.name}' must output [batch, classes], got [${this.logits.shape}]`);
    this.predicted = argmaxCorrect(this.logits, y)[0];
    this.lossPerRow = softmaxCrossEntropyPerRow(this.logits, y);
    this.plan = compile(this.graph, { fetch: [this.predicted, this.lossPerRow, this.logits] });
  }

  async run(data: Dataset, options: { logits?: boolean } = {}): Promise<Evaluation> {
    const classes = this.logits.shape[1]!;
    checkClassifierData(data, this.model.inputShape, classes, 'evaluate');
    const predictions = new Uint32Array(data.count);
    const logits = options.logits ? new Float32Array(data.count * classes) : undefined;
    let correct = 0;
    let lossSum = 0;
    let offset = 0;
    for (const batch of batches(data, { batchSize: this.batchSize })) {
      this.plan.run({ x: batch.images, y: batch.labels });
      const [predicted, lossRows] = await Promise.all([this.plan.read(this.predicted), this.plan.read(this.lossPerRow)]);
      for (let i = 0; i < batch.count; i++) {
        predictions[offset + i] = predicted[i]!;
        if (predicted[i] === data.labels[offset + i]) correct++;
        lossSum += lossRows[i]!;
      }
      if (logits) logits.set((await this.plan.read(this.logits)).subarray(0, batch.count * classes), offset * classes);
      offset += batch.count;
    }
    return { count: data.count, accuracy: correct / data.count, errors: data.count - correct, loss: lossSum / data.count, predictions, logits };
  }

  dispose(): void {
    this.plan.dispose();
    this.graph.dispose();
  }
}

/** One-off evaluation; see Evaluator to evaluate repeatedly. */
export async function evaluate(model: Sequential, data: Dataset, options: { batchSize?: number; logits?: boolean } = {}): Promise<Evaluation> {
  const evaluator = new Evaluator(model, options);
  try {
    return await evaluator.run(data, options);
  } finally {
    evaluator.dispose();
  }
}
