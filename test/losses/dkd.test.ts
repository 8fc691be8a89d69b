// Shader-level tests of shaders/dkd.wgsl (decoupled KD) against a float64 reference of the
// paper's definition, and its gradient by finite differences. Tolerance: atol 1e-5 +
// rtol 1e-4 (exp/log in f32, T² scaling).
import { describe, expect, it } from 'vitest';
import { apply } from '../../src/graph/apply.js';
import { Random, Tensor } from '../../src/index.js';
import { dkdLoss, dkdOp } from '../../src/losses/dkd.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(17);

function softmax(x: number[], T: number): number[] {
  const m = Math.max(...x.map((v) => v / T));
  const e = x.map((v) => Math.exp(v / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** DKD loss of one row straight from the paper's definitions, in float64. */
function dkdRow(s: number[], t: number[], g: number, T: number, alpha: number, beta: number): number {
  const p = softmax(s, T);
  const q = softmax(t, T);
  const kl = (a: number[], b: number[]) => a.reduce((acc, ai, i) => (ai > 0 ? acc + ai * Math.log(ai / b[i]!) : acc), 0);
  const tckd = kl([q[g]!, 1 - q[g]!], [p[g]!, 1 - p[g]!]);
  const rest = (x: number[]) => softmax(x.filter((_, i) => i !== g), T);
  const nckd = kl(rest(t), rest(s));
  return T * T * (alpha * tckd + beta * nckd);
}

describe('dkd.wgsl', () => {
  for (const [rows, classes, T] of [[5, 2, 1], [33, 10, 4], [3, 100, 8]] as const) {
    it(`loss and gradient: rows=${rows} classes=${classes} T=${T}`, async () => {
      const ctx = gpu();
      const s = randomArray(random, rows * classes, -4, 4);
      const t = randomArray(random, rows * classes, -4, 4);
      const y = Uint32Array.from({ length: rows }, () => Math.floor(random.uniform() * classes));
      const [alpha, beta] = [1, 8];
      const [loss, grad] = apply(dkdOp, [Tensor.from(ctx, s, [rows, classes]), Tensor.from(ctx, t, [rows, classes]), Tensor.from(ctx, y, [rows])], {
        temperature: T,
        alpha,
        beta,
      });
      const expectedLoss: number[] = [];
      const expectedGrad: number[] = [];
      for (let r = 0; r < rows; r++) {
        const sr = Array.from(s.subarray(r * classes, (r + 1) * classes));
        const tr = Array.from(t.subarray(r * classes, (r + 1) * classes));
        expectedLoss.push(dkdRow(sr, tr, y[r]!, T, alpha, beta));
        // Central differences of the float64 reference give the reference gradient.
        for (let c = 0; c < classes; c++) {
          const h = 1e-5;
          const plus = sr.slice();
          const minus = sr.slice();
          plus[c]! += h;
          minus[c]! -= h;
          expectedGrad.push((dkdRow(plus, tr, y[r]!, T, alpha, beta) - dkdRow(minus, tr, y[r]!, T, alpha, beta)) / (2 * h));
        }
      }
      expectClose(await loss!.read(), expectedLoss, { atol: 1e-5, rtol: 1e-4 }, 'loss');
      expectClose(await grad!.read(), expectedGrad, { atol: 1e-5, rtol: 1e-4 }, 'grad');
    });
  }

  it('identical student and teacher give zero loss and gradient; a bad label gives NaN', async () => {
    const ctx = gpu();
    const z = randomArray(random, 20, -3, 3);
    const [loss, grad] = apply(dkdOp, [Tensor.from(ctx, z, [2, 10]), Tensor.from(ctx, z, [2, 10]), Tensor.from(ctx, new Uint32Array([3, 12]), [2])], {
      temperature: 4,
      alpha: 1,
      beta: 8,
    });
    const l = await loss!.read();
    expect(Math.abs(l[0]!)).toBeLessThan(1e-6);
    expect(Number.isNaN(l[1]!)).toBe(true);
    expect(Math.max(...Array.from((await grad!.read()).subarray(0, 10), Math.abs))).toBeLessThan(1e-6);
  });

  it('gradient rule vs finite differences through the graph', async () => {
    const teacher = Tensor.from(gpu(), randomArray(random, 40, -3, 3), [4, 10]);
    await checkGradients(gpu(), ([s, y]) => dkdLoss(s!, teacher as never, y!, { temperature: 2, tckdWeight: 1, nckdWeight: 4 }), [
      { name: 's', shape: [4, 10], data: randomArray(random, 40, -3, 3) },
      { name: 'y', shape: [4], data: new Uint32Array([0, 9, 4, 4]), differentiable: false },
    ], { samples: 8, atol: 2e-3 });
  });

  it('rejects bad options and shapes', () => {
    const ctx = gpu();
    const a = Tensor.from(ctx, randomArray(random, 4), [4, 1]);
    const y = Tensor.from(ctx, new Uint32Array(4), [4]);
    expect(() => dkdLoss(a, a, y, { temperature: 4, tckdWeight: 1, nckdWeight: 8 })).toThrow('dkd: needs at least 2 classes, got logits [4, 1]');
    expect(() => dkdLoss(a, a, y, { temperature: 0, tckdWeight: 1, nckdWeight: 8 })).toThrow('temperature must be a finite number > 0, got 0');
  });
});
