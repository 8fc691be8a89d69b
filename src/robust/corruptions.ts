import { checkDataset, type Dataset } from '../data/dataset.js';
import { deriveSeed } from '../data/seed.js';
import { Random } from '../nn/random.js';
import { rotate, scale, shear, translate } from './corruptions/affine.js';
import { glassBlur, motionBlur } from './corruptions/blur.js';
import { cannyEdges } from './corruptions/canny.js';
import { dottedLine, zigzag } from './corruptions/lines.js';
import { gaussianNoise, impulseNoise, shotNoise } from './corruptions/noise.js';
import type { Severity } from './corruptions/severity.js';
import { brightness, stripe } from './corruptions/tone.js';
import { fog, spatter } from './corruptions/weather.js';

export type { Severity };

/**
 * One corruption of one 28×28 image in [0, 1] (784 floats): returns a new image, clipped to
 * [0, 1], drawing any randomness from `random`. `severity` (1..5) applies to the corruptions
 * listed in `DEFAULT_SEVERITY` and defaults to MNIST-C's level.
 */
export type Corruption = (image: Float32Array, random: Random, severity?: Severity) => Float32Array;

/**
 * The names, in a fixed order: MNIST-C's 15 test corruptions (Mu & Gilmer 2019) in the
 * paper's order, then Gaussian noise. A name's position is part of each image's seed, so
 * this order must never change; add new names at the end.
 */
export const CORRUPTION_NAMES = [
  'shot_noise',
  'impulse_noise',
  'glass_blur',
  'motion_blur',
  'shear',
  'scale',
  'rotate',
  'brightness',
  'translate',
  'stripe',
  'fog',
  'spatter',
  'dotted_line',
  'zigzag',
  'canny_edges',
  'gaussian_noise',
] as const;

export type CorruptionName = (typeof CORRUPTION_NAMES)[number];

/** The 15 corruptions of the MNIST-C benchmark (all names but `gaussian_noise`). */
export const MNIST_C_CORRUPTIONS: readonly CorruptionName[] = CORRUPTION_NAMES.filter((name) => name !== 'gaussian_noise');

/** Every corruption by its MNIST-C name (snake_case, as the published dataset's folders). */
export const CORRUPTIONS: Record<CorruptionName, Corruption> = {
  shot_noise: shotNoise,
  impulse_noise: impulseNoise,
  glass_blur: glassBlur,
  motion_blur: motionBlur,
  shear,
  scale,
  rotate,
  brightness,
  translate,
  stripe,
  fog,
  spatter,
  dotted_line: dottedLine,
  zigzag,
  canny_edges: cannyEdges,
  gaussian_noise: gaussianNoise,
};

/**
 * The severity each graded corruption uses when none is given: the level MNIST-C fixed for
 * its benchmark (5 for Gaussian noise, as in MNIST-C's code). Corruptions not listed
 * (stripe, dotted line, zigzag, canny edges) have a single form.
 */
export const DEFAULT_SEVERITY: Partial<Record<CorruptionName, Severity>> = {
  shot_noise: 5,
  impulse_noise: 4,
  glass_blur: 1,
  motion_blur: 1,
  shear: 2,
  scale: 3,
  rotate: 2,
  brightness: 5,
  translate: 3,
  fog: 5,
  spatter: 4,
  gaussian_noise: 5,
};

export interface CorruptOptions {
  /** Base seed (a non-negative safe integer). */
  seed: number;
  /** 1..5, only for the corruptions in `DEFAULT_SEVERITY`; defaults to the level there. */
  severity?: Severity;
  /**
   * Index of the dataset's first image in the full set it was cut from (default 0), so that
   * corrupting a `subset` gives exactly the images that corrupting the whole set gives.
   */
  startIndex?: number;
}

/**
 * A new dataset with every image corrupted by `name`. Image i draws its randomness from
 * `new Random(deriveSeed(seed, CORRUPTION_NAMES.indexOf(name), startIndex + i))`, so each
 * result depends only on (seed, name, severity, the image and its index): corrupting a
 * subset (with its `startIndex`) gives the same images as corrupting all and then taking the
 * subset. Images must be 1×28×28 in [0, 1], not normalized: corrupt first, normalize after.
 *
 * @example const foggy = corruptDataset(mnist.test, 'fog', { seed: 1 });
 * @example const noisy = corruptDataset(mnist.test, 'gaussian_noise', { seed: 1, severity: 3 });
 * @example const part = corruptDataset(subset(mnist.test, 500, 100), 'fog', { seed: 1, startIndex: 500 });
 */
export function corruptDataset(ds: Dataset, name: CorruptionName, { seed, severity, startIndex = 0 }: CorruptOptions): Dataset {
  checkDataset(ds, 'corruptDataset');
  const nameIndex = CORRUPTION_NAMES.indexOf(name);
  if (nameIndex < 0) throw new Error(`corruptDataset: unknown corruption '${name}'; expected one of ${CORRUPTION_NAMES.join(', ')}`);
  const [channels, height, width] = ds.shape;
  if (channels !== 1 || height !== 28 || width !== 28) {
    throw new Error(`corruptDataset: images have shape [${ds.shape.join(', ')}] but MNIST-C corruptions need [1, 28, 28]`);
  }
  if (ds.normalization) {
    throw new Error(`corruptDataset: the dataset is normalized (mean ${ds.normalization.mean}, std ${ds.normalization.std}); corrupt the raw [0, 1] images, then normalize`);
  }
  if (severity !== undefined && DEFAULT_SEVERITY[name] === undefined) {
    throw new Error(`corruptDataset: '${name}' has no severity levels (got severity ${severity}); omit severity`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`corruptDataset: seed ${seed} must be a non-negative safe integer`);
  if (!Number.isSafeInteger(startIndex) || startIndex < 0) throw new Error(`corruptDataset: startIndex ${startIndex} must be a non-negative safe integer`);
  const corruption = CORRUPTIONS[name];
  const size = height * width;
  const images = new Float32Array(ds.images.length);
  for (let i = 0; i < ds.count; i++) {
    const random = new Random(deriveSeed(seed, nameIndex, startIndex + i));
    images.set(corruption(ds.images.subarray(i * size, (i + 1) * size), random, severity), i * size);
  }
  return { images, labels: ds.labels.slice(), count: ds.count, shape: [1, 28, 28] };
}
