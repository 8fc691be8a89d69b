// Fast adversarial training (FGSM with a random start, src/robust/fast-adversarial.ts) with
// its catastrophic-overfitting check, and TRADES, on small real MNIST problems: both train and
// give models more robust under PGD (L∞, ε = 0.1) than plain training of the same seed
// (margins of 0.3 or more here; asserted: 0.15); the check's revert restores the weights of
// the epoch before, bit for bit; ARD takes TRADES' inner attack; bad options are refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam, ardDistill, Dense, fileCheckpoint, rsladDistill, Flatten, loadMnistFromDirectory, ReLU, sequential, subset, train } from '../../src/index.js';
import { attackDataset } from '../../src/robust/attacks.js';
import { fastAdversarialTrain, tradesTrain } from '../../src/robust/fast-adversarial.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();
const EPSILON = 0.1;
const mlp = (name: string) => sequential([new Flatten(), new Dense(128), new ReLU(), new Dense(10)], { name });
const common = { epochs: 3, batchSize: 32, seed: 2 };
let data: ReturnType<typeof subset>;
let test: ReturnType<typeof subset>;
let plainPgd: number;

const pgdAccuracy = async (model: ReturnType<typeof mlp>) => (await attackDataset(model, test, { kind: 'pgd', epsilon: EPSILON, steps: 10, adversarial: false })).accuracy;

beforeAll(async () => {
  const mnist = await loadMnistFromDirectory();
  data = subset(mnist.train, 0, 1024);
  test = subset(mnist.test, 0, 200);
  const plain = mlp('plain').build(gpu(), [1, 28, 28], { seed: 1 });
  await train(plain, data, { ...common, optimizer: new Adam({ learningRate: 2e-3 }) });
  plainPgd = await pgdAccuracy(plain);
  plain.dispose();
}, 90_000);

