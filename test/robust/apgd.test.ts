// APGD and the AutoAttack-style cascade (src/robust/apgd.ts, apgd-ops.ts, shaders/apgd.wgsl):
// the checkpoint schedule against the authors' rounding; the step-size decisions on hand-made
// states; the kernels (step, track, keep-max, restart) against float64 re-implementations on
// random inputs; and, on a small model trained on real MNIST, that APGD stays inside the
// ε-ball, is at least as strong as PGD of the same budget, the cascade at least as strong as
// APGD-CE, ε = 1 reaches 0 %, and a seed gives the same result twice.
// Tolerances: kernels 1e-6 absolute (one or two f32 operations per value, clamped to [0, 1]);
// "at least as strong" allows the sampling noise of 200 images (support: noiseTolerance).
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, compile, Dense, Flatten, Graph, loadMnistFromDirectory, Random, ReLU, type Sequential, sequential, subset, Tensor, train } from '../../src/index.js';
import { apgdCheckpoints, ApgdSchedule, targetsOfRank } from '../../src/robust/apgd.js';
import { apgdRestart, apgdStep, apgdTrack } from '../../src/robust/apgd-ops.js';
import { noiseTolerance } from '../../src/robust/attack-sanity.js';
import { type AttackProgress, attackDataset } from '../../src/robust/attacks.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(41);

