// Attacks on the GPU (src/robust/attacker.ts, attacks.ts, attack-sanity.ts): FGSM on linear
// models checked against float64 convexity bounds, the attack's input gradient by finite
// differences, PGD ≤ FGSM ≤ clean and unbounded ε → ~0% on a small model trained on real
// MNIST, determinism, restarts, and the sanity checks flagging a gradient-masked model.
// Tolerances: linear-model bounds 1e-4 (f32 logits of 784-pixel dot products); finite
// differences atol 1e-2 + rtol 1e-2 (f32, see support/finite-difference.ts); ball radii
// 1e-5 relative.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam,
  compile,
  Conv2d,
  Dense,
  evaluate,
  Flatten,
  Graph,
  loadMnistFromDirectory,
  MaxPool2d,
  type Mnist,
  Random,
  ReLU,
  type Sequential,
  sequential,
  subset,
  sum,
  Tensor,
  train,
} from '../../src/index.js';
import { attackDataset, robustAccuracyCurve } from '../../src/robust/attacks.js';
import { type AttackLoss, attackLossPerRow, traceAttackStep } from '../../src/robust/attacker.js';
import { sanityFlags } from '../../src/robust/attack-sanity.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(31);
let mnist: Mnist;
let model: Sequential;
let test: ReturnType<typeof subset>;
const mlp = (name: string) => sequential([new Flatten(), new Dense(64), new ReLU(), new Dense(10)], { name });

beforeAll(async () => {
  mnist = await loadMnistFromDirectory();
  model = mlp('small').build(gpu(), [1, 28, 28], { seed: 1 });
  await train(model, subset(mnist.train, 0, 512), { epochs: 4, batchSize: 32, optimizer: new Adam({ learningRate: 3e-3 }), seed: 1 });
  test = subset(mnist.test, 0, 200);
}, 60_000);

/** One raw FGSM step (the attacker's own step plan, no keep-best) on a batch of images. */
async function fgsmStep(m: Sequential, images: Float32Array, labels: Uint32Array, epsilon: number, loss: AttackLoss): Promise<Float32Array> {
  const ctx = gpu();
  const shape = [labels.length, ...m.inputShape];
  const [x, xAdv] = [Tensor.from(ctx, images, shape), Tensor.from(ctx, images, shape)];
  const graph = new Graph(ctx);
  const y = graph.bind(Tensor.from(ctx, labels, [labels.length]));
  traceAttackStep(m, graph.bind(xAdv), graph.bind(x), graph.bind(Tensor.from(ctx, [epsilon, epsilon], [2])), 'linf', (z) => sum(attackLossPerRow(loss, z, y)));
  compile(graph).run();
  const out = (await xAdv.read()) as Float32Array;
  graph.dispose();
  return out;
}

/** Float64 logits of a one-layer model: z = x·W + b, W [in, classes]. */
function linearLogits(w: Float32Array, b: Float32Array, x: Float32Array, inputs: number): Float64Array[] {
  const classes = b.length;
  const rows = x.length / inputs;
  return Array.from({ length: rows }, (_, r) => {
    const z = Float64Array.from(b);
    for (let i = 0; i < inputs; i++) for (let c = 0; c < classes; c++) z[c]! += x[r * inputs + i]! * w[i * classes + c]!;
    return z;
  });
}

const runnerUp = (z: Float64Array, y: number) => z.reduce((best, v, c) => (c !== y && (best < 0 || v > z[best]!) ? c : best), -1);
const weightGapL1 = (w: Float32Array, classes: number, inputs: number, a: number, b: number) => {
  let s = 0;
  for (let i = 0; i < inputs; i++) s += Math.abs(w[i * classes + a]! - w[i * classes + b]!);
  return s;
};

