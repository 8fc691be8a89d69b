// klDivergence (src/losses/kl-divergence.ts): KL(softmax p ‖ softmax q) averaged over rows,
// against a float64 reference on random logits, zero for equal inputs, and its gradient in
// BOTH arguments by finite differences (TRADES backpropagates through both forward passes).
// Tolerances: value atol 1e-5 + rtol 1e-4 (f32 softmax and logs of 10–300 classes); finite
// differences atol 1e-2 + rtol 1e-2 (support/finite-difference.ts).
import { describe, expect, it } from 'vitest';
import { klDivergence, Random, Tensor } from '../../src/index.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(61);

function reference(p: Float32Array, q: Float32Array, rows: number, classes: number): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const row = (a: Float32Array) => Array.from(a.subarray(r * classes, (r + 1) * classes), Number);
    const logSoftmax = (z: number[]) => {
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0));
      return z.map((v) => v - lse);
    };
    const [lp, lq] = [logSoftmax(row(p)), logSoftmax(row(q))];
    total += lp.reduce((acc, v, c) => acc + Math.exp(v) * (v - lq[c]!), 0);
  }
  return total / rows;
}

describe('klDivergence', () => {
  for (const [rows, classes] of [[1, 10], [37, 10], [5, 300]] as const) {
    it(`[${rows}, ${classes}] matches float64`, async () => {
      const ctx = gpu();
      const p = randomArray(random, rows * classes, -6, 6);
      const q = randomArray(random, rows * classes, -6, 6);
      const value = await klDivergence(Tensor.from(ctx, p, [rows, classes]), Tensor.from(ctx, q, [rows, classes])).read();
      expectClose(value, Float64Array.of(reference(p, q, rows, classes)), { atol: 1e-5, rtol: 1e-4 }, 'kl');
    });
  }

  it('is 0 for equal logits and rejects different shapes', async () => {
    const ctx = gpu();
    const z = Tensor.from(ctx, randomArray(random, 40, -3, 3), [4, 10]);
    expect(Math.abs((await klDivergence(z, z).read())[0]!)).toBeLessThan(1e-6);
    expect(() => klDivergence(z, Tensor.from(ctx, new Float32Array(30), [3, 10]))).toThrow(/kl_divergence/);
  });

  it('gradient in both arguments by finite differences', async () => {
    const [rows, classes] = [3, 6];
    await checkGradients(gpu(), ([p, q]) => klDivergence(p!, q!), [
      { name: 'p', shape: [rows, classes], data: randomArray(random, rows * classes, -2, 2) },
      { name: 'q', shape: [rows, classes], data: randomArray(random, rows * classes, -2, 2) },
    ], { samples: rows * classes });
  });
});
