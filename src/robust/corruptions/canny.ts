import type { Random } from '../../nn/random.js';
import { gaussianBlur } from './filters.js';
import { checkImage, PIXELS, SIDE, toFloat64 } from './image.js';

/** skimage `feature.canny` defaults for float images, which MNIST-C uses. */
const SIGMA = 1;
const LOW_THRESHOLD = 0.1;
const HIGH_THRESHOLD = 0.2;
/** The smoothing kernel's weight inside the image at each pixel (< 1 near the border). */
const COVERAGE = gaussianBlur(new Float64Array(PIXELS).fill(1), SIGMA, 'zero');

/**
 * Canny edges, as skimage's `feature.canny` with its defaults (MNIST-C's `canny_edges`):
 * Gaussian smoothing (σ = 1, zero outside, renormalised by the smoothed all-ones image so
 * borders are not darkened), Sobel gradients, non-maximum suppression along the gradient
 * (bilinear between the two nearest neighbours, on pixels at least one away from the
 * border), then hysteresis: edges of magnitude ≥ 0.1 that are 8-connected to one of
 * magnitude ≥ 0.2. The result is binary: 1 on edges, 0 elsewhere. Deterministic: `random`
 * is unused.
 *
 * @example const edges = cannyEdges(image);
 */
export function cannyEdges(image: Float32Array, _random?: Random): Float32Array {
  checkImage(image, 'cannyEdges');
  const smoothed = gaussianBlur(toFloat64(image), SIGMA, 'zero');
  for (let i = 0; i < PIXELS; i++) smoothed[i]! /= COVERAGE[i]!;
  const { rowGradient, colGradient, magnitude } = sobel(smoothed);
  const strong = new Uint8Array(PIXELS);
  const weak = new Uint8Array(PIXELS);
  for (let row = 1; row < SIDE - 1; row++) {
    for (let col = 1; col < SIDE - 1; col++) {
      const i = row * SIDE + col;
      const m = magnitude[i]!;
      if (m < LOW_THRESHOLD || !isRidge(magnitude, row, col, rowGradient[i]!, colGradient[i]!)) continue;
      weak[i] = 1;
      if (m >= HIGH_THRESHOLD) strong[i] = 1;
    }
  }
  return hysteresis(strong, weak);
}

/** Sobel gradients along rows and columns (scipy `ndimage.sobel`, mirrored borders) and their norm. */
function sobel(image: Float64Array): { rowGradient: Float64Array; colGradient: Float64Array; magnitude: Float64Array } {
  const mirror = (v: number) => (v < 0 ? -v - 1 : v >= SIDE ? 2 * SIDE - v - 1 : v);
  const at = (row: number, col: number) => image[mirror(row) * SIDE + mirror(col)]!;
  const rowGradient = new Float64Array(PIXELS);
  const colGradient = new Float64Array(PIXELS);
  const magnitude = new Float64Array(PIXELS);
  for (let row = 0; row < SIDE; row++) {
    for (let col = 0; col < SIDE; col++) {
      const gy = at(row + 1, col - 1) + 2 * at(row + 1, col) + at(row + 1, col + 1) - at(row - 1, col - 1) - 2 * at(row - 1, col) - at(row - 1, col + 1);
      const gx = at(row - 1, col + 1) + 2 * at(row, col + 1) + at(row + 1, col + 1) - at(row - 1, col - 1) - 2 * at(row, col - 1) - at(row + 1, col - 1);
      const i = row * SIDE + col;
      rowGradient[i] = gy;
      colGradient[i] = gx;
      magnitude[i] = Math.hypot(gx, gy);
    }
  }
  return { rowGradient, colGradient, magnitude };
}

/**
 * Whether the magnitude at (row, col) is at least that of both neighbours along the gradient
 * (gy, gx), each interpolated between the axis neighbour and the diagonal one.
 */
function isRidge(magnitude: Float64Array, row: number, col: number, gy: number, gx: number): boolean {
  const m = magnitude[row * SIDE + col]!;
  const sy = Math.sign(gy);
  const sx = Math.sign(gx);
  const at = (dy: number, dx: number) => magnitude[(row + dy) * SIDE + col + dx]!;
  let ahead: number;
  let behind: number;
  if (Math.abs(gy) >= Math.abs(gx)) {
    const w = Math.abs(gx) / Math.abs(gy);
    ahead = (1 - w) * at(sy, 0) + w * at(sy, sx);
    behind = (1 - w) * at(-sy, 0) + w * at(-sy, -sx);
  } else {
    const w = Math.abs(gy) / Math.abs(gx);
    ahead = (1 - w) * at(0, sx) + w * at(sy, sx);
    behind = (1 - w) * at(0, -sx) + w * at(-sy, -sx);
  }
  return m >= ahead && m >= behind;
}

/** 1 on every weak pixel 8-connected (through weak pixels) to a strong one, else 0. */
function hysteresis(strong: Uint8Array, weak: Uint8Array): Float32Array {
  const out = new Float32Array(PIXELS);
  const stack: number[] = [];
  for (let i = 0; i < PIXELS; i++) {
    if (strong[i]) {
      out[i] = 1;
      stack.push(i);
    }
  }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const row = Math.floor(i / SIDE);
    const col = i - row * SIDE;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const r = row + dy;
        const c = col + dx;
        if (r < 0 || r >= SIDE || c < 0 || c >= SIDE) continue;
        const j = r * SIDE + c;
        if (weak[j] && !out[j]) {
          out[j] = 1;
          stack.push(j);
        }
      }
    }
  }
  return out;
}
