// Shader-level tests of shaders/max_pool.wgsl (entries max_pool_forward, max_pool_backward)
// against float64 references, and the max_pool2d gradient rule against finite differences.
// Tolerances: forward values and argmax are exact (a max selects an input, no arithmetic);
// backward sums at most ⌈size/stride⌉² f32 terms: atol 1e-6, rtol 1e-6.
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../src/index.js';
import { maxPool2d, maxPool2dBackward, maxPool2dWithArgmax } from '../src/ops/pooling.js';
import { checkGradients } from './support/finite-difference.js';
import { useGpu } from './support/gpu.js';
import { expectClose, randomArray } from './support/reference.js';

const gpu = useGpu();

type Case = { shape: [number, number, number, number]; size: number; stride: number };

const cases: Case[] = [
  { shape: [1, 1, 4, 4], size: 2, stride: 2 },
  { shape: [2, 3, 7, 9], size: 2, stride: 2 }, // odd sizes: the last row/column is dropped
  { shape: [2, 2, 9, 8], size: 3, stride: 1 }, // overlapping windows
  { shape: [3, 2, 11, 10], size: 3, stride: 2 }, // overlapping, uneven
  { shape: [1, 2, 9, 9], size: 2, stride: 3 }, // gaps between windows
  { shape: [4, 5, 28, 28], size: 2, stride: 2 },
];

/** Float64 reference: pooled maxima and the first flat index of each maximum. */
function maxPoolReference(x: Float32Array, [n, c, h, w]: number[], size: number, stride: number) {
  const outH = Math.floor((h! - size) / stride) + 1;
  const outW = Math.floor((w! - size) / stride) + 1;
  const values = new Float64Array(n! * c! * outH * outW);
  const argmax = new Uint32Array(values.length);
  let o = 0;
  for (let p = 0; p < n! * c!; p++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (let kh = 0; kh < size; kh++) {
          for (let kw = 0; kw < size; kw++) {
            const i = (p * h! + oh * stride + kh) * w! + ow * stride + kw;
            if (x[i]! > best) [best, bestIndex] = [x[i]!, i];
          }
        }
        values[o] = best;
        argmax[o] = bestIndex;
      }
    }
  }
  return { values, argmax, outH, outW };
}

/** Distinct values at least 0.03 apart, shuffled: no near-ties, so finite differences are valid. */
function wellSeparated(random: Random, n: number): Float32Array {
  const values = Float32Array.from({ length: n }, (_, i) => (i - n / 2 + 0.5) * 0.03);
  return random.shuffle(values);
}

describe('max_pool.wgsl max_pool_forward / max_pool_backward', () => {
  for (const { shape, size, stride } of cases) {
    it(`x [${shape}] size ${size} stride ${stride}`, async () => {
      const ctx = gpu();
      const random = new Random(shape.reduce((a, b) => a * 31 + b) + size * 7 + stride);
      const count = shape.reduce((a, b) => a * b);
      const xData = randomArray(random, count);
      const ref = maxPoolReference(xData, shape, size, stride);
      const x = Tensor.from(ctx, xData, shape);
      const [y, argmax] = maxPool2dWithArgmax(x, { size, stride });
      expect(y.shape).toEqual([shape[0], shape[1], ref.outH, ref.outW]);
      expectClose(await y.read(), ref.values, { atol: 0, rtol: 0 }, 'max');
      expect(Array.from(await argmax.read())).toEqual(Array.from(ref.argmax));

      const dyData = randomArray(random, ref.values.length);
      const dx = maxPool2dBackward(Tensor.from(ctx, dyData, y.shape), argmax, { size, stride, inputShape: shape });
      const dxRef = new Float64Array(count);
      ref.argmax.forEach((i, o) => (dxRef[i] = dxRef[i]! + dyData[o]!));
      expectClose(await dx.read(), dxRef, { atol: 1e-6, rtol: 1e-6 }, 'dx');
    });
  }

  it('defaults stride to size and rejects windows that do not fit', () => {
    const x = Tensor.from(gpu(), randomArray(new Random(1), 2 * 3 * 6 * 6), [2, 3, 6, 6]);
    expect(maxPool2d(x, { size: 3 }).shape).toEqual([2, 3, 2, 2]);
    expect(() => maxPool2d(x, { size: 7 })).toThrow(/max_pool2d: a 7×7 window does not fit in x \[2, 3, 6, 6\]/);
    expect(() => maxPool2d(x, { size: 2, stride: 0 })).toThrow(/stride must be a positive integer/);
  });
});

describe('max_pool2d gradient rule vs finite differences', () => {
  for (const { shape, size, stride } of [cases[1]!, cases[3]!]) {
    it(`x [${shape}] size ${size} stride ${stride}`, async () => {
      const random = new Random(7);
      const count = shape.reduce((a, b) => a * b);
      await checkGradients(gpu(), ([x]) => maxPool2d(x!, { size, stride }), [{ name: 'x', shape, data: wellSeparated(random, count) }], {
        samples: 12,
      });
    });
  }
});
