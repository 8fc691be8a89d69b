// Shader-level tests of shaders/attack_step.wgsl (entries linf_step, l2_step,
// linf_random_start, l2_random_start, keep_best_rows, keep_best_keys) against float64
// references, run through their ops in src/robust/attack-ops.ts.
// Tolerances: linf_step and linf_random_start atol 1e-6 (one f32 add, exact clamps, the
// same pcg4d hash re-implemented here); l2_step atol 2e-6 (f32 norms over ≤ 1000 pixels);
// l2_random_start atol 2e-5 (f32 log/cos in Box–Muller); keep_best exact (copies).
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { attackRandomStart, attackStep, keepBestAdversarial } from '../../src/robust/attack-ops.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(23);

/** pcg4d as in the shader, in u32 arithmetic. */
function pcg4d(input: [number, number, number, number]): number[] {
  const v = input.map((a) => (Math.imul(a, 1664525) + 1013904223) >>> 0);
  const mix = () => {
    v[0] = (v[0]! + Math.imul(v[1]!, v[3]!)) >>> 0;
    v[1] = (v[1]! + Math.imul(v[2]!, v[0]!)) >>> 0;
    v[2] = (v[2]! + Math.imul(v[0]!, v[1]!)) >>> 0;
    v[3] = (v[3]! + Math.imul(v[1]!, v[2]!)) >>> 0;
  };
  mix();
  for (let k = 0; k < 4; k++) v[k] = (v[k]! ^ (v[k]! >>> 16)) >>> 0;
  mix();
  return v;
}

const uniforms = (index: number, purpose: number, [seed, step]: number[]) => pcg4d([index, purpose, step!, seed!]).map((b) => (b >>> 8) / 16777216);
const clip = (v: number, lo = 0, hi = 1) => Math.min(hi, Math.max(lo, v));

/** Pixels in [0, 1], some at the edges so that clipping happens. */
function images(n: number): Float32Array {
  const out = randomArray(random, n, 0, 1);
  for (let i = 0; i < n; i += 7) out[i] = i % 2 ? 1 : 0.001;
  return out;
}

/** x′ inside (and sometimes a little outside) the ε-ball around x. */
function perturbed(x: Float32Array, eps: number): Float32Array {
  return x.map((v) => clip(v + eps * (2.4 * random.uniform() - 1.2)));
}

function tensors(shape: number[], ...arrays: Float32Array[]): Tensor[] {
  return arrays.map((a) => Tensor.from(gpu(), a, shape));
}

const nanArray = (n: number) => new Float32Array(n).fill(Number.NaN);

