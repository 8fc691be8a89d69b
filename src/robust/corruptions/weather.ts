import type { Random } from '../../nn/random.js';
import { gaussianBlur } from './filters.js';
import { checkImage, clipToImage, PIXELS, SIDE } from './image.js';
import { plasmaCrop } from './plasma.js';
import { atSeverity, type Severity } from './severity.js';

/** Side of the fractal map the fog is cropped from: MNIST-C's 256, so the fog varies as slowly. */
const FOG_MAP_SIZE = 256;

/**
 * Fog: adds a·P to the image, where P is the top-left 28×28 crop of a 256×256 plasma
 * fractal (see `plasmaCrop`, roughness `decay`; simplified there to skip the parts of the
 * finest levels that lie outside the crop), then rescales by max/(max + a) (max = the
 * image's brightest pixel) so the digit keeps its peak while the contrast drops.
 * (a, decay) = (1.5, 2), (2, 2), (2.5, 1.7), (2.5, 1.5), (3, 1.4) for severities 1..5;
 * MNIST-C uses 5, the default.
 *
 * @example const foggy = fog(image, new Random(1));
 */
export function fog(image: Float32Array, random: Random, severity: Severity = 5): Float32Array {
  checkImage(image, 'fog');
  const [amount, decay] = atSeverity(
    [
      [1.5, 2],
      [2, 2],
      [2.5, 1.7],
      [2.5, 1.5],
      [3, 1.4],
    ],
    severity,
    'fog',
  );
  const plasma = plasmaCrop(random, FOG_MAP_SIZE, decay, SIDE);
  let max = 0;
  for (const v of image) max = Math.max(max, v);
  const out = new Float64Array(PIXELS);
  for (let row = 0; row < SIDE; row++) {
    for (let col = 0; col < SIDE; col++) {
      const i = row * SIDE + col;
      out[i] = ((image[i]! + amount * plasma[i]!) * max) / (max + amount);
    }
  }
  return clipToImage(out);
}

/**
 * Spatter (mud), as MNIST-C computes it: a layer of N(μ, s²) noise is blurred (σ₁); where
 * it exceeds the threshold t the mask is 1, and the mask blurred (σ₂) and cut below 0.8
 * gives m; the result is x·(1 − m) + (63/255)·m, i.e. grey blobs painted over the image.
 * (μ, s, σ₁, t, σ₂) = (0.65, 0.3, 4, 0.69, 0.6), (0.65, 0.3, 3, 0.68, 0.6), (0.65, 0.3, 2,
 * 0.68, 0.5), (0.65, 0.3, 1, 0.65, 1.5), (0.67, 0.4, 1, 0.65, 1.5) for severities 1..5;
 * MNIST-C uses 4, the default.
 *
 * @example const muddy = spatter(image, new Random(1));
 */
export function spatter(image: Float32Array, random: Random, severity: Severity = 4): Float32Array {
  checkImage(image, 'spatter');
  const [mean, spread, liquidSigma, threshold, maskSigma] = atSeverity(
    [
      [0.65, 0.3, 4, 0.69, 0.6],
      [0.65, 0.3, 3, 0.68, 0.6],
      [0.65, 0.3, 2, 0.68, 0.5],
      [0.65, 0.3, 1, 0.65, 1.5],
      [0.67, 0.4, 1, 0.65, 1.5],
    ],
    severity,
    'spatter',
  );
  const liquid = new Float64Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) liquid[i] = mean + spread * random.normal();
  const blurred = gaussianBlur(liquid, liquidSigma, 'nearest');
  const wet = new Float64Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) wet[i] = blurred[i]! > threshold ? 1 : 0;
  const mask = gaussianBlur(wet, maskSigma, 'nearest');
  const mud = 63 / 255;
  const out = new Float64Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    const m = mask[i]! < 0.8 ? 0 : mask[i]!;
    out[i] = image[i]! * (1 - m) + mud * m;
  }
  return clipToImage(out);
}
