// Shader-level tests of shaders/dropout.wgsl (entry dropout) against a float64 reference
// that recomputes the pcg4d mask on the CPU, plus the properties the design promises: same
// seed → same masks, fresh masks per plan run, keep ratio, eval identity, and backward.
// Tolerances: kept values are x·fround(1/(1−p)) in f32 vs x/(1−p) in float64: rtol 1e-6,
// atol 0 (dropped values must be exactly 0); keep ratio within 5σ of the binomial mean.
import { describe, expect, it } from 'vitest';
import { compile, Graph, gradients, mul, Random, sum, Tensor } from '../../src/index.js';
import { dropout, DropoutRng, dropoutWithCounter } from '../../src/ops/dropout.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const exact = { atol: 0, rtol: 1e-6 };

/** pcg4d (Jarzynski & Olano 2020) in 32-bit integer arithmetic, as the shader computes it. */
function pcg4dX(i: number, stream: number, step: number, seed: number): number {
  let [x, y, z, w] = [i, stream, step, seed].map((v) => (Math.imul(v, 1664525) + 1013904223) >>> 0) as [number, number, number, number];
  for (let round = 0; round < 2; round++) {
    x = (x + Math.imul(y, w)) >>> 0;
    y = (y + Math.imul(z, x)) >>> 0;
    z = (z + Math.imul(x, y)) >>> 0;
    w = (w + Math.imul(y, z)) >>> 0;
    if (round === 0) [x, y, z, w] = [x ^ (x >>> 16), y ^ (y >>> 16), z ^ (z >>> 16), w ^ (w >>> 16)];
  }
  return x;
}

function dropoutReference(x: Float32Array, p: number, seed: number, step: number, stream: number): Float64Array {
  const threshold = Math.fround(p);
  return Float64Array.from(x, (v, i) => ((pcg4dX(i, stream, step, seed) >>> 8) / 16777216 >= threshold ? v / (1 - p) : 0));
}

function keptCount(y: ArrayLike<number>): number {
  let kept = 0;
  for (let i = 0; i < y.length; i++) if (y[i] !== 0) kept++;
  return kept;
}

describe('dropout.wgsl dropout', () => {
  for (const [n, p, seed, step, stream] of [
    [1, 0.5, 1, 1, 0],
    [1000, 0.1, 42, 3, 0],
    [4099, 0.5, 0xffffffff, 17, 5],
    [100_000, 0.3, 1234, 1, 2],
  ] as const) {
    it(`n ${n}, p ${p}, seed ${seed}, step ${step}, stream ${stream} matches the CPU mask`, async () => {
      const ctx = gpu();
      const xData = randomArray(new Random(n), n);
      const counter = Tensor.from(ctx, new Uint32Array([seed, step]), [2]);
      const y = dropoutWithCounter(Tensor.from(ctx, xData, [n]), counter, { p, stream });
      expectClose(await y.read(), dropoutReference(xData, p, seed, step, stream), exact, 'y');
    });
  }

  it('keeps a fraction 1 − p of 100k elements (within 5σ) and scales them by 1/(1 − p)', async () => {
    const ctx = gpu();
    const n = 100_000;
    for (const p of [0.1, 0.5, 0.9]) {
      const xData = randomArray(new Random(3), n, 0.5, 2);
      const y = await dropout(Tensor.from(ctx, xData, [n]), { p, training: true, rng: new DropoutRng(ctx, 99) }).read();
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(keptCount(y) - n * (1 - p))).toBeLessThan(5 * sigma);
      for (let i = 0; i < n; i++) {
        if (y[i] !== 0 && Math.abs(y[i]! - xData[i]! / (1 - p)) > 1e-6 * Math.abs(xData[i]! / (1 - p))) {
          throw new Error(`y[${i}] = ${y[i]} is neither 0 nor x/(1−p) = ${xData[i]! / (1 - p)}`);
        }
      }
    }
  });

  it('same seed gives the same masks; a different seed or the next step gives different ones', async () => {
    const ctx = gpu();
    const n = 20_000;
    const x = Tensor.from(ctx, randomArray(new Random(5), n, 0.5, 2), [n]);
    const run = (rng: DropoutRng) => dropout(x, { p: 0.5, training: true, rng }).read();
    const [a, b] = [new DropoutRng(ctx, 7), new DropoutRng(ctx, 7)];
    const a1 = await run(a);
    expect(Array.from(await run(b))).toEqual(Array.from(a1));
    const a2 = await run(a);
    const other = await run(new DropoutRng(ctx, 8));
    for (const different of [a2, other]) {
      // Independent masks with p = 0.5 agree on half the elements (5σ bound).
      let agree = 0;
      for (let i = 0; i < n; i++) if ((different[i] === 0) === (a1[i] === 0)) agree++;
      expect(Math.abs(agree - n / 2)).toBeLessThan(5 * Math.sqrt(n / 4));
    }
    expect(a.step).toBe(2);
  });

  it('is the identity in evaluation and for p = 0, and rejects p outside [0, 1)', () => {
    const ctx = gpu();
    const rng = new DropoutRng(ctx, 1);
    const x = Tensor.from(ctx, randomArray(new Random(6), 10), [2, 5]);
    expect(dropout(x, { p: 0.5, training: false, rng })).toBe(x);
    expect(dropout(x, { p: 0, training: true, rng })).toBe(x);
    for (const p of [1, -0.1, Number.NaN]) expect(() => dropout(x, { p, training: true, rng })).toThrow(/dropout: p must be in \[0, 1\)/);
    expect(() => new DropoutRng(ctx, -1)).toThrow(/seed must be an integer/);
    expect(rng.step).toBe(0);
  });
});

