// Shader-level tests of shaders/adam.wgsl (adam_update) and shaders/sgd.wgsl
// (sgd_momentum_update): several steps against a float64 re-implementation of the update
// rule. Tolerance: atol 1e-6 + rtol 1e-5 (f32 state carried over steps).
import { describe, expect, it } from 'vitest';
import { Adam, adamUpdate, compile, Graph, Random, sgdUpdate, softmaxCrossEntropy, linear, Tensor, Sgd, BufferUsage } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(9);
const tol = { atol: 1e-6, rtol: 1e-5 };

function stepTensor(ctx: ReturnType<typeof gpu>, t: number, learningRate: number): Tensor {
  const data = new ArrayBuffer(16);
  new Uint32Array(data, 0, 1)[0] = t;
  new Float32Array(data, 4, 1)[0] = learningRate;
  return Tensor.from(ctx, new Uint32Array(data), [4], 'u32', BufferUsage.UNIFORM | BufferUsage.COPY_DST);
}

describe('adam.wgsl adam_update and adam_update4', () => {
  // 70,001 elements take the scalar entry, 70,000 (a multiple of 4) the vec4 one.
  for (const [weightDecay, n] of [[0, 70_001], [0.01, 70_001], [0, 70_000], [0.01, 70_000], [0, 8]] as const) {
    it(`matches float64 Adam${weightDecay ? 'W' : ''} over 4 steps (${n.toLocaleString('en')} elements)`, async () => {
      const ctx = gpu();
      const hyper = { beta1: 0.9, beta2: 0.99, epsilon: 1e-7, weightDecay };
      const lr = 0.01;
      const p0 = randomArray(random, n);
      const param = Tensor.from(ctx, p0, [n]);
      const m = Tensor.from(ctx, new Float32Array(n), [n]);
      const v = Tensor.from(ctx, new Float32Array(n), [n]);
      const ref = { p: Float64Array.from(p0), m: new Float64Array(n), v: new Float64Array(n) };
      for (let t = 1; t <= 4; t++) {
        const g = randomArray(random, n);
        adamUpdate(param, Tensor.from(ctx, g, [n]), m, v, stepTensor(ctx, t, lr), hyper);
        for (let i = 0; i < n; i++) {
          ref.m[i] = hyper.beta1 * ref.m[i]! + (1 - hyper.beta1) * g[i]!;
          ref.v[i] = hyper.beta2 * ref.v[i]! + (1 - hyper.beta2) * g[i]! * g[i]!;
          const mHat = ref.m[i]! / (1 - hyper.beta1 ** t);
          const vHat = ref.v[i]! / (1 - hyper.beta2 ** t);
          ref.p[i] = ref.p[i]! - lr * (mHat / (Math.sqrt(vHat) + hyper.epsilon) + weightDecay * ref.p[i]!);
        }
      }
      expectClose(await m.read(), ref.m, tol, 'm');
      expectClose(await v.read(), ref.v, tol, 'v');
      expectClose(await param.read(), ref.p, tol, 'param');
    });
  }

  it('updates an element identically whichever entry runs it (the same vec4 arithmetic)', async () => {
    const ctx = gpu();
    const hyper = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };
    const [p0, g] = [randomArray(random, 4001), randomArray(random, 4001)];
    const run = async (n: number) => {
      const param = Tensor.from(ctx, p0.slice(0, n), [n]);
      const zeros = () => Tensor.from(ctx, new Float32Array(n), [n]);
      const [m, v] = [zeros(), zeros()];
      for (let t = 1; t <= 3; t++) adamUpdate(param, Tensor.from(ctx, g.slice(0, n), [n]), m, v, stepTensor(ctx, t, 1e-3), hyper);
      return [...(await param.read()).slice(0, 4000)];
    };
    expect(await run(4000)).toEqual(await run(4001));
  });
});

describe('sgd.wgsl sgd_momentum_update', () => {
  it('matches float64 SGD with momentum and weight decay over 4 steps', async () => {
    const ctx = gpu();
    const n = 1000;
    const hyper = { momentum: 0.9, weightDecay: 5e-4 };
    const p0 = randomArray(random, n);
    const param = Tensor.from(ctx, p0, [n]);
    const velocity = Tensor.from(ctx, new Float32Array(n), [n]);
    const ref = { p: Float64Array.from(p0), vel: new Float64Array(n) };
    for (let t = 1; t <= 4; t++) {
      const g = randomArray(random, n);
      sgdUpdate(param, Tensor.from(ctx, g, [n]), velocity, stepTensor(ctx, t, 0.1), hyper);
      for (let i = 0; i < n; i++) {
        const gi = g[i]! + hyper.weightDecay * ref.p[i]!;
        ref.vel[i] = hyper.momentum * ref.vel[i]! + gi;
        ref.p[i] = ref.p[i]! - 0.1 * ref.vel[i]!;
      }
    }
    expectClose(await velocity.read(), ref.vel, tol, 'velocity');
    expectClose(await param.read(), ref.p, tol, 'param');
  });
});

describe('Optimizer.minimize in a compiled plan', () => {
  for (const make of [() => new Adam({ learningRate: 0.05 }), () => new Sgd({ learningRate: (t) => (t < 10 ? 0.5 : 0.25), momentum: 0.5 })]) {
    it(`${make().constructor.name} lowers the loss of a small softmax regression and counts steps`, async () => {
      const ctx = gpu();
      const graph = new Graph(ctx);
      const x = graph.input('x', [16, 5]);
      const y = graph.input('y', [16], 'u32');
      const w = Tensor.from(ctx, randomArray(random, 15, -0.1, 0.1), [5, 3]);
      const b = Tensor.from(ctx, new Float32Array(3), [3]);
      const loss = softmaxCrossEntropy(linear(x, w, b), y);
      const optimizer = make();
      optimizer.minimize(loss, [w, b]);
      const plan = compile(graph, { fetch: [loss] });
      // Labels from a random linear rule, so that the data are separable whatever the draw
      // (random labels made the 0.8 threshold depend on the draw).
      const xs = randomArray(random, 80);
      const rule = randomArray(random, 15);
      const label = (r: number) => [0, 1, 2].reduce((best, c) => (score(r, c) > score(r, best) ? c : best), 0);
      const score = (r: number, c: number) => [0, 1, 2, 3, 4].reduce((sum, k) => sum + xs[r * 5 + k]! * rule[k * 3 + c]!, 0);
      const feeds = { x: xs, y: Uint32Array.from({ length: 16 }, (_, r) => label(r)) };
      plan.run(feeds);
      const first = (await plan.read(loss))[0]!;
      for (let i = 0; i < 30; i++) plan.run(feeds);
      const last = (await plan.read(loss))[0]!;
      expect(optimizer.step).toBe(31);
      expect(last).toBeLessThan(first * 0.8);
      plan.dispose();
      optimizer.dispose();
      graph.dispose();
    });
  }
});