describe('attack_step.wgsl', () => {
  for (const shape of [[3, 1, 4, 5], [2, 300], [70_000, 1]]) {
    it(`linf_step on [${shape}]`, async () => {
      const n = shape.reduce((a, b) => a * b);
      const [eps, alpha] = [0.1, 0.04];
      const x = images(n);
      const xAdv = perturbed(x, eps);
      const g = randomArray(random, n);
      for (let i = 0; i < n; i += 11) g[i] = 0; // sign(0) = 0: no move
      const [tAdv, tx, tg] = tensors(shape, xAdv, x, g);
      attackStep(tAdv!, tx!, tg!, Tensor.from(gpu(), [eps, alpha], [2]), { norm: 'linf' });
      const expected = Float64Array.from(xAdv, (v, i) => clip(clip(v + alpha * Math.sign(g[i]!), x[i]! - eps, x[i]! + eps)));
      expectClose(await tAdv!.read(), expected, { atol: 1e-6, rtol: 0 }, 'x_adv');
    });
  }

  // ε = 0.3 < α projects every image back onto the ball; ε = 0.8 leaves most inside it.
  for (const [count, size, eps] of [[4, 784, 0.3], [3, 5, 0.8], [2, 1000, 0.3], [3, 600, 0.8]] as const) {
    it(`l2_step on ${count} images of ${size} pixels, ε = ${eps} (one with a zero gradient)`, async () => {
      const alpha = 0.5;
      const x = images(count * size);
      const xAdv = x.map((v) => clip(v + 0.05 * (random.uniform() - 0.5)));
      const g = randomArray(random, count * size);
      g.fill(0, 0, size); // image 0: ‖g‖ = 0, so only the projection and clipping apply
      const [tAdv, tx, tg] = tensors([count, size], xAdv, x, g);
      attackStep(tAdv!, tx!, tg!, Tensor.from(gpu(), [eps, alpha], [2]), { norm: 'l2' });
      const expected = new Float64Array(count * size);
      for (let k = 0; k < count; k++) {
        const rows = (a: Float32Array) => Array.from(a.subarray(k * size, (k + 1) * size));
        const [xr, ar, gr] = [rows(x), rows(xAdv), rows(g)];
        const gNorm = Math.hypot(...gr);
        const moved = ar.map((v, i) => v + (gNorm > 0 ? (alpha * gr[i]!) / gNorm : 0));
        const dNorm = Math.hypot(...moved.map((v, i) => v - xr[i]!));
        const shrink = dNorm > eps ? eps / dNorm : 1;
        moved.forEach((v, i) => (expected[k * size + i] = clip(xr[i]! + (v - xr[i]!) * shrink)));
      }
      const result = await tAdv!.read();
      expectClose(result, expected, { atol: 2e-6, rtol: 0 }, 'x_adv');
      for (let k = 0; k < count; k++) {
        let d2 = 0;
        for (let i = k * size; i < (k + 1) * size; i++) d2 += (result[i]! - x[i]!) ** 2;
        expect(Math.sqrt(d2)).toBeLessThanOrEqual(eps * (1 + 1e-5));
      }
    });
  }

  it('linf_random_start: the hash of (seed, step, element), inside the ball', async () => {
    const [count, size, eps] = [5, 300, 0.3];
    const x = images(count * size);
    const counter = [77, 3];
    const [tAdv, tx] = tensors([count, size], nanArray(count * size), x);
    attackRandomStart(tAdv!, tx!, Tensor.from(gpu(), [eps, 0.1], [2]), Tensor.from(gpu(), counter, [2], 'u32'), { norm: 'linf' });
    const expected = Float64Array.from(x, (v, i) => clip(v + eps * (2 * uniforms(i, 0, counter)[0]! - 1)));
    const result = await tAdv!.read();
    expectClose(result, expected, { atol: 1e-6, rtol: 0 }, 'x_adv');
    const spread = result.map((v, i) => v - x[i]!).filter((d, i) => x[i]! > eps && x[i]! < 1 - eps);
    expect(Math.max(...spread)).toBeGreaterThan(0.9 * eps); // the whole ball is used, not just a corner
    expect(Math.min(...spread)).toBeLessThan(-0.9 * eps);
  });

  it('l2_random_start: a Gaussian direction with a uniform radius in [0, ε] per image', async () => {
    const [count, size, eps] = [6, 700, 1.5];
    const x = randomArray(random, count * size, 0.3, 0.7); // far from the edges: no clipping
    const counter = [5, 9];
    const [tAdv, tx] = tensors([count, size], nanArray(count * size), x);
    attackRandomStart(tAdv!, tx!, Tensor.from(gpu(), [eps, 0.1], [2]), Tensor.from(gpu(), counter, [2], 'u32'), { norm: 'l2' });
    const expected = new Float64Array(count * size);
    for (let k = 0; k < count; k++) {
      const normals = Array.from({ length: size }, (_, i) => {
        const u = uniforms(k * size + i, 1, counter);
        return Math.sqrt(-2 * Math.log(1 - u[0]!)) * Math.cos(2 * Math.PI * u[1]!);
      });
      const radius = eps * uniforms(k, 2, counter)[0]!;
      const norm = Math.hypot(...normals);
      normals.forEach((n, i) => (expected[k * size + i] = clip(x[k * size + i]! + (n * radius) / norm)));
    }
    expectClose(await tAdv!.read(), expected, { atol: 2e-5, rtol: 0 }, 'x_adv');
  });

  it('keep_best_rows / keep_best_keys: misclassified beats correct, then the higher loss wins', async () => {
    const [count, size] = [8, 70];
    const best = randomArray(random, count * size, 0, 1);
    const candidate = randomArray(random, count * size, 0, 1);
    // (wrong, loss) kept so far vs the candidate's correctness and loss, one case per image.
    const keys = [[-1, 0], [0, 1], [0, 1], [0, 1], [1, 2], [1, 2], [1, 2], [0, 5]];
    const correct = [1, 1, 1, 0, 1, 0, 0, 0];
    const loss = [-3, 2, 0.5, -9, 9, 1, 3, Number.NaN];
    const winners = [true, true, false, true, false, false, true, true];
    const tBest = Tensor.from(gpu(), best, [count, size]);
    const tKey = Tensor.from(gpu(), keys.flat(), [count, 2]);
    keepBestAdversarial(tBest, tKey, Tensor.from(gpu(), candidate, [count, size]), Tensor.from(gpu(), correct, [count]), Tensor.from(gpu(), loss, [count]));
    const expectedBest = best.slice();
    const expectedKeys = keys.map((k, i) => (winners[i] ? [1 - correct[i]!, loss[i]!] : k));
    winners.forEach((w, k) => w && expectedBest.set(candidate.subarray(k * size, (k + 1) * size), k * size));
    expect(Array.from(await tBest.read())).toEqual(Array.from(expectedBest));
    // A NaN loss on a newly misclassified image is kept as it came (the kernel copies it).
    expect(Array.from(await tKey.read())).toEqual(expectedKeys.flat());
  });

  it('shape rules name the op and the shapes', () => {
    const ctx = gpu();
    const a = Tensor.from(ctx, new Float32Array(6), [2, 3]);
    const b = Tensor.from(ctx, new Float32Array(8), [2, 4]);
    const budget = Tensor.from(ctx, [0.1, 0.01], [2]);
    expect(() => attackStep(a, b, a, budget, { norm: 'linf' })).toThrow(/attack_step: shapes must match, got \[2, 3\] and \[2, 4\]/);
    expect(() => attackStep(a, a, a, Tensor.from(ctx, [0.1], [1]), { norm: 'l2' })).toThrow(/budget must hold \[epsilon, stepSize\]/);
    expect(() => attackRandomStart(a, a, budget, Tensor.from(ctx, [1, 2], [2]), { norm: 'linf' })).toThrow(/counter must be u32/);
  });
});