describe('dropout in a compiled plan', () => {
  it('draws a fresh mask each run, the same sequence for the same seed, and a matching backward', async () => {
    const ctx = gpu();
    const n = 4096;
    const p = 0.25;
    const xData = randomArray(new Random(8), n, 0.5, 2);
    const rData = randomArray(new Random(9), n);
    const runPlan = async (seed: number, runs: number) => {
      const graph = new Graph(ctx);
      const x = graph.input('x', [n]);
      const rng = new DropoutRng(ctx, seed);
      const y = dropout(x, { p, training: true, rng });
      const [dx] = gradients(sum(mul(y, graph.constant(rData, [n]))), [x]);
      const plan = compile(graph, { fetch: [y, dx!] });
      const masks: Float32Array[] = [];
      for (let run = 1; run <= runs; run++) {
        plan.run({ x: xData });
        const yValues = (await plan.read(y)) as Float32Array;
        expectClose(yValues, dropoutReference(xData, p, seed, run, 0), exact, `y at run ${run}`);
        // dx = R · mask / (1 − p), with the mask this run's forward used.
        const dxRef = Float64Array.from(rData, (r, i) => (yValues[i] !== 0 ? r / (1 - p) : 0));
        expectClose(await plan.read(dx!), dxRef, exact, `dx at run ${run}`);
        masks.push(yValues);
      }
      plan.dispose();
      graph.dispose();
      rng.dispose();
      return masks;
    };
    const first = await runPlan(21, 3);
    expect(Array.from(first[1]!)).not.toEqual(Array.from(first[0]!));
    const again = await runPlan(21, 3);
    again.forEach((mask, k) => expect(Array.from(mask)).toEqual(Array.from(first[k]!)));
  });

  it('two layers sharing a generator get different masks', async () => {
    const ctx = gpu();
    const graph = new Graph(ctx);
    const x = graph.input('x', [1000]);
    const rng = new DropoutRng(ctx, 3);
    const [a, b] = [dropout(x, { p: 0.5, training: true, rng }), dropout(x, { p: 0.5, training: true, rng })];
    const plan = compile(graph, { fetch: [a, b] });
    plan.run({ x: randomArray(new Random(10), 1000, 0.5, 2) });
    expect(Array.from(await plan.read(a))).not.toEqual(Array.from(await plan.read(b)));
    plan.dispose();
    graph.dispose();
  });
});

describe('dropout gradient rule vs finite differences', () => {
  it('x [6, 7], p 0.4, fixed counter', async () => {
    const ctx = gpu();
    const counter = Tensor.from(ctx, new Uint32Array([11, 4]), [2]);
    await checkGradients(ctx, ([x]) => dropoutWithCounter(x!, x!.graph.bind(counter), { p: 0.4 }), [
      { name: 'x', shape: [6, 7], data: randomArray(new Random(12), 42) },
    ], { samples: 12 });
  });
});
