// The trainer on a small real MNIST subset: learning, per-epoch validation, early stopping
// that restores the best weights, and resume from a checkpoint giving identical weights.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, Conv2d, decodeSafetensors, Dense, Dropout, encodeSafetensors, fileCheckpoint, fit, Flatten, loadMnistFromDirectory, MaxPool2d, type Mnist, ReLU, sequential, softmaxCrossEntropy, subset, type SymbolicTensor, train, evaluate } from '../../src/index.js';
import { useGpu, withoutFeature } from '../support/gpu.js';

const gpu = useGpu();
let mnist: Mnist;
let dir: string;
beforeAll(async () => {
  mnist = await loadMnistFromDirectory();
  dir = mkdtempSync(join(tmpdir(), 'kdgpu-train-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mlp = () => sequential([new Flatten(), new Dense(32), new ReLU(), new Dropout(0.2), new Dense(10)], { name: 'mlp' });

async function weights(model: ReturnType<typeof mlp>): Promise<number[]> {
  const out: number[] = [];
  for (const t of model.state().values()) out.push(...(await t.read()));
  return out;
}

describe('train', () => {
  it('learns a subset, validates each epoch and reports progress', async () => {
    const model = mlp().build(gpu(), [1, 28, 28], { seed: 1 });
    const steps: number[] = [];
    const result = await train(model, subset(mnist.train, 0, 1024), {
      epochs: 3,
      batchSize: 64,
      optimizer: new Adam({ learningRate: 3e-3 }),
      seed: 1,
      augment: { maxShift: 1 },
      validation: subset(mnist.test, 0, 600),
      onStep: (p) => steps.push(p.step),
      logEvery: 5,
    });
    expect(result.history).toHaveLength(3);
    // 16 steps per epoch, logged at 5, 10, 15 and 16; the curve's mean equals the epoch's.
    const curve = result.history[1]!.curve!;
    expect(curve.map((c) => c.step)).toEqual([21, 26, 31, 32]);
    const weighted = (curve[0]!.loss * 5 + curve[1]!.loss * 5 + curve[2]!.loss * 5 + curve[3]!.loss) / 16;
    expect(weighted).toBeCloseTo(result.history[1]!.loss, 5);
    expect(steps).toHaveLength(3 * 16);
    expect(result.history[2]!.loss).toBeLessThan(result.history[0]!.loss);
    expect(result.history[2]!.validation!.accuracy).toBeGreaterThan(0.75);
    const check = await evaluate(model, subset(mnist.test, 0, 600));
    expect(check.accuracy).toBeCloseTo(result.history[2]!.validation!.accuracy, 6);
    model.dispose();
  });

  it('resuming from a checkpoint gives the same weights as an uninterrupted run', async () => {
    const data = subset(mnist.train, 0, 512);
    const options = { batchSize: 64, seed: 3, augment: { maxShift: 2 } };
    const straight = mlp().build(gpu(), [1, 28, 28], { seed: 2 });
    await train(straight, data, { ...options, epochs: 3, optimizer: new Adam({ learningRate: (t) => 2e-3 / Math.sqrt(t) }) });

    const store = fileCheckpoint(join(dir, 'resume'));
    const interrupted = mlp().build(gpu(), [1, 28, 28], { seed: 2 });
    await train(interrupted, data, { ...options, epochs: 2, optimizer: new Adam({ learningRate: (t) => 2e-3 / Math.sqrt(t) }), checkpoint: store });
    interrupted.dispose();

    const resumed = mlp().build(gpu(), [1, 28, 28], { seed: 99 }); // different init: the checkpoint must overwrite it
    const result = await train(resumed, data, { ...options, epochs: 3, optimizer: new Adam({ learningRate: (t) => 2e-3 / Math.sqrt(t) }), checkpoint: store });
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(await weights(resumed)).toEqual(await weights(straight));
    straight.dispose();
    resumed.dispose();
  });

  it("a checkpoint with damaged counters is refused, naming the file, before any weight is written", async () => {
    const data = subset(mnist.train, 0, 128);
    const options = { batchSize: 64, seed: 3, epochs: 1, optimizer: new Adam({ learningRate: 1e-3 }) };
    const store = fileCheckpoint(join(dir, 'damaged'));
    const trained = mlp().build(gpu(), [1, 28, 28], { seed: 2 });
    await train(trained, data, { ...options, checkpoint: store });
    trained.dispose();
    // Rewrite the file with the same tensors and a counter that cannot be right.
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(store.path)), store.path);
    const counters = JSON.parse(metadata['kdgpu.training']!);
    writeFileSync(store.path, encodeSafetensors(new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }])), { 'kdgpu.training': JSON.stringify({ ...counters, epoch: -1 }) }));
    const fresh = mlp().build(gpu(), [1, 28, 28], { seed: 5 });
    const before = await weights(fresh);
    await expect(train(fresh, data, { ...options, epochs: 2, checkpoint: store })).rejects.toThrow(`${store.path}: the checkpoint's 'epoch' is -1, not a non-negative integer; the file is damaged`);
    expect(await weights(fresh)).toEqual(before);
    fresh.dispose();
  });

  it('early stopping stops on a plateau and restores the best epoch', async () => {
    const model = mlp().build(gpu(), [1, 28, 28], { seed: 4 });
    // A huge learning rate makes validation accuracy fall after the first epoch.
    const result = await train(model, subset(mnist.train, 0, 512), {
      epochs: 8,
      batchSize: 64,
      optimizer: new Adam({ learningRate: (t) => (t <= 8 ? 3e-3 : 0.5) }),
      seed: 1,
      validation: subset(mnist.test, 0, 500),
      earlyStopping: { patience: 2 },
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.history.length).toBeLessThan(8);
    const best = result.history[result.bestEpoch - 1]!.validation!.accuracy;
    expect(Math.max(...result.history.map((h) => h.validation!.accuracy))).toBe(best);
    expect((await evaluate(model, subset(mnist.test, 0, 500))).accuracy).toBeCloseTo(best, 6);
    model.dispose();
  });

  it('rejects bad options clearly', async () => {
    const model = mlp().build(gpu(), [1, 28, 28]);
    await expect(train(model, subset(mnist.train, 0, 10), { epochs: 1, batchSize: 64, optimizer: new Adam() })).rejects.toThrow('10 training images make no full batch of 64');
    await expect(train(model, subset(mnist.train, 0, 100), { epochs: 0, batchSize: 8, optimizer: new Adam() })).rejects.toThrow('epochs must be a positive integer, got 0');
    model.dispose();
  });
});

