import type { Batch } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import type { TensorData } from '../graph/tensor.js';
import type { Sequential } from '../nn/sequential.js';
import { evaluate } from '../train/evaluate.js';

/**
 * Frozen teachers' logits over a whole training set, computed once in evaluation mode and fed
 * to every training step as graph inputs, instead of running the teachers inside the step.
 * Used by `distill`, `ardDistill` and `rsladDistill` (`cacheTeacherLogits`): the teacher only
 * ever sees the clean training images there, so its outputs never change between epochs.
 */
export class TeacherLogitCache {
  private constructor(
    /** Per teacher: [count, classes] logits, row i for dataset row i. */
    private readonly logits: readonly Float32Array[],
    readonly classes: number,
    /** Per teacher: one batch of rows, reused by every feeds() call. */
    private readonly batchRows: readonly Float32Array[],
  ) {}

  /** Runs every teacher over `data` once; batches of up to `batchSize` rows are fed later. */
  static async compute(teachers: readonly Sequential[], data: Dataset, batchSize: number): Promise<TeacherLogitCache> {
    const logits: Float32Array[] = [];
    for (const teacher of teachers) logits.push((await evaluate(teacher, data, { logits: true })).logits!);
    const classes = logits[0]!.length / data.count;
    return new TeacherLogitCache(logits, classes, logits.map(() => new Float32Array(batchSize * classes)));
  }

  /**
   * Throws when the cache cannot stand in for the teacher: with augmentation the step shows a
   * differently shifted image every epoch; `otherReason` is the caller's own (e.g. feature terms).
   */
  static refuseUnless(who: string, options: { augment?: unknown }, otherReason?: string): void {
    const reason = options.augment ? 'augment (the teacher would see a differently shifted image every epoch)' : otherReason;
    if (reason) throw new Error(`${who}: cacheTeacherLogits cannot be used with ${reason}; drop cacheTeacherLogits to run the teacher inside every step`);
  }

  /** The graph input standing for teacher `index`'s logits on the step's batch `x`. */
  input(x: SymbolicTensor, index = 0): SymbolicTensor {
    return x.graph.input(inputName(index), [x.shape[0]!, this.classes]);
  }

  /** The stored logits of the batch's images, row by row, under the names input() uses; rows past `count` are 0. */
  feeds(batch: Batch): Record<string, TensorData> {
    const feeds: Record<string, TensorData> = {};
    const { classes } = this;
    this.logits.forEach((all, t) => {
      const rows = this.batchRows[t]!;
      for (let i = 0; i < batch.count; i++) rows.set(all.subarray(batch.rows[i]! * classes, (batch.rows[i]! + 1) * classes), i * classes);
      rows.fill(0, batch.count * classes);
      feeds[inputName(t)] = rows;
    });
    return feeds;
  }
}

/** The graph input that carries teacher `index`'s cached logits. */
function inputName(index: number): string {
  return `teacher${index}.logits`;
}
