// Shader-level tests of shaders/activations.wgsl (both entry points, every kind) against
// float64 references on random inputs, and finite-difference checks of every gradient.
// Tolerance: exp/log/tanh in f32 on a software GPU: atol 2e-6, rtol 2e-5.
import { describe, it } from 'vitest';
import { abs, clip, elu, exp, floor, hardSigmoid, hardSwish, leakyRelu, log, neg, Random, reciprocal, selu, sigmoid, sign, softplus, softsign, sqrt, tanh, Tensor } from '../../src/index.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(11);
const tol = { atol: 2e-6, rtol: 2e-5 };
const SELU = { alpha: 1.6732632423543772, gamma: 1.0507009873554805 };
const sig = (v: number) => 1 / (1 + Math.exp(-v));

/** `domain` maps the random inputs in [-8, 8] into the function's domain (log, sqrt: x > 0). */
type Case = { name: string; run: (x: Tensor) => Tensor; f: (v: number) => number; df: (v: number) => number; kinks: number[]; domain?: (v: number) => number };
const positive = (v: number) => 0.05 + Math.abs(v);
const awayFromZero = (v: number) => (v < 0 ? v - 0.25 : v + 0.25);
const integers = Array.from({ length: 17 }, (_, i) => i - 8);
const cases: Case[] = [
  { name: 'sigmoid', run: sigmoid, f: sig, df: (v) => sig(v) * (1 - sig(v)), kinks: [] },
  { name: 'tanh', run: tanh, f: Math.tanh, df: (v) => 1 - Math.tanh(v) ** 2, kinks: [] },
  { name: 'leakyRelu(0.1)', run: (x) => leakyRelu(x, 0.1), f: (v) => (v >= 0 ? v : 0.1 * v), df: (v) => (v >= 0 ? 1 : 0.1), kinks: [0] },
  { name: 'elu(0.7)', run: (x) => elu(x, 0.7), f: (v) => (v > 0 ? v : 0.7 * Math.expm1(v)), df: (v) => (v > 0 ? 1 : 0.7 * Math.exp(v)), kinks: [0] },
  { name: 'selu', run: selu, f: (v) => SELU.gamma * (v > 0 ? v : SELU.alpha * Math.expm1(v)), df: (v) => SELU.gamma * (v > 0 ? 1 : SELU.alpha * Math.exp(v)), kinks: [0] },
  { name: 'softplus', run: softplus, f: (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))), df: sig, kinks: [] },
  { name: 'softsign', run: softsign, f: (v) => v / (1 + Math.abs(v)), df: (v) => 1 / (1 + Math.abs(v)) ** 2, kinks: [] },
  { name: 'hardSigmoid(0.3, 0.4)', run: (x) => hardSigmoid(x, 0.3, 0.4), f: (v) => Math.min(1, Math.max(0, 0.3 * v + 0.4)), df: (v) => (0.3 * v + 0.4 > 0 && 0.3 * v + 0.4 < 1 ? 0.3 : 0), kinks: [-4 / 3, 2] },
  { name: 'hardSwish', run: hardSwish, f: (v) => v * Math.min(1, Math.max(0, v / 6 + 0.5)), df: (v) => (v <= -3 ? 0 : v >= 3 ? 1 : v / 3 + 0.5), kinks: [-3, 3] },
  { name: 'clip(0, 6) (ReLU6)', run: (x) => clip(x, 0, 6), f: (v) => Math.min(6, Math.max(0, v)), df: (v) => (v >= 0 && v <= 6 ? 1 : 0), kinks: [0, 6] },
  { name: 'clip(-0.5) (no upper bound)', run: (x) => clip(x, -0.5), f: (v) => Math.max(-0.5, v), df: (v) => (v >= -0.5 ? 1 : 0), kinks: [-0.5] },
  { name: 'neg', run: neg, f: (v) => -v, df: () => -1, kinks: [] },
  { name: 'exp', run: exp, f: Math.exp, df: Math.exp, kinks: [] },
  { name: 'log', run: log, f: Math.log, df: (v) => 1 / v, kinks: [], domain: positive },
  { name: 'sqrt', run: sqrt, f: Math.sqrt, df: (v) => 0.5 / Math.sqrt(v), kinks: [], domain: positive },
  { name: 'abs', run: abs, f: Math.abs, df: Math.sign, kinks: [0] },
  { name: 'reciprocal', run: reciprocal, f: (v) => 1 / v, df: (v) => -1 / (v * v), kinks: [], domain: awayFromZero },
  { name: 'sign (gradient 0)', run: sign, f: Math.sign, df: () => 0, kinks: [0] },
  { name: 'floor (gradient 0)', run: floor, f: Math.floor, df: () => 0, kinks: integers },
];

/** Values in [-8, 8] at least 0.05 from every kink, so finite differences are valid. */
function inputs(n: number, kinks: number[]): Float32Array {
  const out = randomArray(random, n, -8, 8);
  for (let i = 0; i < n; i++) while (kinks.some((k) => Math.abs(out[i]! - k) < 0.05)) out[i] = random.uniform() * 16 - 8;
  return out;
}

describe('activations.wgsl', () => {
  for (const c of cases) {
    it(`${c.name}: forward and backward match float64 on 70,001 elements (2-D grid)`, async () => {
      const ctx = gpu();
      const n = 70_001;
      const xs = inputs(n, c.kinks).map(c.domain ?? ((v) => v));
      const dys = randomArray(random, n);
      const x = Tensor.from(ctx, xs, [n]);
      const y = c.run(x);
      expectClose(await y.read(), Float64Array.from(xs, c.f), tol, `${c.name} forward`);
      // The backward kernel through autodiff of sum(f(x) ⊙ dy) is checked below; here it is
      // compared element by element through the eager gradient of a weighted sum.
      const { gradients, Graph, compile, mul, sum } = await import('../../src/index.js');
      const graph = new Graph(ctx);
      const gx = graph.input('x', [n]);
      const gdy = graph.constant(dys, [n]);
      const [dx] = gradients(sum(mul(c.run(gx as never) as never, gdy)), [gx]);
      const plan = compile(graph, { fetch: [dx!] });
      plan.run({ x: xs });
      expectClose(await plan.read(dx!), Float64Array.from(xs, (v, i) => dys[i]! * c.df(v)), tol, `${c.name} backward`);
      plan.dispose();
      graph.dispose();
      x.dispose();
      y.dispose();
    });

    it(`${c.name}: gradient matches central finite differences`, async () => {
      await checkGradients(gpu(), ([x]) => c.run(x as never) as never, [{ name: 'x', shape: [5, 7], data: inputs(35, c.kinks).map(c.domain ?? ((v) => v / 3)) }], { samples: 10, eps: 1e-3 });
    });
  }
});
