import type { Random } from '../../nn/random.js';
import { checkImage, clipToImage } from './image.js';
import { atSeverity, type Severity } from './severity.js';

/**
 * Additive Gaussian noise x + σ·N(0, 1), clipped to [0, 1], with σ ∈ {0.08, 0.12, 0.18,
 * 0.26, 0.38} for severities 1..5 (MNIST-C's `gaussian_noise`, not one of its 15 test
 * corruptions). Default severity 5, as in MNIST-C.
 *
 * @example const noisy = gaussianNoise(image, new Random(1), 3);
 */
export function gaussianNoise(image: Float32Array, random: Random, severity: Severity = 5): Float32Array {
  checkImage(image, 'gaussianNoise');
  const sigma = atSeverity([0.08, 0.12, 0.18, 0.26, 0.38], severity, 'gaussianNoise');
  const out = new Float64Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = image[i]! + sigma * random.normal();
  return clipToImage(out);
}

/**
 * Shot (Poisson) noise: each pixel becomes Poisson(x·λ)/λ, clipped, with photon scale
 * λ ∈ {60, 25, 12, 5, 3} for severities 1..5. MNIST-C uses severity 5 (λ = 3), the default.
 *
 * @example const noisy = shotNoise(image, new Random(1));
 */
export function shotNoise(image: Float32Array, random: Random, severity: Severity = 5): Float32Array {
  checkImage(image, 'shotNoise');
  const scale = atSeverity([60, 25, 12, 5, 3], severity, 'shotNoise');
  const out = new Float64Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = poisson(random, image[i]! * scale) / scale;
  return clipToImage(out);
}

/**
 * Poisson sample by inverting the CDF with one uniform: O(mean) steps, exact for the small
 * means used here (≤ 60, where e^−mean does not underflow).
 */
function poisson(random: Random, mean: number): number {
  if (mean <= 0) return 0;
  const u = random.uniform();
  let term = Math.exp(-mean);
  let cumulative = term;
  let k = 0;
  // `term > 0` stops the walk if rounding leaves the CDF just below u.
  while (u >= cumulative && term > 0) {
    k++;
    term *= mean / k;
    cumulative += term;
  }
  return k;
}

/**
 * Impulse (salt-and-pepper) noise: each pixel, with probability p, is set to exactly 0 or 1
 * (even odds), with p ∈ {0.03, 0.06, 0.09, 0.17, 0.27} for severities 1..5. MNIST-C uses
 * severity 4 (p = 0.17), the default. Simplified from skimage's `random_noise(mode='s&p')`,
 * which replaces exactly ⌈p·784⌉ draws of positions, to an independent draw per pixel.
 *
 * @example const noisy = impulseNoise(image, new Random(1));
 */
export function impulseNoise(image: Float32Array, random: Random, severity: Severity = 4): Float32Array {
  checkImage(image, 'impulseNoise');
  const amount = atSeverity([0.03, 0.06, 0.09, 0.17, 0.27], severity, 'impulseNoise');
  const out = Float32Array.from(image);
  for (let i = 0; i < out.length; i++) {
    if (random.uniform() < amount) out[i] = random.uniform() < 0.5 ? 0 : 1;
  }
  return clipToImage(out);
}
