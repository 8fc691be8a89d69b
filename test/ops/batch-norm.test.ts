// Shader-level tests of shaders/batch_norm.wgsl (entries batch_norm_train_stats,
// batch_norm_running_invstd, batch_norm_normalize, batch_norm_backward_reduce,
// batch_norm_backward_data, batch_norm_backward_data_eval) against float64 references, and
// the batch norm gradient rules (training and evaluation) against finite differences.
// Tolerances (M = values per channel, f32 sums of M terms):
//   forward y, saved mean/invstd, running stats: atol 1e-5, rtol 1e-4;
//   dgamma, dbeta: atol 2e-6·√M, rtol 1e-4;  dx: atol 1e-5, rtol 1e-4.
import { describe, expect, it } from 'vitest';
import { compile, Graph, Random, Tensor } from '../../src/index.js';
import { batchNorm, batchNormBackward, batchNormTrain } from '../../src/ops/batch-norm.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const forwardTolerance = { atol: 1e-5, rtol: 1e-4 };

interface Layout {
  batch: number;
  channels: number;
  spatial: number;
}

function layoutOf(shape: number[]): Layout {
  return { batch: shape[0]!, channels: shape[1]!, spatial: (shape[2] ?? 1) * (shape[3] ?? 1) };
}

/** Calls f(c, i) for every flat index i of channel c. */
function forEachInChannel({ batch, channels, spatial }: Layout, c: number, f: (i: number) => void): void {
  for (let n = 0; n < batch; n++) for (let s = 0; s < spatial; s++) f((n * channels + c) * spatial + s);
}

/** Float64 batch statistics: mean and biased variance per channel. */
function batchStats(x: Float32Array, layout: Layout) {
  const count = layout.batch * layout.spatial;
  const mean = new Float64Array(layout.channels);
  const variance = new Float64Array(layout.channels);
  for (let c = 0; c < layout.channels; c++) {
    forEachInChannel(layout, c, (i) => (mean[c] = mean[c]! + x[i]! / count));
    forEachInChannel(layout, c, (i) => (variance[c] = variance[c]! + (x[i]! - mean[c]!) ** 2 / count));
  }
  return { mean, variance, count };
}

function normalizeReference(x: Float32Array, layout: Layout, mean: ArrayLike<number>, invstd: ArrayLike<number>, gamma: Float32Array, beta: Float32Array) {
  const y = new Float64Array(x.length);
  for (let c = 0; c < layout.channels; c++) forEachInChannel(layout, c, (i) => (y[i] = (x[i]! - mean[c]!) * invstd[c]! * gamma[c]! + beta[c]!));
  return y;
}

function backwardReference(dy: Float32Array, x: Float32Array, layout: Layout, gamma: Float32Array, mean: ArrayLike<number>, invstd: ArrayLike<number>, training: boolean) {
  const count = layout.batch * layout.spatial;
  const dx = new Float64Array(x.length);
  const dgamma = new Float64Array(layout.channels);
  const dbeta = new Float64Array(layout.channels);
  for (let c = 0; c < layout.channels; c++) {
    const xhat = (i: number) => (x[i]! - mean[c]!) * invstd[c]!;
    forEachInChannel(layout, c, (i) => {
      dbeta[c] = dbeta[c]! + dy[i]!;
      dgamma[c] = dgamma[c]! + dy[i]! * xhat(i);
    });
    forEachInChannel(layout, c, (i) => {
      const centred = training ? dy[i]! - dbeta[c]! / count - (xhat(i) * dgamma[c]!) / count : dy[i]!;
      dx[i] = gamma[c]! * invstd[c]! * centred;
    });
  }
  return { dx, dgamma, dbeta };
}

const shapes: number[][] = [
  [2, 3, 4, 5],
  [4, 16, 7, 7],
  [16, 8, 28, 28], // 12544 values per channel: strided loops and full trees
  [8, 5], // 1d: per feature over the batch
  [300, 70], // 1d, batch larger than a workgroup
  [2, 1, 1, 1],
];

function parameters(random: Random, channels: number) {
  return {
    gamma: randomArray(random, channels, 0.5, 1.5),
    beta: randomArray(random, channels),
    runningMean: randomArray(random, channels),
    runningVar: randomArray(random, channels, 0.5, 2),
  };
}

