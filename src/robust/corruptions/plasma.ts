import type { Random } from '../../nn/random.js';

/** Levels with a step at most this fine are generated only around the crop. */
const DETAIL_STEP = 4;

/**
 * The top-left crop×crop corner of a size×size periodic fractal heightmap, rescaled to
 * about [0, 1], by the diamond-square algorithm of MNIST-C's `plasma_fractal`: starting
 * from 0 at the origin, each level sets square centres and then edge midpoints (neighbours
 * wrap around) to the mean of their four neighbours plus uniform noise in ±w², with w = 100
 * at the top level divided by `decay` per level. `size` must be a power of two.
 *
 * Simplified for speed (a full 256×256 map per image costs 65,536 random draws): the two
 * finest levels (steps 4 and 2) are generated only in a margin around the crop, and the
 * rescaling uses the min and max of the map on its 4-pixel grid. Those levels add noise of
 * at most (w₄² + w₂²) ≈ 3% of the top level's for decay 1.4 (less for larger decays), so the
 * rescaling differs from MNIST-C's by about that much; values may exceed [0, 1] by as much.
 */
export function plasmaCrop(random: Random, size: number, decay: number, crop: number): Float64Array {
  if (!Number.isInteger(Math.log2(size)) || size < 2 * DETAIL_STEP) throw new Error(`plasmaCrop: size ${size} must be a power of two ≥ ${2 * DETAIL_STEP}`);
  if (!Number.isInteger(crop) || crop < 1 || crop + 2 * DETAIL_STEP > size) throw new Error(`plasmaCrop: crop ${crop} must be an integer from 1 to ${size - 2 * DETAIL_STEP}`);
  const map = new Float64Array(size * size);
  const mask = size - 1;
  let wibble = 100;
  for (let step = size; step >= 2; step >>= 1, wibble /= decay) {
    const half = step >> 1;
    const amplitude = wibble * wibble;
    // Coordinates first + k·step on this level: all of them, or for the detail levels only
    // those within DETAIL_STEP of the crop (wrapped), which is all the crop depends on.
    const window = step <= DETAIL_STEP ? crop : -1;
    const corners = coordinates(0, step, size, window);
    const centres = coordinates(half, step, size, window);
    const noisyMean = (sum: number) => sum / 4 + amplitude * (2 * random.uniform() - 1);
    // Squares: centre = mean of the four corners.
    for (const row of centres) {
      const above = ((row - half) & mask) * size;
      const below = ((row + half) & mask) * size;
      for (const col of centres) {
        const left = (col - half) & mask;
        const right = (col + half) & mask;
        map[row * size + col] = noisyMean(map[above + left]! + map[above + right]! + map[below + left]! + map[below + right]!);
      }
    }
    // Diamonds: midpoints of horizontal edges (rows of corners, columns of centres), then of
    // vertical edges, each from its four neighbours at distance `half`.
    for (const [rows, cols] of [
      [corners, centres],
      [centres, corners],
    ] as const) {
      for (const row of rows) {
        const here = row * size;
        const above = ((row - half) & mask) * size;
        const below = ((row + half) & mask) * size;
        for (const col of cols) {
          map[here + col] = noisyMean(map[above + col]! + map[below + col]! + map[here + ((col - half) & mask)]! + map[here + ((col + half) & mask)]!);
        }
      }
    }
  }
  let min = Infinity;
  let max = -Infinity;
  for (let row = 0; row < size; row += DETAIL_STEP) {
    for (let col = 0; col < size; col += DETAIL_STEP) {
      const v = map[row * size + col]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const range = max - min || 1;
  const out = new Float64Array(crop * crop);
  for (let row = 0; row < crop; row++) {
    for (let col = 0; col < crop; col++) out[row * crop + col] = (map[row * size + col]! - min) / range;
  }
  return out;
}

/**
 * first, first + step, ... below `size`; or, when `window` ≥ 0, only those congruent
 * values within −DETAIL_STEP .. window + DETAIL_STEP, wrapped into 0..size−1.
 */
function coordinates(first: number, step: number, size: number, window: number): Int32Array {
  if (window < 0) return Int32Array.from({ length: size / step }, (_, k) => first + k * step);
  const values: number[] = [];
  const start = first - Math.floor((first + DETAIL_STEP) / step) * step;
  for (let v = start; v <= window + DETAIL_STEP; v += step) values.push(v & (size - 1));
  return Int32Array.from(values);
}
