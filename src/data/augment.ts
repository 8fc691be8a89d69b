import type { Random } from '../nn/random.js';
import type { Dataset } from './dataset.js';
import { imageSize } from './dataset.js';

export interface JitterOptions {
  /** Largest shift in pixels along each axis; shifts are uniform integers in −maxShift..maxShift. */
  maxShift?: number;
  /** Source of the shifts: the same seed gives the same shifts. */
  random: Random;
  /** Where to write; defaults to `images` (in place). Must not partly overlap `images`. */
  output?: Float32Array;
  /** Value for pixels uncovered at the borders: 0, or the normalized value of 0 for normalized data. */
  fill?: number;
}

/**
 * Shifts each image by a random integer (dx, dy), both uniform in −maxShift..maxShift and
 * drawn in that order per image (all channels move together), as in Hinton et al.'s MNIST
 * augmentation. Pixels moved past the border are lost; uncovered pixels become `fill`.
 * `images` holds whole images of `shape` [C, H, W], NCHW. Returns the output array.
 *
 * @example jitter(batch.images, [1, 28, 28], { maxShift: 2, random: new Random(7) });
 */
export function jitter(images: Float32Array, shape: Dataset['shape'], { maxShift = 2, random, output = images, fill = 0 }: JitterOptions): Float32Array {
  const size = imageSize(shape);
  if (!Number.isInteger(maxShift) || maxShift < 0) throw new Error(`jitter: maxShift ${maxShift} must be a non-negative integer`);
  if (images.length % size !== 0) throw new Error(`jitter: ${images.length} floats is not a whole number of images of shape [${shape.join(', ')}] (${size} each)`);
  if (output.length !== images.length) throw new Error(`jitter: output holds ${output.length} floats but the input holds ${images.length}`);
  const [channels, height, width] = shape;
  const span = 2 * maxShift + 1;
  for (let image = 0; image < images.length / size; image++) {
    const dx = Math.floor(random.uniform() * span) - maxShift;
    const dy = Math.floor(random.uniform() * span) - maxShift;
    for (let c = 0; c < channels; c++) {
      shiftPlane(images, output, (image * channels + c) * height * width, height, width, dx, dy, fill);
    }
  }
  return output;
}

/**
 * out(y, x) = in(y − dy, x − dx) on one H×W plane. The source of every pixel lies
 * `dy·W + dx` elements before it, so walking away from the sources (backwards when that
 * offset is positive) never reads a pixel already overwritten: in place works.
 */
function shiftPlane(input: Float32Array, output: Float32Array, base: number, height: number, width: number, dx: number, dy: number, fill: number): void {
  const backwards = dy * width + dx > 0;
  for (let step = 0; step < height * width; step++) {
    const index = backwards ? height * width - 1 - step : step;
    const y = Math.floor(index / width);
    const x = index - y * width;
    const sy = y - dy;
    const sx = x - dx;
    const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
    output[base + index] = inside ? input[base + sy * width + sx]! : fill;
  }
}
