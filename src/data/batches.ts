import { Random } from '../nn/random.js';
import { jitter } from './augment.js';
import type { Dataset } from './dataset.js';
import { checkDataset, imageSize } from './dataset.js';
import { deriveSeed } from './seed.js';

export interface BatchOptions {
  batchSize: number;
  /** Visit images in a seeded random order that changes every epoch (default false: in order). */
  shuffle?: boolean;
  /** Required when shuffling or augmenting; with `epoch` it fixes the order and the shifts. */
  seed?: number;
  /** Epoch number, from 0 (default 0). */
  epoch?: number;
  /** Skip the last partial batch (default false: return it with `count < batchSize`). */
  dropLast?: boolean;
  /** Jitter every image by up to ±maxShift pixels (see `jitter`). */
  augment?: { maxShift: number };
}

/**
 * One batch. `images` is [batchSize, C, H, W] and `labels` [batchSize]; only the first
 * `count` images are real. In a last partial batch the rest are zeros (images and labels),
 * so mask by `count` rather than trust them. `index` is the batch's position in the epoch.
 * One object and its arrays serve every batch of an iteration.
 */
export interface Batch {
  images: Float32Array;
  labels: Uint32Array;
  count: number;
  index: number;
  /** The dataset row of each image of the batch (0 past `count`), e.g. to look up per-image data. */
  rows: Uint32Array;
}

/** Streams that share a seed, kept apart by a purpose tag in `deriveSeed`. */
const ORDER_STREAM = 1;
const AUGMENT_STREAM = 2;

/**
 * Batches in one epoch: ⌈count / batchSize⌉, or ⌊count / batchSize⌋ with `dropLast`.
 *
 * @example const steps = batchCount(train, { batchSize: 128, dropLast: true });
 */
export function batchCount(ds: Dataset, { batchSize, dropLast = false }: Pick<BatchOptions, 'batchSize' | 'dropLast'>): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize ${batchSize} must be a positive integer`);
  return dropLast ? Math.floor(ds.count / batchSize) : Math.ceil(ds.count / batchSize);
}

/**
 * Iterates over one epoch of `ds` in batches. The order (and the jitter) depends only on
 * (seed, epoch), so it is the same on every run and machine and differs between epochs;
 * every image appears exactly once per epoch (once at most with `dropLast`).
 *
 * The two output arrays are reused: a batch is valid only until the iterator advances, so
 * copy it (or upload it to the GPU) before asking for the next one.
 *
 * @example
 * for (const batch of batches(train, { batchSize: 128, shuffle: true, seed: 1, epoch, dropLast: true })) {
 *   plan.run({ x: batch.images, y: batch.labels });
 * }
 */
export function batches(ds: Dataset, options: BatchOptions): Generator<Batch, void, undefined> {
  return batchesFrom(ds, options, 0);
}

/**
 * Like `batches`, but starts at batch `startBatch` of the epoch: a run resumed from
 * (seed, epoch, startBatch) sees exactly the batches, shifts included, that the
 * uninterrupted run saw from that point.
 *
 * @example for (const batch of batchesFrom(train, options, checkpoint.batch)) step(batch);
 */
export function batchesFrom(ds: Dataset, options: BatchOptions, startBatch: number): Generator<Batch, void, undefined> {
  // Checked here rather than in the generator, which would only throw on the first next().
  checkDataset(ds, 'batches');
  const { batchSize, shuffle = false, seed, epoch = 0, dropLast = false, augment } = options;
  const total = batchCount(ds, { batchSize, dropLast });
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`batches: epoch ${epoch} must be a non-negative integer`);
  if ((shuffle || augment) && (seed === undefined || !Number.isSafeInteger(seed) || seed < 0)) {
    throw new Error(`batches: ${shuffle ? 'shuffle' : 'augment'} needs a seed (a non-negative integer) so the run is reproducible; got ${seed}`);
  }
  if (augment && (!Number.isInteger(augment.maxShift) || augment.maxShift < 0)) {
    throw new Error(`batches: augment.maxShift ${augment.maxShift} must be a non-negative integer`);
  }
  if (dropLast && total === 0) {
    throw new Error(`batches: batchSize ${batchSize} is larger than the dataset (${ds.count} images) and dropLast is set, so there would be no batches`);
  }
  if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > total) {
    throw new Error(`batches: start batch ${startBatch} must be an integer from 0 to ${total} (batches per epoch)`);
  }
  const order = Uint32Array.from({ length: ds.count }, (_, i) => i);
  if (shuffle) new Random(deriveSeed(seed!, epoch, ORDER_STREAM)).shuffle(order);
  return fillBatches(ds, order, batchSize, startBatch, total, augment && { maxShift: augment.maxShift, seed: seed!, epoch });
}

function* fillBatches(
  ds: Dataset,
  order: Uint32Array,
  batchSize: number,
  startBatch: number,
  total: number,
  augment: { maxShift: number; seed: number; epoch: number } | undefined,
): Generator<Batch, void, undefined> {
  const size = imageSize(ds.shape);
  // A black pixel after normalization, so shifted-in borders look like background.
  const fill = ds.normalization ? -ds.normalization.mean / ds.normalization.std : 0;
  const batch: Batch = { images: new Float32Array(batchSize * size), labels: new Uint32Array(batchSize), count: 0, index: 0, rows: new Uint32Array(batchSize) };
  for (let index = startBatch; index < total; index++) {
    const first = index * batchSize;
    const count = Math.min(batchSize, ds.count - first);
    for (let i = 0; i < count; i++) {
      const source = order[first + i]!;
      batch.images.set(ds.images.subarray(source * size, (source + 1) * size), i * size);
      batch.labels[i] = ds.labels[source]!;
      batch.rows[i] = source;
    }
    batch.images.fill(0, count * size);
    batch.labels.fill(0, count);
    batch.rows.fill(0, count);
    if (augment) {
      const random = new Random(deriveSeed(augment.seed, augment.epoch, index, AUGMENT_STREAM));
      jitter(batch.images.subarray(0, count * size), ds.shape, { maxShift: augment.maxShift, random, fill });
    }
    batch.count = count;
    batch.index = index;
    yield batch;
  }
}
