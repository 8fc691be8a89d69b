import { describeArray } from '../graph/tensor.js';
/**
 * Labelled images in one flat array, NCHW row-major: image i occupies
 * `images[i·C·H·W .. (i+1)·C·H·W)`. `normalization` records what `normalize` applied, so
 * augmentation can fill borders with the normalized value of a black pixel.
 */
export interface Dataset {
  images: Float32Array;
  labels: Uint32Array;
  count: number;
  shape: [channels: number, height: number, width: number];
  normalization?: Normalization;
}

/** Per-pixel affine normalization: x ↦ (x − mean) / std. */
export interface Normalization {
  mean: number;
  std: number;
}

/** Mean and standard deviation of the MNIST training pixels in [0, 1] (the usual constants). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;
export const MNIST_NORMALIZATION: Normalization = { mean: MNIST_MEAN, std: MNIST_STD };

/** Number of floats in one image of this shape (C·H·W). */
export function imageSize(shape: Dataset['shape']): number {
  return shape[0] * shape[1] * shape[2];
}

/**
 * Throws unless the arrays agree with `count` and `shape`. `who` names the caller in the
 * message.
 */
export function checkDataset(ds: Dataset, who: string): void {
  const [c, h, w] = ds.shape;
  if (![c, h, w].every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`${who}: dataset shape [${ds.shape.join(', ')}] must be three positive integers [channels, height, width]`);
  }
  if (!Number.isInteger(ds.count) || ds.count < 0) throw new Error(`${who}: dataset count ${ds.count} must be a non-negative integer`);
  const expected = ds.count * imageSize(ds.shape);
  if (ds.images.length !== expected) {
    throw new Error(`${who}: dataset images hold ${ds.images.length} floats but count ${ds.count} × shape [${ds.shape.join(', ')}] needs ${expected}`);
  }
  if (ds.labels.length !== ds.count) throw new Error(`${who}: dataset has ${ds.labels.length} labels for ${ds.count} images`);
}

/**
 * Checks, before any GPU work, that `ds` fits a classifier taking images of `inputShape` and
 * giving `classes` logits: Float32Array images of that shape and Uint32Array labels below
 * `classes`. Messages name the first offending image ("label 12 at image 3 is not below 10
 * classes"), since a bad label otherwise turns into NaN losses or silently wrong accuracy.
 * @example checkClassifierData(mnist.train, model.inputShape, 10, 'fit');
 */
export function checkClassifierData(ds: Dataset, inputShape: readonly number[], classes: number, who: string): void {
  if (!(ds.images instanceof Float32Array)) throw new Error(`${who}: dataset images must be a Float32Array, got ${describeArray(ds.images)}`);
  if (!(ds.labels instanceof Uint32Array)) {
    throw new Error(`${who}: dataset labels must be a Uint32Array of class indices, got ${describeArray(ds.labels)}; convert with Uint32Array.from(labels)`);
  }
  checkDataset(ds, who);
  if (ds.shape.join() !== inputShape.join()) {
    throw new Error(`${who}: the dataset's images are [${ds.shape.join(', ')}] but the model takes [${inputShape.join(', ')}]; resize the images or build the model for [${ds.shape.join(', ')}]`);
  }
  for (let i = 0; i < ds.count; i++) {
    if (ds.labels[i]! >= classes) throw new Error(`${who}: label ${ds.labels[i]} at image ${i} is not below ${classes} classes (the model's outputs)`);
  }
}

/** The number of classes of a classifier whose per-sample output is [classes]. */
export function classesOf(outputShape: readonly number[], who: string): number {
  if (outputShape.length !== 1) throw new Error(`${who}: the model must output [classes] logits per image, it outputs [${outputShape.join(', ')}]`);
  return outputShape[0]!;
}

/**
 * Images `start .. start+count` as a dataset whose arrays are views into `ds` (no copy, so
 * writing to one writes to the other).
 *
 * @example const first100 = subset(mnist.train, 0, 100);
 */
export function subset(ds: Dataset, start: number, count: number): Dataset {
  checkDataset(ds, 'subset');
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > ds.count) {
    throw new Error(`subset: start ${start} and count ${count} must be non-negative integers with start + count ≤ ${ds.count} (the dataset size)`);
  }
  const size = imageSize(ds.shape);
  return {
    images: ds.images.subarray(start * size, (start + count) * size),
    labels: ds.labels.subarray(start, start + count),
    count,
    shape: [...ds.shape],
    ...(ds.normalization ? { normalization: { ...ds.normalization } } : {}),
  };
}

/**
 * Holds out the last `validationCount` images: `train` is everything before them. Both are
 * views into `ds` (see `subset`).
 *
 * @example const { train, validation } = split(mnist.train, 5000); // 55,000 + 5,000
 */
export function split(ds: Dataset, validationCount: number): { train: Dataset; validation: Dataset } {
  checkDataset(ds, 'split');
  if (!Number.isInteger(validationCount) || validationCount < 0 || validationCount > ds.count) {
    throw new Error(`split: validation count ${validationCount} must be an integer from 0 to ${ds.count} (the dataset size)`);
  }
  const trainCount = ds.count - validationCount;
  return { train: subset(ds, 0, trainCount), validation: subset(ds, trainCount, validationCount) };
}

/**
 * A new dataset with every pixel mapped to (x − mean) / std; `ds` is left untouched.
 * Normalizing twice composes the two maps, and `normalization` records the total.
 *
 * @example const train = normalize(mnist.train, MNIST_NORMALIZATION);
 */
export function normalize(ds: Dataset, { mean, std }: Normalization): Dataset {
  checkDataset(ds, 'normalize');
  if (!Number.isFinite(mean)) throw new Error(`normalize: mean ${mean} must be a finite number`);
  if (!(std > 0) || !Number.isFinite(std)) throw new Error(`normalize: std ${std} must be a finite number > 0`);
  const images = new Float32Array(ds.images.length);
  const inverse = 1 / std;
  for (let i = 0; i < images.length; i++) images[i] = (ds.images[i]! - mean) * inverse;
  const before = ds.normalization ?? { mean: 0, std: 1 };
  return {
    images,
    labels: ds.labels.slice(),
    count: ds.count,
    shape: [...ds.shape],
    normalization: { mean: before.mean + before.std * mean, std: before.std * std },
  };
}
