import type { Random } from '../../nn/random.js';
import { warpAffine } from './filters.js';
import { CENTRE, checkImage, clipToImage, randomSign } from './image.js';
import { atSeverity, type Severity } from './severity.js';

/**
 * Resamples through the inverse map input = M·(output − centre) + centre + shift, so the
 * image centre (13.5, 13.5) stays fixed under M (MNIST-C's skimage `AffineTransform` plus
 * the translation it computes for this).
 */
function warpAboutCentre(image: Float32Array, m: readonly [number, number, number, number], shift: readonly [number, number] = [0, 0]): Float32Array {
  const [a, b, c, d] = m;
  const tx = CENTRE * (1 - a - b) + shift[0];
  const ty = CENTRE * (1 - c - d) + shift[1];
  return clipToImage(warpAffine(image, m, tx, ty));
}

/**
 * Shear by a random sign times s ∈ {0.2, 0.4, 0.6, 0.8, 1.0} radians (severities 1..5;
 * MNIST-C uses 2, the default), about the image centre. As skimage's `AffineTransform`
 * defined shear when MNIST-C was made, the inverse map is [[1, −sin s], [0, cos s]] on
 * (column, row).
 *
 * @example const sheared = shear(image, new Random(1));
 */
export function shear(image: Float32Array, random: Random, severity: Severity = 2): Float32Array {
  checkImage(image, 'shear');
  const s = randomSign(random) * atSeverity([0.2, 0.4, 0.6, 0.8, 1.0], severity, 'shear');
  return warpAboutCentre(image, [1, -Math.sin(s), 0, Math.cos(s)]);
}

/**
 * Shrinks the digit about the image centre by a factor f ∈ {0.9, 0.8, 0.7, 0.6, 0.5}
 * (severities 1..5; MNIST-C uses 3, f = 0.7, the default). Deterministic: `random` is unused.
 *
 * @example const smaller = scale(image, new Random(1));
 */
export function scale(image: Float32Array, _random?: Random, severity: Severity = 3): Float32Array {
  checkImage(image, 'scale');
  const inverse = 1 / atSeverity([0.9, 0.8, 0.7, 0.6, 0.5], severity, 'scale');
  return warpAboutCentre(image, [inverse, 0, 0, inverse]);
}

/**
 * Rotation about the image centre by a random sign times r ∈ {0.2, 0.4, 0.6, 0.8, 1.0}
 * radians (severities 1..5; MNIST-C uses 2, ±0.4 rad ≈ ±23°, the default).
 *
 * @example const turned = rotate(image, new Random(1));
 */
export function rotate(image: Float32Array, random: Random, severity: Severity = 2): Float32Array {
  checkImage(image, 'rotate');
  const r = randomSign(random) * atSeverity([0.2, 0.4, 0.6, 0.8, 1.0], severity, 'rotate');
  return warpAboutCentre(image, [Math.cos(r), -Math.sin(r), Math.sin(r), Math.cos(r)]);
}

/**
 * Shifts the image by t pixels along each axis, each direction a random sign, with
 * t ∈ {1, 2, 3, 4, 5} (severities 1..5; MNIST-C uses 3, the default). Pixels moved out are
 * lost; uncovered ones are 0.
 *
 * @example const moved = translate(image, new Random(1));
 */
export function translate(image: Float32Array, random: Random, severity: Severity = 3): Float32Array {
  checkImage(image, 'translate');
  const t = atSeverity([1, 2, 3, 4, 5], severity, 'translate');
  const dx = t * randomSign(random);
  const dy = t * randomSign(random);
  return warpAboutCentre(image, [1, 0, 0, 1], [dx, dy]);
}
