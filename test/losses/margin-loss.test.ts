// Shader-level tests of shaders/margin_loss.wgsl (entry margin_loss) against a float64
// reference, and its gradient rule by finite differences.
// Tolerances: loss atol 1e-6 + rtol 1e-6 (one f32 subtraction of exact inputs); gradient exact
// (entries are 0 and ±1). Finite differences: atol 1e-2 + rtol 1e-2 on logits whose gaps
// are ≥ 0.05, so the arg-max does not change within the step (eps 1e-2).
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { apply } from '../../src/graph/apply.js';
import { marginLoss, marginLossOp, marginLossPerRow } from '../../src/losses/margin-loss.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(11);

function reference(z: Float32Array, labels: Uint32Array, rows: number, classes: number) {
  const loss = new Float64Array(rows);
  const grad = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const y = labels[r]!;
    let best = -1;
    for (let c = 0; c < classes; c++) if (c !== y && (best < 0 || z[r * classes + c]! > z[r * classes + best]!)) best = c;
    loss[r] = z[r * classes + best]! - z[r * classes + y]!;
    grad[r * classes + best] = 1;
    grad[r * classes + y] = -1;
  }
  return { loss, grad };
}

/** Distinct logits (a shuffled grid with spacing ≥ `gap`, plus small jitter), so arg-maxes are clear. */
function separatedLogits(rows: number, classes: number, gap: number): Float32Array {
  const out = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const order = random.shuffle(Uint32Array.from({ length: classes }, (_, i) => i));
    for (let c = 0; c < classes; c++) out[r * classes + c] = (order[c]! - classes / 2) * gap + 0.2 * gap * random.uniform() + 0.01;
  }
  return out;
}

function run(z: Float32Array, labels: Uint32Array, rows: number, classes: number): Tensor[] {
  const ctx = gpu();
  return apply(marginLossOp, [Tensor.from(ctx, z, [rows, classes]), Tensor.from(ctx, labels, [rows])], {});
}

const randomLabels = (rows: number, classes: number) => Uint32Array.from({ length: rows }, () => Math.floor(random.uniform() * classes));

describe('margin_loss.wgsl', () => {
  for (const [rows, classes, spread] of [[1, 2, 3], [37, 10, 5], [4, 1000, 8], [3, 70_000, 4], [6, 10, 20_000]] as const) {
    it(`rows=${rows} classes=${classes} logits within ±${spread}`, async () => {
      const z = randomArray(random, rows * classes, -spread, spread);
      const labels = randomLabels(rows, classes);
      const [loss, grad] = run(z, labels, rows, classes);
      const ref = reference(z, labels, rows, classes);
      expectClose(await loss!.read(), ref.loss, { atol: 1e-6, rtol: 1e-6 }, 'loss');
      expectClose(await grad!.read(), ref.grad, { atol: 0, rtol: 0 }, 'grad');
    });
  }

  it('is positive exactly for misclassified rows, and picks the lowest index on ties', async () => {
    const z = new Float32Array([3, 1, 2, /* */ 1, 3, 3, /* */ 2, 2, 0]);
    const labels = new Uint32Array([0, 0, 2]);
    const [loss, grad] = run(z, labels, 3, 3);
    expect(Array.from(await loss!.read())).toEqual([-1, 2, 2]);
    expect(Array.from(await grad!.read())).toEqual([-1, 0, 1, -1, 1, 0, 1, 0, -1]);
  });

  it('an out-of-range label gives NaN for that row, not a silent number', async () => {
    const [loss] = run(randomArray(random, 20), new Uint32Array([1, 10]), 2, 10);
    const values = await loss!.read();
    expect(Number.isFinite(values[0]!)).toBe(true);
    expect(Number.isNaN(values[1]!)).toBe(true);
  });

  it('marginLoss is the mean of the per-row margins', async () => {
    const ctx = gpu();
    const z = Tensor.from(ctx, randomArray(random, 50, -2, 2), [5, 10]);
    const labels = Tensor.from(ctx, randomLabels(5, 10), [5]);
    const rows = Array.from(await marginLossPerRow(z, labels).read());
    expect((await marginLoss(z, labels).read())[0]).toBeCloseTo(rows.reduce((a, b) => a + b, 0) / 5, 6);
  });

  it('rejects a single class and mismatched labels', () => {
    const ctx = gpu();
    expect(() => marginLoss(Tensor.from(ctx, [1, 2], [2, 1]), Tensor.from(ctx, [0, 0], [2], 'u32'))).toThrow(/at least 2 classes/);
    expect(() => marginLoss(Tensor.from(ctx, [1, 2, 3, 4], [2, 2]), Tensor.from(ctx, [0], [1], 'u32'))).toThrow(/1 labels for 2 rows/);
  });
});

describe('margin loss gradient rule', () => {
  for (const classes of [2, 5, 10]) {
    it(`finite differences, classes=${classes}`, async () => {
      const rows = 4;
      await checkGradients(gpu(), ([z, y]) => marginLossPerRow(z!, y!), [
        { name: 'logits', shape: [rows, classes], data: separatedLogits(rows, classes, 0.05) },
        { name: 'labels', shape: [rows], data: randomLabels(rows, classes), differentiable: false },
      ], { samples: rows * classes }); // every entry, so the ±1s are surely checked
    });
  }
});