describe('APGD schedule', () => {
  it('checkpoints after 22 % of the steps, then windows shrinking by 3 % to 6 % (the authors\' rounding)', () => {
    expect(apgdCheckpoints(100)).toEqual([
      { step: 22, window: 22 }, { step: 41, window: 19 }, { step: 57, window: 16 }, { step: 70, window: 13 },
      { step: 80, window: 10 }, { step: 87, window: 7 }, { step: 93, window: 6 }, { step: 99, window: 6 },
    ]);
    expect(apgdCheckpoints(10).map((c) => c.step)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(apgdCheckpoints(1)).toEqual([{ step: 1, window: 1 }]);
  });

  it('halves η and restarts where the loss oscillated, or stalled after a step without halving', () => {
    const schedule = new ApgdSchedule(4, 0.1);
    expect(Array.from(schedule.eta)).toEqual(Array(4).fill(Math.fround(0.2)));
    // state per image: (f_prev, f_max, increases, improved); window 10, ρ·window = 7.5.
    const first = schedule.checkpoint(new Float32Array([0, 2, 8, 0, /**/ 0, 2, 7, 0, /**/ 0, 1, 9, 0, /**/ 0, 3, 10, 0]), 10);
    expect(Array.from(first)).toEqual([0, 1, 0, 0]); // only image 1 rose in ≤ 75 % of the steps
    expect(Array.from(schedule.eta)).toEqual([0.2, 0.1, 0.2, 0.2].map(Math.fround));
    // Next checkpoint: image 0 did not improve (f_max 2 → 2) and was not halved last time → halve;
    // image 1 did not improve either, but was halved last time → keep; image 2 improved → keep.
    const second = schedule.checkpoint(new Float32Array([0, 2, 9, 0, /**/ 0, 2, 9, 0, /**/ 0, 1.5, 9, 0, /**/ 0, 3, 3, 0]), 10);
    expect(Array.from(second)).toEqual([1, 0, 0, 1]);
  });

  it('targets of rank k are the classes with the k-th largest logit', () => {
    const logits = new Float32Array([0.1, 3, 2, -1, /**/ 5, 4, 6, 0]);
    expect(Array.from(targetsOfRank(logits, 2, 4, 2))).toEqual([2, 0]);
    expect(Array.from(targetsOfRank(logits, 2, 4, 4))).toEqual([3, 3]);
  });
});

describe('apgd.wgsl', () => {
  const [images, size] = [5, 300]; // 1,500 values: several workgroups
  const project = (v: number, c: number, e: number) => Math.min(1, Math.max(0, Math.min(c + e, Math.max(c - e, v))));

  it('apgd_step: momentum step, projected and clipped, x_prev takes the old iterate', async () => {
    const ctx = gpu();
    const x = randomArray(random, images * size, 0, 1);
    const xAdv = x.map((v) => project(v + (random.uniform() - 0.5) * 0.2, v, 0.1));
    const xPrev = x.map((v) => project(v + (random.uniform() - 0.5) * 0.2, v, 0.1));
    const grad = randomArray(random, images * size, -1, 1);
    grad[7] = 0; // sign(0) = 0: no move from the gradient
    const eta = Float32Array.from({ length: images }, () => 0.01 + 0.2 * random.uniform());
    const [epsilon, momentum] = [0.1, 0.75];
    const t = [xAdv, xPrev, x, grad].map((a) => Tensor.from(ctx, a, [images, size]));
    const graph = new Graph(ctx);
    apgdStep(graph.bind(t[0]!), graph.bind(t[1]!), graph.bind(t[2]!), graph.bind(t[3]!), graph.bind(Tensor.from(ctx, eta, [images])), graph.bind(Tensor.from(ctx, [epsilon, momentum], [2])));
    compile(graph).run();
    const expected = new Float64Array(images * size);
    for (let i = 0; i < images * size; i++) {
      const z = project(xAdv[i]! + eta[Math.floor(i / size)]! * Math.sign(grad[i]!), x[i]!, epsilon);
      expected[i] = project(xAdv[i]! + momentum * (z - xAdv[i]!) + (1 - momentum) * (xAdv[i]! - xPrev[i]!), x[i]!, epsilon);
    }
    expectClose(await t[0]!.read(), expected, { atol: 1e-6, rtol: 0 }, 'x_adv');
    expectClose(await t[1]!.read(), Float64Array.from(xAdv), { atol: 0, rtol: 0 }, 'x_prev');
    graph.dispose();
  });

  it('apgd_track counts rises, keeps f_max and x_max; apgd_restart sends flagged images back', async () => {
    const ctx = gpu();
    const state = new Float32Array([1, 5, 2, 0, /**/ 1, 5, 2, 1, /**/ Infinity, -Infinity, 0, 0, /**/ 3, 3, 0, 0, /**/ 0, 9, 4, 1]);
    const loss = new Float32Array([2, 0.5, -7, 3, 10]);
    const xAdv = randomArray(random, images * size, 0, 1);
    const xMax = randomArray(random, images * size, 0, 1);
    const tensors = { state: Tensor.from(ctx, state, [images, 4]), xMax: Tensor.from(ctx, xMax, [images, size]), xAdv: Tensor.from(ctx, xAdv, [images, size]) };
    const graph = new Graph(ctx);
    apgdTrack(graph.bind(tensors.state), graph.bind(tensors.xMax), graph.bind(Tensor.from(ctx, loss, [images])), graph.bind(tensors.xAdv));
    compile(graph).run();
    expect(Array.from(await tensors.state.read())).toEqual([2, 5, 3, 0, /**/ 0.5, 5, 2, 0, /**/ -7, -7, 0, 1, /**/ 3, 3, 0, 0, /**/ 10, 10, 5, 1]);
    const improved = [false, false, true, false, true];
    const expectedMax = xMax.map((v, i) => (improved[Math.floor(i / size)] ? xAdv[i]! : v));
    expectClose(await tensors.xMax.read(), Float64Array.from(expectedMax), { atol: 0, rtol: 0 }, 'x_max');
    graph.dispose();

    const restart = new Float32Array([1, 0, 0, 1, 0]);
    const restartGraph = new Graph(ctx);
    apgdRestart(restartGraph.bind(tensors.xAdv), restartGraph.bind(tensors.xMax), restartGraph.bind(Tensor.from(ctx, restart, [images])));
    compile(restartGraph).run();
    const expectedAdv = xAdv.map((v, i) => (restart[Math.floor(i / size)] ? expectedMax[i]! : v));
    expectClose(await tensors.xAdv.read(), Float64Array.from(expectedAdv), { atol: 0, rtol: 0 }, 'x_adv after restart');
    restartGraph.dispose();
  });

  it('rejects per-image buffers of the wrong size', () => {
    const ctx = gpu();
    const x = Tensor.from(ctx, new Float32Array(6), [2, 3]);
    const graph = new Graph(ctx);
    expect(() => apgdStep(graph.bind(x), graph.bind(x), graph.bind(x), graph.bind(x), graph.bind(Tensor.from(ctx, [1, 1, 1], [3])), graph.bind(Tensor.from(ctx, [0.1, 1], [2])))).toThrow(
      'apgd_step: eta must hold one value per image (2 images), got shape [3]',
    );
    graph.dispose();
  });
});

describe('APGD and AutoAttack on a small MNIST model', () => {
  let model: Sequential;
  let test: ReturnType<typeof subset>;
  const EPSILON = 0.1;

  beforeAll(async () => {
    const mnist = await loadMnistFromDirectory();
    model = sequential([new Flatten(), new Dense(64), new ReLU(), new Dense(10)], { name: 'small' }).build(gpu(), [1, 28, 28], { seed: 1 });
    await train(model, subset(mnist.train, 0, 512), { epochs: 4, batchSize: 32, optimizer: new Adam({ learningRate: 3e-3 }), seed: 1 });
    test = subset(mnist.test, 0, 200);
  }, 60_000);

  it('APGD-CE stays in the ball, beats PGD of the same budget, and the cascade beats APGD-CE', async () => {
    const steps = 20;
    const pgd = await attackDataset(model, test, { kind: 'pgd', epsilon: EPSILON, steps, adversarial: false, batchSize: 100 });
    const apgd = await attackDataset(model, test, { kind: 'apgd', epsilon: EPSILON, steps, batchSize: 100 });
    const progress: AttackProgress[] = [];
    const cascade = await attackDataset(model, test, { kind: 'autoattack', epsilon: EPSILON, steps, targets: 3, queries: 100, adversarial: false, batchSize: 100, onProgress: (p) => progress.push(p) });
    const noise = noiseTolerance(test.count, pgd.accuracy);
    expect(apgd.accuracy).toBeLessThanOrEqual(pgd.accuracy + noise);
    expect(cascade.accuracy).toBeLessThanOrEqual(apgd.accuracy);
    expect(cascade.stages!.map((s) => s.name)).toEqual(['apgd-ce', 'apgd-t (target rank 2)', 'apgd-t (target rank 3)', 'apgd-t (target rank 4)', 'square']);
    // Cumulative: each stage only removes images; the last stage is the reported accuracy.
    const accuracies = cascade.stages!.map((s) => s.accuracy);
    expect([...accuracies].sort((a, b) => b - a)).toEqual(accuracies);
    expect(accuracies.at(-1)).toBe(cascade.accuracy);
    // Progress: a line per batch; APGD-T and Square count only the images still robust.
    const survivors = (name: string) => Math.round(cascade.stages!.find((s) => s.name === name)!.accuracy * test.count);
    const ends = progress.filter((p) => p.done === p.total).map((p) => [p.stage, p.total]);
    expect(ends).toEqual([['apgd-ce', test.count], ['apgd-t', survivors('apgd-ce')], ['square', survivors('apgd-t (target rank 4)')]]);
    expect(progress[0]).toMatchObject({ stage: 'apgd-ce', epsilon: EPSILON, done: 100, total: test.count });
    expect(progress.every((p) => p.seconds >= 0 && p.done <= p.total)).toBe(true);
    let worst = 0;
    for (let i = 0; i < apgd.adversarial!.length; i++) worst = Math.max(worst, Math.abs(apgd.adversarial![i]! - test.images[i]!));
    expect(worst).toBeLessThanOrEqual(EPSILON * (1 + 1e-5));
    expect(apgd.adversarial!.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('ε = 1 leaves nothing robust, and a seed gives the same result twice', async () => {
    expect((await attackDataset(model, test, { kind: 'apgd', epsilon: 1, steps: 10, adversarial: false })).accuracy).toBe(0);
    const run = () => attackDataset(model, subset(test, 0, 50), { kind: 'apgd', loss: 'dlr', epsilon: EPSILON, steps: 10, seed: 3, adversarial: false });
    expect(Array.from((await run()).robust)).toEqual(Array.from((await run()).robust));
  });

  it('APGD-DLR is not fooled by logits scaled ×1000 (gradient masking of cross-entropy); the curve runs autoattack', async () => {
    const masked = sequential([new Flatten(), new Dense(64), new ReLU(), new Dense(10)], { name: 'masked' }).build(gpu(), [1, 28, 28], { seed: 1 });
    const source = [...model.parameters().values()];
    for (const [i, t] of [...masked.parameters().values()].entries()) {
      const values = (await source[i]!.read()) as Float32Array;
      t.write(i >= 2 ? values.map((v) => v * 1000) : values);
    }
    const few = subset(test, 0, 100);
    const plain = await attackDataset(model, few, { kind: 'apgd', loss: 'dlr', epsilon: 0.2, steps: 20, adversarial: false });
    const scaled = await attackDataset(masked, few, { kind: 'apgd', loss: 'dlr', epsilon: 0.2, steps: 20, adversarial: false });
    // DLR is invariant to the scale, so the masked model is as breakable as the plain one.
    expect(Math.abs(scaled.accuracy - plain.accuracy)).toBeLessThanOrEqual(noiseTolerance(few.count, plain.accuracy));
    const { robustAccuracyCurve } = await import('../../src/robust/attacks.js');
    const curve = await robustAccuracyCurve(masked, few, { epsilons: [0.2], attacks: [{ kind: 'fgsm', loss: 'ce' }, { kind: 'autoattack', steps: 10, targets: 2, queries: 50 }] });
    expect(curve.curves.map((c) => c.name)).toEqual(['fgsm-ce', 'autoattack']);
    expect(curve.epsilons).toEqual([0.2, 1]);
    const [atEpsilon, unbounded] = curve.curves[1]!.accuracy;
    expect(atEpsilon).toBeLessThan(0.2);
    expect(unbounded).toBe(0);
    expect(curve.flags.some((f) => f.check === 'gradient-masking-suspected' && f.attack === 'fgsm-ce')).toBe(true);
    masked.dispose();
  });

  it('rejects bad specs before any GPU work', async () => {
    await expect(attackDataset(model, test, { kind: 'apgd', epsilon: EPSILON, norm: 'l2' as never })).rejects.toThrow("apgd: only the L∞ norm is implemented, got 'l2'");
    await expect(attackDataset(model, test, { kind: 'autoattack', epsilon: EPSILON, targets: 10 })).rejects.toThrow('autoattack: targets must be at most classes − 1 = 9, got 10');
    await expect(attackDataset(model, test, { kind: 'apgd', epsilon: EPSILON, steps: 0 })).rejects.toThrow('apgd: steps must be a positive integer, got 0');
    await expect(attackDataset(model, test, { kind: 'apgd', epsilon: EPSILON, loss: 'margin' as never })).rejects.toThrow("apgd: loss must be 'ce', 'dlr' or 'dlr-targeted', got 'margin'");
  });
});
