import type { Random } from '../../nn/random.js';
import { gaussianBlur } from './filters.js';
import { checkImage, clipToImage, randomInteger, SIDE, toFloat64 } from './image.js';
import { atSeverity, type Severity } from './severity.js';

/**
 * Glass blur: Gaussian blur (σ), then for each of `iterations` passes every pixel (h, w) with
 * δ < h, w ≤ 28 − δ, visited from the bottom-right, swaps with probability ½ with the pixel
 * at offset (dy, dx), both uniform integers in −δ..δ−1; then blur again. (σ, δ,
 * iterations) = (0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2) for severities
 * 1..5; MNIST-C uses severity 1, the default. As in MNIST-C, the first blur is truncated to
 * 8-bit levels before the shuffle.
 *
 * @example const blurred = glassBlur(image, new Random(1));
 */
export function glassBlur(image: Float32Array, random: Random, severity: Severity = 1): Float32Array {
  checkImage(image, 'glassBlur');
  const [sigma, delta, iterations] = atSeverity(
    [
      [0.7, 1, 2],
      [0.9, 2, 1],
      [1, 2, 3],
      [1.1, 3, 2],
      [1.5, 4, 2],
    ],
    severity,
    'glassBlur',
  );
  const pixels = gaussianBlur(toFloat64(image), sigma, 'nearest');
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(Math.min(1, Math.max(0, pixels[i]!)) * 255) / 255;
  for (let pass = 0; pass < iterations; pass++) {
    for (let h = SIDE - delta; h > delta; h--) {
      for (let w = SIDE - delta; w > delta; w--) {
        if (random.uniform() >= 0.5) continue;
        const dx = randomInteger(random, -delta, delta);
        const dy = randomInteger(random, -delta, delta);
        const here = h * SIDE + w;
        const there = (h + dy) * SIDE + (w + dx);
        const swap = pixels[here]!;
        pixels[here] = pixels[there]!;
        pixels[there] = swap;
      }
    }
  }
  return clipToImage(gaussianBlur(pixels, sigma, 'nearest'));
}

/**
 * Motion blur as ImageMagick's `MotionBlurImage(radius, σ, angle)` computes it: each output
 * pixel is a one-sided weighted sum of the 2·radius + 1 pixels at offsets
 * (round(i·cos θ), round(i·sin θ)), i = 0..2·radius, with weights ∝ exp(−i²/2σ²), edge
 * pixels repeated outside. The angle θ is uniform in ±45°. (radius, σ) = (10, 3), (15, 5),
 * (15, 8), (15, 12), (20, 15) for severities 1..5; MNIST-C uses severity 1, the default.
 * MNIST-C round-trips through 8-bit PNG; this works in float.
 *
 * @example const blurred = motionBlur(image, new Random(1));
 */
export function motionBlur(image: Float32Array, random: Random, severity: Severity = 1): Float32Array {
  checkImage(image, 'motionBlur');
  const [radius, sigma] = atSeverity(
    [
      [10, 3],
      [15, 5],
      [15, 8],
      [15, 12],
      [20, 15],
    ],
    severity,
    'motionBlur',
  );
  const angle = ((-45 + 90 * random.uniform()) * Math.PI) / 180;
  const width = 2 * radius + 1;
  const weights = new Float64Array(width);
  const dx = new Int32Array(width);
  const dy = new Int32Array(width);
  let total = 0;
  for (let i = 0; i < width; i++) {
    total += weights[i] = Math.exp((-i * i) / (2 * sigma * sigma));
    dx[i] = Math.ceil(i * Math.cos(angle) - 0.5);
    dy[i] = Math.ceil(i * Math.sin(angle) - 0.5);
  }
  const clamp = (v: number) => (v < 0 ? 0 : v >= SIDE ? SIDE - 1 : v);
  const out = new Float64Array(image.length);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      let acc = 0;
      for (let i = 0; i < width; i++) acc += weights[i]! * image[clamp(y + dy[i]!) * SIDE + clamp(x + dx[i]!)]!;
      out[y * SIDE + x] = acc / total;
    }
  }
  return clipToImage(out);
}
