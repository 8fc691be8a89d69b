// Shader-level test of shaders/soft_target_mixture.wgsl: softmax(out/T) must equal the
// weighted mean of the teachers' softmax(t/T), checked in float64. Tolerance on the
// probabilities: atol 1e-6 + rtol 1e-5.
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { mixSoftTargets } from '../../src/distill/soft-targets.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(23);

function softmaxRows(x: ArrayLike<number>, rows: number, classes: number, T: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: classes }, (_, c) => x[r * classes + c]! / T);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

describe('soft_target_mixture.wgsl mix_soft_targets', () => {
  for (const [teachers, weights, T] of [[2, [0.5, 0.5], 4], [3, [1, 2, 1], 20], [2, [1, 0], 1]] as const) {
    it(`${teachers} teachers, weights [${weights}], T=${T}`, async () => {
      const ctx = gpu();
      const [rows, classes] = [9, 10];
      const data = Array.from({ length: teachers }, () => randomArray(random, rows * classes, -8, 8));
      const mixed = mixSoftTargets(data.map((d) => Tensor.from(ctx, d, [rows, classes])), weights, T);
      const total = weights.reduce((a, b) => a + b, 0);
      const expected = new Array(rows * classes).fill(0);
      data.forEach((d, k) => softmaxRows(d, rows, classes, T).forEach((p, i) => (expected[i] += (weights[k]! / total) * p)));
      expectClose(softmaxRows(await mixed.read(), rows, classes, T), expected, { atol: 1e-6, rtol: 1e-5 }, 'mixture');
    });
  }

  it('rejects mismatched weights', () => {
    const t = Tensor.from(gpu(), randomArray(random, 10), [1, 10]);
    expect(() => mixSoftTargets([t, t], [1], 4)).toThrow('1 weights for 2 teachers');
    expect(() => mixSoftTargets([t, t], [0, 0], 4)).toThrow('not all zero');
  });
});
