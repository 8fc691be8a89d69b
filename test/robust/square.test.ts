// The Square attack (src/robust/square.ts, square-ops.ts, shaders/square.wgsl): the window
// schedule against the authors' rounding; the kernels against float64 re-implementations
// (the stripe start, the window proposal, the acceptance); and on a small model trained on
// real MNIST, that Square stays inside the ε-ball, needs no gradients (it breaks a model whose
// input gradients are zero almost everywhere), is deterministic for a seed, and that the
// cascade's and the curve's black-box check flags such a model.
// Tolerances: kernels exact (copies and one clamp of x ± ε in f32).
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, compile, Dense, Flatten, Graph, loadMnistFromDirectory, Random, ReLU, type Sequential, sequential, subset, Tensor, train } from '../../src/index.js';
import { sanityFlags } from '../../src/robust/attack-sanity.js';
import { attackDataset, robustAccuracyCurve } from '../../src/robust/attacks.js';
import { squareAccept, squareCandidate, squareInit } from '../../src/robust/square-ops.js';
import { squareFraction, squareSide } from '../../src/robust/square.js';
import { useGpu } from '../support/gpu.js';
import { randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(53);

describe('Square schedule', () => {
  it('halves p at 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 of 10,000 queries, rescaled', () => {
    expect([0, 10, 11, 50, 51, 8000, 8001, 9999].map((i) => squareFraction(0.8, i, 10000))).toEqual([0.8, 0.8, 0.4, 0.4, 0.2, 0.8 / 256, 0.8 / 512, 0.8 / 512]);
    expect(squareFraction(0.8, 6, 5000)).toBe(0.4); // iteration 6 of 5,000 is 12 of 10,000
    expect(squareSide(0.8, 28, 28)).toBe(25);
    expect(squareSide(0.999, 28, 28)).toBe(27); // at most side − 1
    expect(squareSide(1e-6, 28, 28)).toBe(1);
  });
});

describe('square.wgsl', () => {
  const [images, channels, height, width] = [3, 2, 6, 5];
  const shape = [images, channels, height, width];
  const size = images * channels * height * width;

  it('square_init puts vertical ±ε stripes (one sign per image, channel and column) on x, clipped', async () => {
    const ctx = gpu();
    const x = randomArray(random, size, 0, 1);
    const [xBest, candidate] = [Tensor.empty(ctx, shape), Tensor.empty(ctx, shape)];
    const graph = new Graph(ctx);
    squareInit(graph.bind(xBest), graph.bind(candidate), graph.bind(Tensor.from(ctx, x, shape)), graph.bind(Tensor.from(ctx, [0.3, 0], [2])), graph.bind(Tensor.from(ctx, new Uint32Array([7, 0, 0, 0]), [4])));
    compile(graph).run();
    const best = (await xBest.read()) as Float32Array;
    expect(Array.from(await candidate.read())).toEqual(Array.from(best));
    for (let n = 0; n < images; n++) {
      for (let c = 0; c < channels; c++) {
        for (let col = 0; col < width; col++) {
          const at = (row: number) => ((n * channels + c) * height + row) * width + col;
          // One sign down the whole column: every pixel is clip(x + s·ε) for the same s.
          const fits = (sign: number) => Array.from({ length: height }, (_, row) => row).every((row) => Math.abs(best[at(row)]! - Math.min(1, Math.max(0, x[at(row)]! + sign * 0.3))) < 1e-6);
          expect(fits(1) || fits(-1), `image ${n} channel ${c} column ${col}`).toBe(true);
        }
      }
    }
    graph.dispose();
  });

  it('square_candidate changes one side×side window per image (one sign per channel), skips fooled images; square_accept keeps the better margin', async () => {
    const ctx = gpu();
    const x = randomArray(random, size, 0.2, 0.8);
    const best = randomArray(random, size, 0, 1);
    const side = 3;
    const t = { candidate: Tensor.empty(ctx, shape), xBest: Tensor.from(ctx, best, shape), marginBest: Tensor.from(ctx, [-1, 0.5, -2], [3]) };
    const graph = new Graph(ctx);
    squareCandidate(graph.bind(t.candidate), graph.bind(Tensor.from(ctx, x, shape)), graph.bind(t.xBest), graph.bind(t.marginBest), graph.bind(Tensor.from(ctx, [0.1, 0], [2])), graph.bind(Tensor.from(ctx, new Uint32Array([3, 17, side, 0]), [4])));
    compile(graph).run();
    const candidate = (await t.candidate.read()) as Float32Array;
    for (let n = 0; n < images; n++) {
      const changed: [number, number, number][] = [];
      for (let c = 0; c < channels; c++) {
        for (let row = 0; row < height; row++) {
          for (let col = 0; col < width; col++) {
            const i = ((n * channels + c) * height + row) * width + col;
            if (candidate[i] !== best[i]) {
              changed.push([c, row, col]);
              expect(Math.abs(Math.abs(candidate[i]! - x[i]!) - 0.1)).toBeLessThan(1e-6);
            }
          }
        }
      }
      if (n === 1) {
        expect(changed).toEqual([]); // margin_best ≥ 0: already fooled, left alone
        continue;
      }
      // One square per image, the same window in every channel.
      const rows = new Set(changed.map(([, r]) => r));
      const cols = new Set(changed.map(([, , c]) => c));
      expect(rows.size).toBe(side);
      expect(cols.size).toBe(side);
      expect(changed.length).toBe(channels * side * side);
      expect(Math.max(...rows) - Math.min(...rows)).toBe(side - 1);
    }
    graph.dispose();

    const accepted = Tensor.empty(ctx, [3]);
    const acceptGraph = new Graph(ctx);
    squareAccept(acceptGraph.bind(t.xBest), acceptGraph.bind(t.marginBest), acceptGraph.bind(accepted), acceptGraph.bind(t.candidate), acceptGraph.bind(Tensor.from(ctx, [0, 0.2, -3], [3])));
    compile(acceptGraph).run();
    expect(Array.from(await accepted.read())).toEqual([1, 0, 0]);
    expect(Array.from(await t.marginBest.read())).toEqual([0, 0.5, -2]);
    const after = (await t.xBest.read()) as Float32Array;
    const per = size / images;
    expect(Array.from(after.subarray(0, per))).toEqual(Array.from(candidate.subarray(0, per)));
    expect(Array.from(after.subarray(per))).toEqual(Array.from(best.subarray(per)));
    acceptGraph.dispose();
  });
});

describe('Square on a small MNIST model', () => {
  let model: Sequential;
  let test: ReturnType<typeof subset>;

  beforeAll(async () => {
    const mnist = await loadMnistFromDirectory();
    model = sequential([new Flatten(), new Dense(64), new ReLU(), new Dense(10)], { name: 'small' }).build(gpu(), [1, 28, 28], { seed: 1 });
    await train(model, subset(mnist.train, 0, 512), { epochs: 4, batchSize: 32, optimizer: new Adam({ learningRate: 3e-3 }), seed: 1 });
    test = subset(mnist.test, 0, 100);
  }, 60_000);

  it('fools most images at ε = 0.3 within the ball, and a seed gives the same result twice', async () => {
    const result = await attackDataset(model, test, { kind: 'square', epsilon: 0.3, queries: 300, seed: 4 });
    expect(result.accuracy).toBeLessThan(0.2);
    let worst = 0;
    for (let i = 0; i < result.adversarial!.length; i++) worst = Math.max(worst, Math.abs(result.adversarial![i]! - test.images[i]!));
    expect(worst).toBeLessThanOrEqual(0.3 * (1 + 1e-5));
    const again = await attackDataset(model, test, { kind: 'square', epsilon: 0.3, queries: 300, seed: 4, adversarial: false });
    expect(Array.from(again.robust)).toEqual(Array.from(result.robust));
  });

  it('breaks a model whose gradients are useless, and the black-box check flags it', async () => {
    // Logits ×1e4 behind a steep softmax-free wall: the same classifier, but float32 makes CE
    // gradients vanish on confident images; the cascade's Square stage then finds what APGD-CE misses.
    const masked = sequential([new Flatten(), new Dense(64), new ReLU(), new Dense(10)], { name: 'masked' }).build(gpu(), [1, 28, 28], { seed: 1 });
    const source = [...model.parameters().values()];
    for (const [i, t] of [...masked.parameters().values()].entries()) {
      const values = (await source[i]!.read()) as Float32Array;
      t.write(i >= 2 ? values.map((v) => v * 1e4) : values);
    }
    const curve = await robustAccuracyCurve(masked, test, { epsilons: [0.15], attacks: [{ kind: 'pgd', loss: 'ce', steps: 10 }, { kind: 'square', queries: 300 }] });
    const [pgd, square] = curve.curves;
    expect(square!.accuracy[0]).toBeLessThan(pgd!.accuracy[0]!);
    expect(curve.flags.some((f) => f.check === 'black-box-beats-white-box' && f.attack === 'pgd-ce')).toBe(true);
    masked.dispose();
  });

  it('the cascade check: a Square stage that fools more than 1 % after the gradient stages is flagged', () => {
    const stages = [{ name: 'apgd-ce', accuracy: [0.8] }, { name: 'apgd-t (target rank 2)', accuracy: [0.7] }, { name: 'square', accuracy: [0.6] }];
    const flags = sanityFlags({ clean: 0.9, count: 100, epsilons: [0.1], unbounded: false, curves: [{ name: 'autoattack', kind: 'autoattack', accuracy: [0.6], stages }] });
    expect(flags.map((f) => f.check)).toEqual(['black-box-beats-white-box']);
    expect(flags[0]!.message).toContain("autoattack's black-box Square stage fooled 10.0% of the images");
    const fine = sanityFlags({ clean: 0.9, count: 100, epsilons: [0.1], unbounded: false, curves: [{ name: 'autoattack', kind: 'autoattack', accuracy: [0.69], stages: [...stages.slice(0, 2), { name: 'square', accuracy: [0.69] }] }] });
    expect(fine).toEqual([]);
  });

  it('rejects bad specs before any GPU work', async () => {
    await expect(attackDataset(model, test, { kind: 'square', epsilon: 0.1, queries: 0 })).rejects.toThrow('square: queries must be a positive integer, got 0');
    await expect(attackDataset(model, test, { kind: 'square', epsilon: 0.1, pInit: 2 })).rejects.toThrow('square: pInit must be in (0, 1], got 2');
    await expect(attackDataset(model, test, { kind: 'autoattack', epsilon: 0.1, queries: -1 })).rejects.toThrow('autoattack: queries must be an integer ≥ 0 (0 leaves Square out), got -1');
  });
});
