// End to end on real MNIST, kept small for CI: a 784-64-10 MLP trained through a compiled
// plan on 3,000 images must reach ≥ 88% on 1,000 test images (full data: see
// examples/mnist-mlp.mjs, 97.7%), and GPU memory must not grow across steps.
import { describe, expect, it } from 'vitest';
import {
  Adam,
  argmaxCorrect,
  compile,
  glorotUniform,
  Graph,
  heNormal,
  linear,
  loadMnistFromDirectory,
  Random,
  softmaxCrossEntropy,
  sum,
  Tensor,
} from '../src/index.js';
import { useGpu } from './support/gpu.js';

const gpu = useGpu();

describe('MLP on MNIST through a compiled plan', () => {
  it('learns, and the buffer pool stays flat across steps', async () => {
    const ctx = gpu();
    const mnist = await loadMnistFromDirectory();
    const random = new Random(1);
    const [batch, hidden, trainCount, testCount] = [64, 64, 3000, 1000];
    const w1 = Tensor.from(ctx, heNormal(random, 784, hidden), [784, hidden]);
    const b1 = Tensor.from(ctx, new Float32Array(hidden), [hidden]);
    const w2 = Tensor.from(ctx, glorotUniform(random, hidden, 10), [hidden, 10]);
    const b2 = Tensor.from(ctx, new Float32Array(10), [10]);
    const model = <T extends Parameters<typeof linear>[0]>(x: T) => linear(linear(x, w1, b1, { relu: true }), w2, b2);

    const train = new Graph(ctx);
    const loss = softmaxCrossEntropy(model(train.input('x', [batch, 784])), train.input('y', [batch], 'u32'));
    const optimizer = new Adam({ learningRate: 2e-3 });
    optimizer.minimize(loss, [w1, b1, w2, b2]);
    const trainPlan = compile(train, { fetch: [loss] });

    const evaluate = new Graph(ctx);
    const correct = sum(argmaxCorrect(model(evaluate.input('x', [testCount, 784])), evaluate.input('y', [testCount], 'u32'))[1]);
    const evalPlan = compile(evaluate, { fetch: [correct] });

    const order = Uint32Array.from({ length: trainCount }, (_, i) => i);
    const xs = new Float32Array(batch * 784);
    const ys = new Uint32Array(batch);
    let poolBytesAfterFirstEpoch = 0;
    const losses: number[] = [];
    for (let epoch = 0; epoch < 4; epoch++) {
      random.shuffle(order);
      for (let s = 0; s + batch <= trainCount; s += batch) {
        for (let i = 0; i < batch; i++) {
          const j = order[s + i]!;
          xs.set(mnist.train.images.subarray(j * 784, (j + 1) * 784), i * 784);
          ys[i] = mnist.train.labels[j]!;
        }
        trainPlan.run({ x: xs, y: ys });
      }
      losses.push((await trainPlan.read(loss))[0]!);
      if (epoch === 0) poolBytesAfterFirstEpoch = ctx.pool.bytesAllocated;
    }
    // Steps and readbacks reuse their buffers: nothing new is allocated after the first epoch.
    expect(ctx.pool.bytesAllocated).toBe(poolBytesAfterFirstEpoch);
    evalPlan.run({ x: mnist.test.images.subarray(0, testCount * 784), y: mnist.test.labels.subarray(0, testCount) });
    const accuracy = (await evalPlan.read(correct))[0]! / testCount;
    expect(losses.at(-1)!).toBeLessThan(losses[0]! + 0.1);
    expect(accuracy).toBeGreaterThanOrEqual(0.88);
  });
});
