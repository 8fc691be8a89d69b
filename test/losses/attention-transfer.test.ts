// Shader-level tests of shaders/attention_transfer.wgsl (entries attention_map,
// attention_map_backward_positions, attention_map_backward_features) against float64
// references. Tolerances: q and the loss rtol 1e-5 (+1e-7 absolute; q ≤ 1); dA per
// element |err| ≤ 1e-5·max|dA| + 1e-5 relative (entries near zero have no meaningful
// relative error). Gradient rules: checkGradients (f32 finite differences).
import { describe, expect, it } from 'vitest';
import { compile, Graph, gradients, mul, Random, sum, Tensor } from '../../src/index.js';
import { attentionMap, attentionTransferLoss } from '../../src/losses/attention-transfer.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();

/** Float64 q [N, P] and the norms ‖Q‖ [N]. */
function attentionReference(a: Float32Array, [N, C, H, W]: number[]) {
  const P = H! * W!;
  const q = new Float64Array(N! * P);
  const norms = new Float64Array(N!);
  for (let n = 0; n < N!; n++) {
    let squares = 0;
    for (let p = 0; p < P; p++) {
      let energy = 0;
      for (let c = 0; c < C!; c++) energy += a[(n * C! + c) * P + p]! ** 2;
      q[n * P + p] = energy;
      squares += energy * energy;
    }
    norms[n] = Math.max(Math.sqrt(squares), 1e-12);
    for (let p = 0; p < P; p++) q[n * P + p]! /= norms[n]!;
  }
  return { q, norms };
}

/** Float64 dA for an upstream gradient dq. */
function attentionGradReference(a: Float32Array, shape: number[], dq: Float32Array): Float64Array {
  const [N, C, H, W] = shape as [number, number, number, number];
  const P = H * W;
  const { q, norms } = attentionReference(a, shape);
  const dA = new Float64Array(a.length);
  for (let n = 0; n < N; n++) {
    let dot = 0;
    for (let p = 0; p < P; p++) dot += q[n * P + p]! * dq[n * P + p]!;
    for (let p = 0; p < P; p++) {
      const dQ = (dq[n * P + p]! - q[n * P + p]! * dot) / norms[n]!;
      for (let c = 0; c < C; c++) dA[(n * C + c) * P + p] = 2 * a[(n * C + c) * P + p]! * dQ;
    }
  }
  return dA;
}

/** q (eager) and dA for loss = Σ q ⊙ dq (through a compiled graph). */
async function runAttention(features: Float32Array, shape: number[], dq: Float32Array) {
  const ctx = gpu();
  const a = Tensor.from(ctx, features, shape);
  const eager = attentionMap(a);
  const q = (await eager.read()) as Float32Array;
  const graph = new Graph(ctx);
  const aIn = graph.input('features', shape);
  const projection = graph.constant(dq, eager.shape);
  const [dA] = gradients(sum(mul(attentionMap(aIn), projection)), [aIn]);
  const plan = compile(graph, { fetch: [dA!] });
  plan.run({ features });
  const grad = (await plan.read(dA!)) as Float32Array;
  plan.dispose();
  graph.dispose();
  a.dispose();
  eager.dispose();
  return { q, grad };
}

function expectGradClose(actual: Float32Array, expected: Float64Array, what: string): void {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expectClose(actual, expected, { atol: 1e-5 * scale, rtol: 1e-5 }, what);
}

