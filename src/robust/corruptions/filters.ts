import { SIDE } from './image.js';

/** How a filter reads outside the image: repeat the nearest edge pixel, or read zeros. */
export type Border = 'nearest' | 'zero';

/**
 * Separable Gaussian blur of a 28×28 float64 image, with scipy's kernel (radius
 * ⌊4σ + 0.5⌋, weights normalised to sum 1), as `skimage.filters.gaussian` uses.
 */
export function gaussianBlur(image: Float64Array, sigma: number, border: Border): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const weights = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) total += weights[k + radius] = Math.exp((-k * k) / (2 * sigma * sigma));
  for (let k = 0; k < weights.length; k++) weights[k]! /= total;
  const rows = new Float64Array(image.length);
  const out = new Float64Array(image.length);
  convolveLine(image, rows, weights, 1, SIDE, border);
  convolveLine(rows, out, weights, SIDE, 1, border);
  return out;
}

/** 1-D convolution along one axis: `step` between taps, `lineStep` between lines. */
function convolveLine(input: Float64Array, output: Float64Array, weights: Float64Array, step: number, lineStep: number, border: Border): void {
  const radius = (weights.length - 1) / 2;
  for (let line = 0; line < SIDE; line++) {
    for (let i = 0; i < SIDE; i++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) {
        let j = i + k;
        if (j < 0 || j >= SIDE) {
          if (border === 'zero') continue;
          j = j < 0 ? 0 : SIDE - 1;
        }
        acc += weights[k + radius]! * input[line * lineStep + j * step]!;
      }
      output[line * lineStep + i * step] = acc;
    }
  }
}

/**
 * Resamples an image through an inverse map: output pixel (x = column, y = row) reads the
 * input at (a·x + b·y + tx, c·x + d·y + ty) by bilinear interpolation, with zeros outside
 * (skimage `warp(order=1, mode='constant')`).
 */
export function warpAffine(image: ArrayLike<number>, [a, b, c, d]: readonly [number, number, number, number], tx: number, ty: number): Float64Array {
  const out = new Float64Array(SIDE * SIDE);
  const at = (row: number, col: number) => (row >= 0 && row < SIDE && col >= 0 && col < SIDE ? image[row * SIDE + col]! : 0);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const sx = a * x + b * y + tx;
      const sy = c * x + d * y + ty;
      const col = Math.floor(sx);
      const row = Math.floor(sy);
      const fx = sx - col;
      const fy = sy - row;
      out[y * SIDE + x] =
        (1 - fy) * ((1 - fx) * at(row, col) + fx * at(row, col + 1)) + fy * ((1 - fx) * at(row + 1, col) + fx * at(row + 1, col + 1));
    }
  }
  return out;
}
