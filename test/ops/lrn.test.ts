// Shader-level tests of shaders/lrn.wgsl (entries lrn_forward, lrn_backward: ONNX LRN across
// channels) against float64 references, and the gradient rule by finite differences.
// Tolerances: forward atol 1e-6, rtol 1e-5 (a sum of ≤ size squares and one pow); backward
// atol 1e-5, rtol 1e-4 (≤ size + 1 terms, each with a pow in f32).
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { lrn, lrnBackward, lrnWithScale } from '../../src/ops/lrn.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();

interface Case {
  shape: number[];
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

/** The ONNX definition, and its derivative written as d/dx_j of Σ_c dy_c·y_c. */
function reference(x: Float32Array, dy: Float32Array, c: Case) {
  const [n, channels] = c.shape as [number, number];
  const plane = c.shape.slice(2).reduce((a, b) => a * b, 1);
  const at = (b: number, ch: number, q: number) => (b * channels + ch) * plane + q;
  const scale = new Float64Array(x.length);
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  const before = Math.floor((c.size - 1) / 2);
  const after = Math.ceil((c.size - 1) / 2);
  for (let b = 0; b < n; b++) {
    for (let q = 0; q < plane; q++) {
      for (let ch = 0; ch < channels; ch++) {
        let sum = 0;
        for (let i = Math.max(0, ch - before); i <= Math.min(channels - 1, ch + after); i++) sum += x[at(b, i, q)]! ** 2;
        scale[at(b, ch, q)] = c.bias + (c.alpha / c.size) * sum;
        y[at(b, ch, q)] = x[at(b, ch, q)]! * scale[at(b, ch, q)]! ** -c.beta;
      }
      for (let ch = 0; ch < channels; ch++) {
        const e = at(b, ch, q);
        dx[e] = dx[e]! + dy[e]! * scale[e]! ** -c.beta;
        // y_ch depends on x_i for every i in its window.
        for (let i = Math.max(0, ch - before); i <= Math.min(channels - 1, ch + after); i++) {
          const k = at(b, i, q);
          dx[k] = dx[k]! + dy[e]! * x[e]! * -c.beta * scale[e]! ** (-c.beta - 1) * (c.alpha / c.size) * 2 * x[k]!;
        }
      }
    }
  }
  return { scale, y, dx };
}

const cases: Case[] = [
  { shape: [2, 7, 3, 4], size: 5, alpha: 1e-4, beta: 0.75, bias: 1 }, // ONNX's defaults
  { shape: [1, 9, 2, 2], size: 5, alpha: 0.5, beta: 0.75, bias: 2 },
  { shape: [3, 4, 5], size: 4, alpha: 0.8, beta: 0.6, bias: 1.5 }, // even size: one more channel after; rank 3
  { shape: [2, 3, 2, 3], size: 7, alpha: 1.2, beta: 1.3, bias: 0.7 }, // window wider than the channels
  { shape: [1, 5, 1, 1], size: 1, alpha: 2, beta: 0.5, bias: 1 },
];

describe('lrn.wgsl lrn_forward / lrn_backward', () => {
  cases.forEach((c, index) => {
    it(`x [${c.shape}] size ${c.size} alpha ${c.alpha} beta ${c.beta} bias ${c.bias}`, async () => {
      const ctx = gpu();
      const random = new Random(60 + index);
      const count = c.shape.reduce((a, b) => a * b);
      const xData = randomArray(random, count, -2, 2);
      const dyData = randomArray(random, count);
      const ref = reference(xData, dyData, c);
      const x = Tensor.from(ctx, xData, c.shape);
      const [y, scale] = lrnWithScale(x, c);
      expectClose(await scale.read(), ref.scale, { atol: 1e-6, rtol: 1e-5 }, 'scale');
      expectClose(await y.read(), ref.y, { atol: 1e-6, rtol: 1e-5 }, 'y');
      const dx = lrnBackward(x, scale, Tensor.from(ctx, dyData, c.shape), c);
      expectClose(await dx.read(), ref.dx, { atol: 1e-5, rtol: 1e-4 }, 'dx');
    });
  });

  for (const c of [cases[1]!, cases[2]!]) {
    it(`gradient by finite differences: x [${c.shape}] size ${c.size}`, async () => {
      await checkGradients(gpu(), ([x]) => lrn(x!, c), [{ name: 'x', shape: c.shape, data: randomArray(new Random(3), c.shape.reduce((a, b) => a * b), -1.5, 1.5) }], {
        samples: 16,
      });
    });
  }

  it('rejects inputs without channels and bad parameters', () => {
    const flat = Tensor.from(gpu(), randomArray(new Random(1), 6), [2, 3]);
    expect(() => lrn(flat, { size: 3 })).toThrow(/lrn: x must have rank 3 or more \(\[N, C, \.\.\.\]\), got shape \[2, 3\]/);
    const x = Tensor.from(gpu(), randomArray(new Random(1), 24), [2, 3, 4]);
    expect(() => lrn(x, { size: 0 })).toThrow(/lrn: size must be a positive integer, got 0/);
    expect(() => lrn(x, { size: 3, bias: 0 })).toThrow(/lrn: bias must be positive/);
  });
});