describe('FGSM on a linear model (inputs in [0.3, 0.7], ε ≤ 0.1: no clipping)', () => {
  const inputs = 784;
  const rows = 16;

  for (const epsilon of [0.02, 0.1]) {
    it(`margin loss, 10 classes, ε = ${epsilon}: the CW margin rises by at least ε·‖w_j − w_y‖₁ (correct-class margin never grows)`, async () => {
      const linear = sequential([new Flatten(), new Dense(10)], { name: 'linear10' }).build(gpu(), [1, 28, 28], { seed: 4 });
      const [w, b] = (await Promise.all([...linear.parameters().values()].map((t) => t.read()))) as Float32Array[];
      b!.set(randomArray(random, 10, -0.5, 0.5));
      [...linear.parameters().values()][1]!.write(b!);
      const x = randomArray(random, rows * inputs, 0.3, 0.7);
      const y = Uint32Array.from({ length: rows }, () => Math.floor(random.uniform() * 10));
      const adv = await fgsmStep(linear, x, y, epsilon, 'margin');
      const [before, after] = [linearLogits(w!, b!, x, inputs), linearLogits(w!, b!, adv, inputs)];
      for (let r = 0; r < rows; r++) {
        const label = y[r]!;
        const j = runnerUp(before[r]!, label);
        const marginBefore = before[r]![j]! - before[r]![label]!;
        const marginAfter = after[r]![runnerUp(after[r]!, label)]! - after[r]![label]!;
        expect(marginAfter).toBeGreaterThanOrEqual(marginBefore + epsilon * weightGapL1(w!, 10, inputs, j, label) - 1e-4);
      }
      let worst = 0;
      adv.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - x[i]!))));
      expect(worst).toBeLessThanOrEqual(epsilon * (1 + 1e-5));
      linear.dispose();
    });
  }

  it('cross-entropy, 2 classes: the correct-class margin falls by exactly ε·‖w_1 − w_0‖₁', async () => {
    const epsilon = 0.05;
    const linear = sequential([new Flatten(), new Dense(2)], { name: 'linear2' }).build(gpu(), [1, 28, 28], { seed: 5 });
    const [w, b] = (await Promise.all([...linear.parameters().values()].map((t) => t.read()))) as Float32Array[];
    const x = randomArray(random, rows * inputs, 0.3, 0.7);
    const y = Uint32Array.from({ length: rows }, (_, r) => r % 2);
    const adv = await fgsmStep(linear, x, y, epsilon, 'ce');
    const [before, after] = [linearLogits(w!, b!, x, inputs), linearLogits(w!, b!, adv, inputs)];
    const drop = epsilon * weightGapL1(w!, 2, inputs, 0, 1);
    for (let r = 0; r < rows; r++) {
      const margin = (z: Float64Array) => z[y[r]!]! - z[1 - y[r]!]!;
      expect(margin(after[r]!)).toBeCloseTo(margin(before[r]!) - drop, 3);
    }
    linear.dispose();
  });
});

