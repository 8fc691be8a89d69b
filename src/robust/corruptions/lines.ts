import type { Random } from '../../nn/random.js';
import { checkImage, clipToImage, randomInteger, SIDE } from './image.js';

/** Vertical distance from a line at which MNIST-C's stroke profile log(1 − d/2.3) + 1 ends. */
const STROKE_REACH = 2.3;

/**
 * Adds MNIST-C's `line_from_points` stroke from (c0, r0) to (c1, r1) (column, row) to
 * `canvas`: each pixel in columns ⌊c0⌋ ≤ col < ⌈c1⌉ gets log(1 − d/2.3) + 1 clipped to
 * [0, 1], d = its vertical distance from the line, so the stroke is about 3 pixels tall
 * with soft edges. `keepColumn` can drop columns (for dotted lines).
 */
function addStroke(canvas: Float64Array, c0: number, r0: number, c1: number, r1: number, keepColumn: (col: number) => boolean = () => true): void {
  if (c1 === c0) return;
  const slope = (r1 - r0) / (c1 - c0);
  for (let col = Math.max(0, Math.floor(c0)); col < Math.min(SIDE, Math.ceil(c1)); col++) {
    if (!keepColumn(col)) continue;
    const centre = slope * (col - c0) + r0;
    for (let row = 0; row < SIDE; row++) {
      const distance = Math.min(Math.abs(row - centre), STROKE_REACH - 1e-10);
      const value = Math.log(1 - distance / STROKE_REACH) + 1;
      if (value > 0) canvas[row * SIDE + col]! += Math.min(1, value);
    }
  }
}

/**
 * Dotted line, as MNIST-C: a stroke from (column 0, row r0) to (column 27, row r1) with r0,
 * r1 uniform integers in 0..26, drawn only in columns 2–3, 6–7, 10–11, ... (dashes two
 * pixels wide), added to the image and clipped.
 *
 * @example const crossed = dottedLine(image, new Random(1));
 */
export function dottedLine(image: Float32Array, random: Random): Float32Array {
  checkImage(image, 'dottedLine');
  const r0 = randomInteger(random, 0, 27);
  const r1 = randomInteger(random, 0, 27);
  const out = Float64Array.from(image);
  addStroke(out, 0, r0, SIDE - 1, r1, (col) => Math.floor(col / 2) % 2 === 1);
  return clipToImage(out);
}

/**
 * Zigzag, as MNIST-C: a zigzag of amplitude 2 and half-period 2 pixels along a line from
 * column 2 to column 25, starting at row r0 (uniform in 0..26) and tilted towards row
 * r0 + k (k uniform in −5..4), drawn as MNIST-C strokes between its corners, added to the
 * image and clipped. The last corner follows MNIST-C's formula (row r/(2·(d − c_max))), so
 * the shapes match the published dataset's.
 *
 * @example const scribbled = zigzag(image, new Random(1));
 */
export function zigzag(image: Float32Array, random: Random): Float32Array {
  checkImage(image, 'zigzag');
  const length = 2;
  const amplitude = 2;
  const [c0, c1] = [2, 25];
  const r0 = randomInteger(random, 0, 27);
  const r1 = r0 + randomInteger(random, -5, 5);
  const theta = Math.atan((r1 - r0) / (c1 - c0));
  const d = (c1 - c0) / Math.cos(theta);
  // Corners along the unrotated line (distance along it, offset across it).
  const corners: [number, number][] = [[0, 0]];
  let offset = 0;
  for (let i = 0; i <= Math.floor((d - length) / (2 * length)); i++) {
    offset = (i % 2 === 0 ? 1 : -1) * amplitude;
    corners.push([(2 * i + 1) * length, offset]);
  }
  const lastFullPeriod = 2 * length * Math.floor(d / (2 * length));
  if (d !== lastFullPeriod) corners.push([d, offset / (2 * (d - lastFullPeriod))]);
  const [cos, sin] = [Math.cos(theta), Math.sin(theta)];
  const points = corners.map(([along, across]) => [c0 + cos * along - sin * across, r0 + sin * along + cos * across] as const);
  const out = Float64Array.from(image);
  for (let i = 1; i < points.length; i++) addStroke(out, points[i - 1]![0], points[i - 1]![1], points[i]![0], points[i]![1]);
  return clipToImage(out);
}