describe('attention_transfer.wgsl attention map and its backward pass vs float64', () => {
  for (const shape of [[1, 1, 1, 1], [2, 3, 4, 5], [3, 16, 20, 20], [2, 64, 7, 7]]) {
    it(`[${shape}]`, async () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const random = new Random(size);
      const features = randomArray(random, size, -2, 2);
      const dq = randomArray(random, shape[0]! * shape[2]! * shape[3]!);
      const { q, grad } = await runAttention(features, shape, dq);
      expectClose(q, attentionReference(features, shape).q, { atol: 1e-7, rtol: 1e-5 }, 'q');
      expectGradClose(grad, attentionGradReference(features, shape, dq), 'dA');
    });
  }

  it('huge and tiny feature magnitudes (Q² would overflow / underflow in f32)', async () => {
    const shape = [2, 4, 6, 6];
    const random = new Random(9);
    const features = randomArray(random, 288, -1, 1);
    for (let i = 0; i < 144; i++) features[i]! *= 1e15; // sample 0: Q ~ 1e30
    for (let i = 144; i < 288; i++) features[i]! *= 1e-15; // sample 1: Q ~ 1e-30
    const dq = randomArray(random, 72);
    const { q } = await runAttention(features, shape, dq);
    expectClose(q, attentionReference(features, shape).q, { atol: 1e-7, rtol: 1e-5 }, 'q');
  });

  it('an all-zero sample gives q = 0 and dA = 0, not NaN', async () => {
    const shape = [2, 3, 4, 4];
    const random = new Random(10);
    const features = randomArray(random, 96);
    features.fill(0, 48);
    const dq = randomArray(random, 32);
    const { q, grad } = await runAttention(features, shape, dq);
    expect(q.subarray(16).every((v) => v === 0)).toBe(true);
    expect(grad.subarray(48).every((v) => v === 0)).toBe(true);
    expectClose(q.subarray(0, 16), attentionReference(features, shape).q.subarray(0, 16), { atol: 1e-7, rtol: 1e-5 }, 'q');
  });
});

describe('attentionTransferLoss', () => {
  it('is the batch mean of ‖q_s − q_t‖² (channels may differ)', async () => {
    const ctx = gpu();
    const random = new Random(12);
    const sShape = [3, 4, 5, 6];
    const tShape = [3, 10, 5, 6];
    const sData = randomArray(random, 360);
    const tData = randomArray(random, 900);
    const qs = attentionReference(sData, sShape).q;
    const qt = attentionReference(tData, tShape).q;
    let expected = 0;
    for (let i = 0; i < qs.length; i++) expected += (qs[i]! - qt[i]!) ** 2;
    expected /= 3;
    const s = Tensor.from(ctx, sData, sShape);
    const t = Tensor.from(ctx, tData, tShape);
    const loss = attentionTransferLoss(s, t);
    expectClose(await loss.read(), [expected], { atol: 1e-7, rtol: 1e-5 }, 'loss');
    for (const x of [s, t, loss]) x.dispose();
  });

  it('rejects feature maps of different batch or spatial size', () => {
    const ctx = gpu();
    const s = Tensor.from(ctx, randomArray(new Random(1), 2 * 3 * 4 * 4), [2, 3, 4, 4]);
    const t = Tensor.from(ctx, randomArray(new Random(2), 2 * 3 * 5 * 4), [2, 3, 5, 4]);
    const flat = Tensor.from(ctx, randomArray(new Random(3), 6), [2, 3]);
    expect(() => attentionTransferLoss(s, t)).toThrow(/attention_transfer: student \[2, 3, 4, 4\] and teacher \[2, 3, 5, 4\] must both be NCHW with the same N, H and W/);
    expect(() => attentionMap(flat)).toThrow(/attention_map: features \(NCHW\) must have rank 4, got shape \[2, 3\]/);
    for (const x of [s, t, flat]) x.dispose();
  });
});

describe('attention transfer gradient rules vs finite differences', () => {
  const random = new Random(4);
  it('attentionMap [2, 3, 4, 5]', async () => {
    await checkGradients(gpu(), ([a]) => attentionMap(a!), [{ name: 'features', shape: [2, 3, 4, 5], data: randomArray(random, 120) }], {
      samples: 10,
      atol: 2e-3,
    });
  });
  it('attentionTransferLoss (student differentiable, teacher constant)', async () => {
    await checkGradients(gpu(), ([s, t]) => attentionTransferLoss(s!, t!), [
      { name: 'student', shape: [2, 3, 4, 4], data: randomArray(random, 96) },
      { name: 'teacher', shape: [2, 5, 4, 4], data: randomArray(random, 160), differentiable: false },
    ], { samples: 10, atol: 2e-3 });
  });
});