// Mixed precision (FitOptions.precision 'f16'): Dense layers with f16 operands, f32 master
// weights and Adam state, dynamic loss scaling. Margin: the f16 run's validation accuracy
// within 3 points of the f32 run's (same seed, data, order and dropout masks; 600 test
// images, so 3 points is 18 images; measured on lavapipe: 81.8 % f32, 81.5 % f16).
describe("train with precision 'f16'", () => {
  const options = (precision: 'f32' | 'f16') => ({
    epochs: 3,
    batchSize: 64,
    optimizer: new Adam({ learningRate: 3e-3 }),
    seed: 1,
    validation: subset(mnist.test, 0, 600),
    precision,
  });

  it('reaches the accuracy of f32 training within 3 points, reporting S and no skipped steps', async () => {
    const ctx = gpu();
    if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
    const data = subset(mnist.train, 0, 1024);
    const full = mlp().build(ctx, [1, 28, 28], { seed: 1 });
    const reference = await train(full, data, options('f32'));
    const mixed = mlp().build(ctx, [1, 28, 28], { seed: 1 });
    const result = await train(mixed, data, options('f16'));
    const [a32, a16] = [reference.history[2]!.validation!.accuracy, result.history[2]!.validation!.accuracy];
    console.log(`validation accuracy after 3 epochs: f32 ${a32}, f16 ${a16}`);
    expect(a16).toBeGreaterThan(0.75);
    expect(Math.abs(a16 - a32)).toBeLessThanOrEqual(0.03);
    expect(reference.history[0]!.lossScale).toBeUndefined();
    expect(result.history.map((h) => h.lossScale)).toEqual([1, 2, 3].map(() => ({ scale: 2 ** 15, skippedSteps: 0 })));
    for (const t of mixed.state().values()) expect(t.dtype).toBe('f32');
    full.dispose();
    mixed.dispose();
  });

  it('a CNN (Conv2d and Dense in f16) reaches the accuracy of f32 training within 3 points', async () => {
    const ctx = gpu();
    if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
    const cnn = () => sequential([new Conv2d(8, { kernel: 3 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Dense(10)], { name: 'cnn' });
    const data = subset(mnist.train, 0, 1024);
    const accuracy: Record<string, number> = {};
    for (const precision of ['f32', 'f16'] as const) {
      const model = cnn().build(ctx, [1, 28, 28], { seed: 1 });
      const result = await train(model, data, { ...options(precision), epochs: 2 });
      accuracy[precision] = result.history[1]!.validation!.accuracy;
      model.dispose();
    }
    // Measured on lavapipe: 82.0 % f32, 82.0 % f16.
    console.log(`CNN validation accuracy after 2 epochs: f32 ${accuracy.f32}, f16 ${accuracy.f16}`);
    expect(accuracy.f16!).toBeGreaterThan(0.75);
    expect(Math.abs(accuracy.f16! - accuracy.f32!)).toBeLessThanOrEqual(0.03);
  });

  it('backs off from a scale that overflows: skips those steps, halves S, and still learns', async () => {
    const ctx = gpu();
    if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
    // |d loss / d logits| ≤ 1/64 per element, so S = 2^24 makes f16 gradients of up to 2^18:
    // the first steps overflow until S is small enough (2^21 or below).
    const model = mlp().build(ctx, [1, 28, 28], { seed: 1 });
    const result = await train(model, subset(mnist.train, 0, 1024), { ...options('f16'), lossScale: { initialScale: 2 ** 24, growthInterval: 1000 } });
    const first = result.history[0]!.lossScale!;
    console.log(`loss scale per epoch: ${JSON.stringify(result.history.map((h) => h.lossScale))}, accuracy ${result.history[2]!.validation!.accuracy}`);
    expect(first.skippedSteps).toBeGreaterThanOrEqual(3);
    expect(first.scale).toBe(2 ** 24 / 2 ** first.skippedSteps);
    expect(first.scale).toBeLessThanOrEqual(2 ** 21);
    expect(result.history[2]!.validation!.accuracy).toBeGreaterThan(0.75);
    model.dispose();
  });

  it('checkpoints the loss scale with the weights: a resumed run continues with the same S and weights', async () => {
    const ctx = gpu();
    if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
    const data = subset(mnist.train, 0, 256);
    const run = { batchSize: 64, seed: 3, precision: 'f16' as const, lossScale: { initialScale: 2 ** 24, growthInterval: 3 } };
    const straight = mlp().build(ctx, [1, 28, 28], { seed: 2 });
    const whole = await train(straight, data, { ...run, epochs: 3, optimizer: new Adam({ learningRate: 1e-3 }) });
    const store = fileCheckpoint(join(dir, 'f16-resume'));
    const interrupted = mlp().build(ctx, [1, 28, 28], { seed: 2 });
    await train(interrupted, data, { ...run, epochs: 2, optimizer: new Adam({ learningRate: 1e-3 }), checkpoint: store });
    interrupted.dispose();
    const resumed = mlp().build(ctx, [1, 28, 28], { seed: 9 });
    const result = await train(resumed, data, { ...run, epochs: 3, optimizer: new Adam({ learningRate: 1e-3 }), checkpoint: store });
    expect(result.history.map((h) => h.lossScale)).toEqual(whole.history.map((h) => h.lossScale));
    expect(await weights(resumed)).toEqual(await weights(straight));
    straight.dispose();
    resumed.dispose();
  });

  it('refuses f16 without shader-f16, and an objective that builds nothing in f16, saying what to do', async () => {
    const ctx = gpu();
    const data = subset(mnist.train, 0, 64);
    const model = mlp().build(ctx, [1, 28, 28]);
    const f32Objective = { parameters: [...model.parameters().values()], build: (x: SymbolicTensor, y: SymbolicTensor) => {
      const logits = model.call(x, { training: true });
      return { loss: softmaxCrossEntropy(logits, y), logits };
    } };
    if (ctx.hasF16) {
      await expect(fit(model, data, f32Objective, { ...options('f16'), epochs: 1, validation: undefined })).rejects.toThrow(
        /fit: precision 'f16' was asked for, but this objective built no f16 operation .*; use precision 'f32' for this model or objective/,
      );
    }
    await expect(train(model, data, { ...options('f32'), lossScale: { initialScale: 2 } })).rejects.toThrow(/lossScale is for precision 'f16'/);
    model.dispose();
    const other = mlp().build(ctx, [1, 28, 28]);
    await withoutFeature(ctx, 'shader-f16', () =>
      expect(train(other, data, { ...options('f16'), validation: undefined })).rejects.toThrow(
        /fit with precision 'f16' needs the WebGPU feature 'shader-f16', which this device does not have .*; use f32 instead/,
      ),
    );
    other.dispose();
  });
});