describe('fast adversarial training and TRADES', () => {
  it('FGSM-RS trains a model more robust than plain training, and checks PGD accuracy every epoch', async () => {
    const model = mlp('fast').build(gpu(), [1, 28, 28], { seed: 1 });
    const result = await fastAdversarialTrain(model, data, { ...common, epsilon: EPSILON, optimizer: new Adam({ learningRate: 2e-3 }) });
    expect(result.catastrophicOverfitting).toBeUndefined();
    expect(result.checkAccuracy).toHaveLength(3);
    expect(result.history.at(-1)!.loss).toBeLessThan(result.history[0]!.loss);
    expect(await pgdAccuracy(model)).toBeGreaterThan(plainPgd + 0.15);
    model.dispose();
  });

  it('the overfitting check reverts the epoch it flags: the weights are those of the epoch before, bit for bit', async () => {
    // maxDrop −1 flags every epoch after the first (any accuracy is below best + 1).
    const flagged = mlp('flagged').build(gpu(), [1, 28, 28], { seed: 4 });
    const result = await fastAdversarialTrain(flagged, data, { ...common, epsilon: EPSILON, optimizer: new Adam({ learningRate: 2e-3 }), overfittingCheck: { maxDrop: -1, images: 100 } });
    expect(result.revertedEpoch).toBe(2);
    expect(result.bestEpoch).toBe(1);
    expect(result.history).toHaveLength(2);
    expect(result.catastrophicOverfitting!.message).toMatch(/^catastrophic overfitting in epoch 2: PGD-10 accuracy \(ε = 0.1\) on 100 training images fell from .* training stopped with the weights of epoch 1/);
    const reference = mlp('reference').build(gpu(), [1, 28, 28], { seed: 4 });
    await fastAdversarialTrain(reference, data, { ...common, epochs: 1, epsilon: EPSILON, optimizer: new Adam({ learningRate: 2e-3 }), overfittingCheck: false });
    const read = async (m: typeof flagged) => Promise.all([...m.state().values()].map((t) => t.read()));
    expect(await read(flagged)).toEqual(await read(reference));
    flagged.dispose();
    reference.dispose();
  });

  it('a resumed run keeps the check history (in the epochs\' stats) and judges the next epoch against it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdgpu-fast-at-'));
    const options = (epochs: number) => ({ ...common, epochs, epsilon: EPSILON, optimizer: new Adam({ learningRate: 2e-3 }), checkpoint: fileCheckpoint(dir), overfittingCheck: { images: 100 } });
    const first = mlp('resumed').build(gpu(), [1, 28, 28], { seed: 5 });
    const one = await fastAdversarialTrain(first, data, options(1));
    first.dispose();
    const again = mlp('resumed').build(gpu(), [1, 28, 28], { seed: 5 });
    const two = await fastAdversarialTrain(again, data, options(2));
    expect(one.checkAccuracy).toHaveLength(1);
    expect(two.checkAccuracy).toHaveLength(2);
    expect(two.checkAccuracy[0]).toBe(one.checkAccuracy[0]);
    expect(two.history[0]!.checks!.overfittingCheckPgd).toBe(one.checkAccuracy[0]);
    // maxDrop −1 flags any epoch with an earlier one to compare with: after the resume there is one.
    const flagged = mlp('resumed').build(gpu(), [1, 28, 28], { seed: 5 });
    const three = await fastAdversarialTrain(flagged, data, { ...options(3), overfittingCheck: { images: 100, maxDrop: -1 } });
    expect(three.revertedEpoch).toBe(3);
    expect(three.checkAccuracy).toHaveLength(3);
    for (const m of [again, flagged]) m.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('TRADES trains (CE and β·KL reported) a model more robust than plain training', async () => {
    const model = mlp('trades').build(gpu(), [1, 28, 28], { seed: 1 });
    const result = await tradesTrain(model, data, { ...common, attack: { epsilon: EPSILON, steps: 5 }, beta: 6, optimizer: new Adam({ learningRate: 2e-3 }) });
    expect(Object.keys(result.history[0]!.parts)).toEqual(['ce', 'kl']);
    expect(result.history.at(-1)!.loss).toBeLessThan(result.history[0]!.loss);
    expect(await pgdAccuracy(model)).toBeGreaterThan(plainPgd + 0.15);
    model.dispose();
  });

  it("ARD and RSLAD take TRADES' inner attack (attackLoss 'trades'), and bad options are refused", async () => {
    const teacher = mlp('teacher').build(gpu(), [1, 28, 28], { seed: 1 });
    await tradesTrain(teacher, data, { ...common, epochs: 1, attack: { epsilon: EPSILON, steps: 3 }, optimizer: new Adam({ learningRate: 2e-3 }) });
    const student = mlp('student').build(gpu(), [1, 28, 28], { seed: 5 });
    const result = await ardDistill(student, data, { ...common, epochs: 1, teacher, attack: { epsilon: EPSILON, steps: 3 }, attackLoss: 'trades', optimizer: new Adam({ learningRate: 2e-3 }) });
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
    const rslad = await rsladDistill(student, data, { ...common, epochs: 1, teacher, attack: { epsilon: EPSILON, steps: 1, stepSize: 1.25 * EPSILON }, attackLoss: 'trades', optimizer: new Adam({ learningRate: 2e-3 }) });
    expect(Number.isFinite(rslad.history[0]!.loss)).toBe(true); // FGSM-RS with TRADES' KL as RSLAD's inner attack
    await expect(tradesTrain(student, data, { ...common, attack: { epsilon: EPSILON }, beta: -1, optimizer: new Adam() })).rejects.toThrow('trades: beta must be a finite number ≥ 0, got -1');
    await expect(fastAdversarialTrain(student, data, { ...common, epsilon: EPSILON, optimizer: new Adam(), overfittingCheck: { maxDrop: 2 } })).rejects.toThrow('overfittingCheck.maxDrop must be in [-1, 1], got 2');
    await expect(ardDistill(student, data, { ...common, teacher, attack: { epsilon: EPSILON }, attackLoss: 'pgd' as never, optimizer: new Adam() })).rejects.toThrow("ard: attackLoss must be 'ce', 'kl' or 'trades', got 'pgd'");
    await expect(rsladDistill(student, data, { ...common, teacher, attack: { epsilon: EPSILON }, attackLoss: 'ce' as never, optimizer: new Adam() })).rejects.toThrow("rslad: attackLoss must be 'kl' or 'trades', got 'ce'");
    teacher.dispose();
    student.dispose();
  });
});
