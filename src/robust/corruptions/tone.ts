import type { Random } from '../../nn/random.js';
import { checkImage, clipToImage, SIDE } from './image.js';
import { atSeverity, type Severity } from './severity.js';

/**
 * Brightness: raises the HSV value channel by b ∈ {0.1, 0.2, 0.3, 0.4, 0.5} (severities
 * 1..5; MNIST-C uses 5, the default). For a grey image hue and saturation are 0 and value is
 * the pixel itself, so MNIST-C's gray → HSV → gray round trip is exactly min(x + b, 1).
 * Deterministic: `random` is unused.
 *
 * @example const brighter = brightness(image);
 */
export function brightness(image: Float32Array, _random?: Random, severity: Severity = 5): Float32Array {
  checkImage(image, 'brightness');
  const lift = atSeverity([0.1, 0.2, 0.3, 0.4, 0.5], severity, 'brightness');
  const out = new Float64Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = image[i]! + lift;
  return clipToImage(out);
}

/**
 * Stripe: inverts (x ↦ 1 − x) the 7 leftmost and 7 rightmost columns, as MNIST-C does.
 * Deterministic: `random` is unused.
 *
 * @example const striped = stripe(image);
 */
export function stripe(image: Float32Array): Float32Array {
  checkImage(image, 'stripe');
  const out = Float32Array.from(image);
  for (let row = 0; row < SIDE; row++) {
    for (let col = 0; col < SIDE; col++) {
      if (col < 7 || col >= SIDE - 7) out[row * SIDE + col] = 1 - image[row * SIDE + col]!;
    }
  }
  return clipToImage(out);
}
