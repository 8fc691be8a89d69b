// Every gradient rule checked against central finite differences (see support/finite-difference.ts
// for the method and its f32 tolerances: atol 1e-2 + rtol 1e-2 unless stated).
import { describe, it } from 'vitest';
import {
  add,
  broadcastScalar,
  linear,
  matmul,
  mean,
  mul,
  Random,
  relu,
  reshape,
  scale,
  softmaxCrossEntropy,
  sum,
} from '../src/index.js';
import { scaleRows } from '../src/ops/elementwise.js';
import { checkGradients } from './support/finite-difference.js';
import { useGpu } from './support/gpu.js';
import { randomArray } from './support/reference.js';

const gpu = useGpu();
const random = new Random(42);

/** Values in ±[0.2, 1]: away from ReLU's kink so finite differences are valid. */
function awayFromZero(n: number): Float32Array {
  const out = randomArray(random, n, 0.2, 1);
  for (let i = 0; i < n; i++) if (random.uniform() < 0.5) out[i] = -out[i]!;
  return out;
}

describe('gradient rules vs finite differences', () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`matmul transA=${transA} transB=${transB}`, async () => {
        const [M, N, K] = [5, 7, 3];
        await checkGradients(gpu(), ([a, b]) => matmul(a!, b!, { transA, transB }), [
          { name: 'a', shape: transA ? [K, M] : [M, K], data: randomArray(random, M * K) },
          { name: 'b', shape: transB ? [N, K] : [K, N], data: randomArray(random, K * N) },
        ]);
      });
    }
  }

  for (const withRelu of [false, true]) {
    it(`linear (bias${withRelu ? ' + ReLU' : ''})`, async () => {
      // Biases of ±1.5 with small x·W keep pre-activations away from ReLU's kink.
      const bias = new Float32Array([1.5, -1.5, 1.5, -1.5, 1.5]);
      await checkGradients(gpu(), ([x, w, b]) => linear(x!, w!, b!, { relu: withRelu }), [
        { name: 'x', shape: [6, 4], data: randomArray(random, 24, -0.5, 0.5) },
        { name: 'w', shape: [4, 5], data: randomArray(random, 20, -0.5, 0.5) },
        { name: 'b', shape: [5], data: bias },
      ], { samples: 8 });
    });
  }

  it('relu', async () => {
    await checkGradients(gpu(), ([x]) => relu(x!), [{ name: 'x', shape: [4, 9], data: awayFromZero(36) }]);
  });

  it('add and mul (shared input: gradients accumulate)', async () => {
    await checkGradients(gpu(), ([a, b]) => add(mul(a!, b!), a!), [
      { name: 'a', shape: [3, 5], data: randomArray(random, 15) },
      { name: 'b', shape: [3, 5], data: randomArray(random, 15) },
    ]);
  });

  it('reshape', async () => {
    await checkGradients(gpu(), ([x]) => reshape(x!, [6, 2]), [{ name: 'x', shape: [3, 4], data: randomArray(random, 12) }]);
  });

  it('scale', async () => {
    await checkGradients(gpu(), ([x]) => scale(x!, -2.5), [{ name: 'x', shape: [11], data: randomArray(random, 11) }]);
  });

  it('sum, mean and broadcast_scalar', async () => {
    await checkGradients(gpu(), ([x]) => broadcastScalar(add(sum(x!), mean(x!)), [3, 2], 0.7), [
      { name: 'x', shape: [20], data: randomArray(random, 20) },
    ]);
  });

  it('scale_rows (in x)', async () => {
    await checkGradients(gpu(), ([x, s]) => scaleRows(x!, s!), [
      { name: 'x', shape: [4, 3], data: randomArray(random, 12) },
      { name: 's', shape: [4], data: randomArray(random, 4), differentiable: false },
    ]);
  });

  it('softmax cross-entropy (fused loss + gradient)', async () => {
    const labels = new Uint32Array([0, 3, 9, 5, 5, 1, 7]);
    await checkGradients(gpu(), ([z, y]) => softmaxCrossEntropy(z!, y!), [
      { name: 'logits', shape: [7, 10], data: randomArray(random, 70, -3, 3) },
      { name: 'labels', shape: [7], data: labels, differentiable: false },
    ], { samples: 10, atol: 2e-3 });
  });
});