describe('batch_norm.wgsl training forward: batch_norm_train_stats + batch_norm_normalize', () => {
  for (const shape of shapes) {
    it(`x [${shape}]`, async () => {
      const ctx = gpu();
      const random = new Random(shape.reduce((a, b) => a * 13 + b));
      const layout = layoutOf(shape);
      const count = shape.reduce((a, b) => a * b);
      // A common offset of 3 and scale 2 per channel: the stats must not rely on zero mean.
      const xData = randomArray(random, count).map((v) => 3 + 2 * v);
      const p = parameters(random, layout.channels);
      const [momentum, eps] = [0.2, 1e-3];
      const runningMean = Tensor.from(ctx, p.runningMean, [layout.channels]);
      const runningVar = Tensor.from(ctx, p.runningVar, [layout.channels]);
      const [y, mean, invstd] = batchNormTrain(
        Tensor.from(ctx, xData, shape),
        Tensor.from(ctx, p.gamma, [layout.channels]),
        Tensor.from(ctx, p.beta, [layout.channels]),
        runningMean,
        runningVar,
        { momentum, eps },
      );
      const stats = batchStats(xData, layout);
      const invstdRef = stats.variance.map((v) => 1 / Math.sqrt(v + eps));
      expectClose(await mean.read(), stats.mean, forwardTolerance, 'mean');
      expectClose(await invstd.read(), invstdRef, forwardTolerance, 'invstd');
      expectClose(await y.read(), normalizeReference(xData, layout, stats.mean, invstdRef, p.gamma, p.beta), forwardTolerance, 'y');
      const meanRef = p.runningMean.map((r, c) => (1 - momentum) * r + momentum * stats.mean[c]!);
      const unbiased = stats.variance.map((v) => (v * stats.count) / (stats.count - 1));
      const varRef = Float64Array.from(p.runningVar, (r, c) => (1 - momentum) * r + momentum * unbiased[c]!);
      expectClose(await runningMean.read(), Float64Array.from(meanRef), forwardTolerance, 'running mean');
      expectClose(await runningVar.read(), varRef, forwardTolerance, 'running var');
    });
  }

  it('is stable for a large common offset (100 ± 1): two passes, not E[x²] − E[x]²', async () => {
    const ctx = gpu();
    const random = new Random(77);
    const shape = [32, 2, 16, 16];
    const layout = layoutOf(shape);
    const xData = randomArray(random, 32 * 2 * 256).map((v) => 100 + v);
    const ones = new Float32Array([1, 1]);
    const [, , invstd] = batchNormTrain(
      Tensor.from(ctx, xData, shape),
      Tensor.from(ctx, ones, [2]),
      Tensor.from(ctx, new Float32Array([0.5, 0.5]), [2]),
      Tensor.from(ctx, ones, [2]),
      Tensor.from(ctx, ones, [2]),
      { eps: 1e-5 },
    );
    const stats = batchStats(xData, layout);
    expectClose(await invstd.read(), stats.variance.map((v) => 1 / Math.sqrt(v + 1e-5)), { atol: 0, rtol: 1e-4 }, 'invstd');
  });
});

describe('batch_norm.wgsl evaluation forward: batch_norm_running_invstd + batch_norm_normalize', () => {
  for (const shape of [shapes[0]!, shapes[2]!, shapes[3]!, shapes[5]!]) {
    it(`x [${shape}]`, async () => {
      const ctx = gpu();
      const random = new Random(shape.reduce((a, b) => a * 19 + b));
      const layout = layoutOf(shape);
      const xData = randomArray(random, shape.reduce((a, b) => a * b));
      const p = parameters(random, layout.channels);
      const runningMean = Tensor.from(ctx, p.runningMean, [layout.channels]);
      const runningVar = Tensor.from(ctx, p.runningVar, [layout.channels]);
      const y = batchNorm(Tensor.from(ctx, xData, shape), Tensor.from(ctx, p.gamma, [layout.channels]), Tensor.from(ctx, p.beta, [layout.channels]), runningMean, runningVar, {
        training: false,
        eps: 1e-5,
      });
      const invstdRef = Float64Array.from(p.runningVar, (v) => 1 / Math.sqrt(v + 1e-5));
      expectClose(await y.read(), normalizeReference(xData, layout, p.runningMean, invstdRef, p.gamma, p.beta), forwardTolerance, 'y');
      // Evaluation leaves the running statistics alone.
      expect(Array.from(await runningMean.read())).toEqual(Array.from(p.runningMean));
      expect(Array.from(await runningVar.read())).toEqual(Array.from(p.runningVar));
    });
  }
});

describe('batch_norm.wgsl backward: batch_norm_backward_reduce + batch_norm_backward_data(_eval)', () => {
  for (const training of [true, false]) {
    for (const shape of [shapes[0]!, shapes[2]!, shapes[3]!, shapes[4]!]) {
      it(`${training ? 'training' : 'evaluation'} x [${shape}]`, async () => {
        const ctx = gpu();
        const random = new Random(shape.reduce((a, b) => a * 23 + b) + (training ? 1 : 0));
        const layout = layoutOf(shape);
        const count = shape.reduce((a, b) => a * b);
        const xData = randomArray(random, count);
        const dyData = randomArray(random, count);
        const { gamma } = parameters(random, layout.channels);
        // The statistics the kernels get, as f32; the reference uses the same values.
        const mean = randomArray(random, layout.channels, -0.2, 0.2);
        const invstd = randomArray(random, layout.channels, 0.8, 2);
        const vector = (data: Float32Array) => Tensor.from(ctx, data, [layout.channels]);
        const [dx, dgamma, dbeta] = batchNormBackward(Tensor.from(ctx, dyData, shape), Tensor.from(ctx, xData, shape), vector(gamma), vector(mean), vector(invstd), { training });
        const ref = backwardReference(dyData, xData, layout, gamma, mean, invstd, training);
        const sumTolerance = { atol: 2e-6 * Math.sqrt(layout.batch * layout.spatial), rtol: 1e-4 };
        expectClose(await dbeta.read(), ref.dbeta, sumTolerance, 'dbeta');
        expectClose(await dgamma.read(), ref.dgamma, sumTolerance, 'dgamma');
        expectClose(await dx.read(), ref.dx, { atol: 1e-5, rtol: 1e-4 }, 'dx');
      });
    }
  }
});