describe('PGD on a small MNIST model', () => {
  for (const loss of ['ce', 'margin'] as const) {
    it(`the ${loss} attack's input gradient matches finite differences`, async () => {
      const x = randomArray(random, 3 * 784, 0.05, 0.95);
      const y = new Uint32Array([3, 7, 1]);
      await checkGradients(gpu(), ([images, labels]) => attackLossPerRow(loss, model.call(images!, { training: false }), labels!), [
        { name: 'images', shape: [3, 1, 28, 28], data: x },
        { name: 'labels', shape: [3], data: y, differentiable: false },
      ], { samples: 10 });
    });
  }

  it('the input gradient through a small CNN (conv, ReLU, max-pool) matches finite differences', async () => {
    const cnn = sequential([new Conv2d(4, { kernel: 3 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Dense(10)], { name: 'cnn' }).build(gpu(), [1, 10, 10], { seed: 2 });
    await checkGradients(gpu(), ([images, labels]) => attackLossPerRow('margin', cnn.call(images!, { training: false }), labels!), [
      { name: 'images', shape: [2, 1, 10, 10], data: randomArray(random, 200, 0.05, 0.95) },
      { name: 'labels', shape: [2], data: new Uint32Array([4, 9]), differentiable: false },
    ], { samples: 10 });
    cnn.dispose();
  });

  it('PGD ≤ FGSM ≤ clean accuracy (L∞, ε = 0.1), and adversarial images stay in the ball and in [0, 1]', async () => {
    const clean = (await evaluate(model, test)).accuracy;
    const fgsm = await attackDataset(model, test, { kind: 'fgsm', epsilon: 0.1 });
    const pgd = await attackDataset(model, test, { kind: 'pgd', epsilon: 0.1, steps: 10 });
    expect(clean).toBeGreaterThan(0.8);
    expect(fgsm.accuracy).toBeLessThanOrEqual(clean);
    expect(pgd.accuracy).toBeLessThanOrEqual(fgsm.accuracy);
    expect(pgd.accuracy).toBeLessThan(clean - 0.2);
    for (const result of [fgsm, pgd]) {
      const adv = result.adversarial!;
      let [lo, hi, worst] = [Infinity, -Infinity, 0];
      adv.forEach((v, i) => {
        [lo, hi, worst] = [Math.min(lo, v), Math.max(hi, v), Math.max(worst, Math.abs(v - test.images[i]!))];
      });
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(worst).toBeLessThanOrEqual(0.1 * (1 + 1e-5));
    }
  });

  it('L2 PGD with the margin loss: stronger than one L2 step, images inside the L2 ball', async () => {
    const epsilon = 1.5;
    const fgm = await attackDataset(model, test, { kind: 'fgsm', norm: 'l2', epsilon, loss: 'margin' });
    const pgd = await attackDataset(model, test, { kind: 'pgd', norm: 'l2', epsilon, steps: 10, loss: 'margin' });
    expect(pgd.accuracy).toBeLessThanOrEqual(fgm.accuracy);
    for (let k = 0; k < test.count; k++) {
      let d2 = 0;
      for (let i = k * 784; i < (k + 1) * 784; i++) d2 += (pgd.adversarial![i]! - test.images[i]!) ** 2;
      expect(Math.sqrt(d2)).toBeLessThanOrEqual(epsilon * (1 + 1e-5));
    }
  });

  it('an unbounded ε drives accuracy to ~0 (L∞ ε = 1, L2 ε = 28)', async () => {
    const few = subset(test, 0, 100);
    expect((await attackDataset(model, few, { kind: 'pgd', epsilon: 1, steps: 10, adversarial: false })).accuracy).toBeLessThanOrEqual(0.02);
    expect((await attackDataset(model, few, { kind: 'pgd', norm: 'l2', epsilon: 28, steps: 10, loss: 'margin', adversarial: false })).accuracy).toBeLessThanOrEqual(0.02);
  });

  it('is deterministic for a seed; more restarts never weaken the attack', async () => {
    const few = subset(test, 0, 100);
    const spec = { kind: 'pgd', epsilon: 0.06, steps: 5, batchSize: 50 } as const;
    const a = await attackDataset(model, few, { ...spec, seed: 3 });
    const b = await attackDataset(model, few, { ...spec, seed: 3 });
    const c = await attackDataset(model, few, { ...spec, seed: 4 });
    expect(b.adversarial).toEqual(a.adversarial);
    expect(c.adversarial).not.toEqual(a.adversarial);
    const more = await attackDataset(model, few, { ...spec, seed: 3, restarts: 3 });
    for (let i = 0; i < few.count; i++) expect(more.robust[i]!).toBeLessThanOrEqual(a.robust[i]!);
  });

  it('the curve of a normal model passes every sanity check', async () => {
    const curve = await robustAccuracyCurve(model, subset(test, 0, 100), {
      epsilons: [0.05, 0.1, 0.2],
      attacks: [{ kind: 'fgsm' }, { kind: 'pgd', steps: 10, loss: 'margin' }],
    });
    expect(curve.epsilons).toEqual([0.05, 0.1, 0.2, 1]);
    expect(curve.flags).toEqual([]);
    expect(curve.curves[1]!.accuracy[3]).toBeLessThanOrEqual(0.05);
  });

  it('flags a gradient-masked model (logits ×1000): FGSM-CE looks robust, PGD-margin is not', async () => {
    const masked = mlp('masked').build(gpu(), [1, 28, 28], { seed: 1 });
    const source = [...model.parameters().values()];
    for (const [i, t] of [...masked.parameters().values()].entries()) {
      const values = (await source[i]!.read()) as Float32Array;
      t.write(i >= 2 ? values.map((v) => v * 1000) : values); // the last Dense: weight and bias
    }
    const curve = await robustAccuracyCurve(masked, subset(test, 0, 100), {
      epsilons: [0.1, 0.2],
      attacks: [{ kind: 'fgsm', loss: 'ce' }, { kind: 'pgd', steps: 10, loss: 'margin' }],
    });
    const [fgsm, pgd] = curve.curves;
    expect(fgsm!.accuracy[0]).toBeGreaterThan(curve.clean - 0.15);
    expect(pgd!.accuracy[1]).toBeLessThan(0.2);
    const masking = curve.flags.filter((f) => f.check === 'gradient-masking-suspected');
    expect(masking.length).toBeGreaterThan(0);
    expect(masking[0]!.attack).toBe('fgsm-ce');
    expect(masking[0]!.message).toMatch(/gradient masking suspected/);
    masked.dispose();
  });
});

describe('sanityFlags', () => {
  it('flags a failing unbounded attack, accuracy that rises with ε, and PGD weaker than FGSM', () => {
    const flags = sanityFlags({
      clean: 0.95,
      count: 1000,
      epsilons: [0.1, 0.2, 1],
      unbounded: true,
      curves: [
        { name: 'fgsm-ce', kind: 'fgsm', accuracy: [0.6, 0.5, 0.1] },
        { name: 'pgd-ce', kind: 'pgd', accuracy: [0.4, 0.55, 0.3] },
      ],
    });
    expect(flags.map((f) => `${f.check}@${f.epsilon}`).sort()).toEqual(
      ['accuracy-rises-with-epsilon@0.2', 'pgd-weaker-than-fgsm@0.2', 'pgd-weaker-than-fgsm@1', 'unbounded-attack-fails@1'].sort(),
    );
  });

  it('stays quiet within sampling noise', () => {
    const flags = sanityFlags({
      clean: 0.9,
      count: 100,
      epsilons: [0.1, 0.2, 1],
      unbounded: true,
      curves: [
        { name: 'fgsm-ce', kind: 'fgsm', accuracy: [0.5, 0.52, 0.02] },
        { name: 'pgd-ce', kind: 'pgd', accuracy: [0.53, 0.3, 0.01] },
      ],
    });
    expect(flags).toEqual([]);
  });
});
