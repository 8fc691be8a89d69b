// Layers and Sequential: names, seeded init, taps, ReLU fusion, shape errors, saved names.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/index.js';
import { Flatten, ReLU, Dropout } from '../../src/nn/basic.js';
import { BatchNorm } from '../../src/nn/batch-norm.js';
import { Conv2d } from '../../src/nn/conv2d.js';
import { Dense } from '../../src/nn/dense.js';
import { MaxPool2d } from '../../src/nn/pooling.js';
import { sequential } from '../../src/nn/sequential.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';
import { Random } from '../../src/nn/random.js';

const gpu = useGpu();

const seedCnn = () => sequential([new Conv2d(4), new ReLU(), new MaxPool2d(2), new Flatten(), new Dense(8), new ReLU(), new Dense(3)], { name: 'cnn' });

describe('Sequential', () => {
  it("a disposed model says 'disposed', not 'not built'", () => {
    const model = seedCnn().build(gpu(), [1, 10, 10], { seed: 1 });
    model.dispose();
    expect(() => model.inputShape).toThrow("model 'cnn' was disposed; build a new one");
    expect(() => seedCnn().inputShape).toThrow("model 'cnn' is not built");
  });

  it('names layers, shapes them, and names parameters like PyTorch', () => {
    const model = seedCnn().build(gpu(), [1, 10, 10], { seed: 1 });
    expect(model.layers.map((l) => l.name)).toEqual(['conv1', 'relu1', 'maxpool1', 'flatten1', 'dense1', 'relu2', 'dense2']);
    expect(model.shapeOf('maxpool1')).toEqual([4, 4, 4]);
    expect(model.outputShape).toEqual([3]);
    expect([...model.parameters().keys()]).toEqual(['conv1.weight', 'conv1.bias', 'dense1.weight', 'dense1.bias', 'dense2.weight', 'dense2.bias']);
    expect(model.parameterCount).toBe(4 * 9 + 4 + 64 * 8 + 8 + 8 * 3 + 3);
    expect(model.summary()).toContain('total parameters: 587');
    model.dispose();
  });

  it('same seed gives the same weights; another seed does not', async () => {
    const a = seedCnn().build(gpu(), [1, 10, 10], { seed: 7 });
    const b = seedCnn().build(gpu(), [1, 10, 10], { seed: 7 });
    const c = seedCnn().build(gpu(), [1, 10, 10], { seed: 8 });
    const wa = await a.parameters().get('dense1.weight')!.read();
    expect(Array.from(await b.parameters().get('dense1.weight')!.read())).toEqual(Array.from(wa));
    expect(Array.from(await c.parameters().get('dense1.weight')!.read())).not.toEqual(Array.from(wa));
    for (const m of [a, b, c]) m.dispose();
  });

  it('fused Dense+ReLU equals the unfused pair, and taps return named features', async () => {
    const ctx = gpu();
    const model = sequential([new Dense(5), new ReLU(), new Dense(2)]).build(ctx, [6], { seed: 3 });
    const x = Tensor.from(ctx, randomArray(new Random(1), 4 * 6), [4, 6]);
    const fused = model.forward(x, { training: false, taps: ['relu1'] });
    const unfused = model.forward(x, { training: false, taps: ['dense1'] }); // tapping dense1 disables fusion
    expectClose(await fused.output.read(), await unfused.output.read(), { atol: 1e-6, rtol: 1e-6 }, 'output');
    const pre = await unfused.features.dense1!.read();
    expectClose(await fused.features.relu1!.read(), Array.from(pre, (v) => Math.max(v, 0)), { atol: 1e-6, rtol: 1e-6 }, 'tap');
    model.dispose();
  });

  it('fails clearly on a wrong tap name, a wrong input shape, duplicate names and an unbuilt model', () => {
    const ctx = gpu();
    const model = seedCnn().build(ctx, [1, 10, 10]);
    const x = Tensor.from(ctx, new Float32Array(2 * 100).fill(0.5), [2, 1, 10, 10]);
    expect(() => model.forward(x, { training: false, taps: ['conv3'] })).toThrow(
      "model 'cnn' has no layer named 'conv3' (layers: conv1, relu1, maxpool1, flatten1, dense1, relu2, dense2)",
    );
    const wrong = Tensor.from(ctx, new Float32Array(2 * 81).fill(0.5), [2, 1, 9, 9]);
    expect(() => model.call(wrong, { training: false })).toThrow("model 'cnn' expects input [batch, 1, 10, 10], got [2, 1, 9, 9]");
    expect(() => sequential([new Dense(2, { name: 'a' }), new Dense(2, { name: 'a' })])).toThrow("two layers are named 'a'");
    expect(() => sequential([new Dense(2)]).call(x, { training: false })).toThrow('is not built');
    expect(() => sequential([new Dense(2)]).build(ctx, [1, 10, 10])).toThrow("Dense 'dense1' expects flat features per sample, got [1, 10, 10]; put a Flatten before it");
    model.dispose();
  });

  it('batch norm exposes running statistics as state; dropout is the identity in evaluation', async () => {
    const ctx = gpu();
    const model = sequential([new Dense(4), new BatchNorm(), new ReLU(), new Dropout(0.5), new Dense(2)]).build(ctx, [3]);
    expect([...model.state().keys()]).toEqual(['dense1.weight', 'dense1.bias', 'bn1.weight', 'bn1.bias', 'dense2.weight', 'dense2.bias', 'bn1.running_mean', 'bn1.running_var']);
    const x = Tensor.from(ctx, randomArray(new Random(2), 8 * 3), [8, 3]);
    const a = await model.call(x, { training: false }).read();
    const b = await model.call(x, { training: false }).read();
    expect(Array.from(a)).toEqual(Array.from(b));
    model.dispose();
  });
});