describe('batch norm in a compiled plan', () => {
  it('updates the running statistics on every run', async () => {
    const ctx = gpu();
    const random = new Random(31);
    const shape = [4, 3, 5, 5];
    const layout = layoutOf(shape);
    const p = parameters(random, 3);
    const runningMean = Tensor.from(ctx, p.runningMean, [3]);
    const runningVar = Tensor.from(ctx, p.runningVar, [3]);
    const graph = new Graph(ctx);
    const x = graph.input('x', shape);
    const y = batchNorm(x, graph.constant(p.gamma, [3]), graph.constant(p.beta, [3]), graph.bind(runningMean), graph.bind(runningVar), { training: true });
    const plan = compile(graph, { fetch: [y] });
    const meanRef = Float64Array.from(p.runningMean);
    const varRef = Float64Array.from(p.runningVar);
    for (let run = 0; run < 3; run++) {
      const xData = randomArray(random, 300);
      plan.run({ x: xData });
      const stats = batchStats(xData, layout);
      for (let c = 0; c < 3; c++) {
        meanRef[c] = 0.9 * meanRef[c]! + 0.1 * stats.mean[c]!;
        varRef[c] = 0.9 * varRef[c]! + (0.1 * stats.variance[c]! * stats.count) / (stats.count - 1);
      }
    }
    expectClose(await runningMean.read(), meanRef, forwardTolerance, 'running mean');
    expectClose(await runningVar.read(), varRef, forwardTolerance, 'running var');
    plan.dispose();
    graph.dispose();
  });

  it('rejects mismatched parameters and single-value channels in training', () => {
    const ctx = gpu();
    const v = (n: number) => Tensor.from(ctx, randomArray(new Random(n), n, 0.5, 1), [n]);
    const x = Tensor.from(ctx, randomArray(new Random(4), 24), [2, 3, 2, 2]);
    expect(() => batchNorm(x, v(3), v(4), v(3), v(3), { training: true })).toThrow(
      /batch_norm_train: beta must be \[3\] \(one value per channel of x \[2, 3, 2, 2\]\), got \[4\]/,
    );
    const single = Tensor.from(ctx, randomArray(new Random(5), 3), [1, 3]);
    expect(() => batchNorm(single, v(3), v(3), v(3), v(3), { training: true })).toThrow(/has 1 value per channel/);
    expect(() => batchNorm(Tensor.from(ctx, randomArray(new Random(6), 6), [1, 2, 3]), v(2), v(2), v(2), v(2), { training: false })).toThrow(
      /batch_norm_eval: x must be \[N, F\] \(1d\) or \[N, C, H, W\] \(2d\), got shape \[1, 2, 3\]/,
    );
    expect(() => batchNorm(x, v(3), v(3), v(3), v(3), { training: true, momentum: 2 })).toThrow(/momentum must be in \[0, 1\]/);
  });
});

describe('batch norm gradient rules vs finite differences', () => {
  // The running-statistics update is a side effect that does not change the training
  // output, so the repeated runs of the finite-difference check see the same function.
  for (const [shape, training] of [
    [[3, 2, 3, 3], true],
    [[6, 4], true],
    [[3, 2, 3, 3], false],
  ] as [number[], boolean][]) {
    it(`${training ? 'training' : 'evaluation'} x [${shape}]`, async () => {
      const ctx = gpu();
      const random = new Random(shape.length * 10 + (training ? 1 : 0));
      const channels = shape[1]!;
      const p = parameters(random, channels);
      const runningMean = Tensor.from(ctx, p.runningMean, [channels]);
      const runningVar = Tensor.from(ctx, p.runningVar, [channels]);
      await checkGradients(
        ctx,
        ([x, gamma, beta]) => batchNorm(x!, gamma!, beta!, x!.graph.bind(runningMean), x!.graph.bind(runningVar), { training }),
        [
          { name: 'x', shape, data: randomArray(random, shape.reduce((a, b) => a * b)) },
          { name: 'gamma', shape: [channels], data: p.gamma },
          { name: 'beta', shape: [channels], data: p.beta },
        ],
        { samples: 10 },
      );
      runningMean.dispose();
      runningVar.dispose();
    });
  }
});
