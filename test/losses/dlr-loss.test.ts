// Shader-level tests of shaders/dlr_loss.wgsl (entries dlr_loss, dlr_targeted_loss) against a
// float64 reference of Croce & Hein's definition, and the gradient rule by finite differences.
// Tolerances: loss and gradient atol 1e-5 + rtol 1e-4 (a ratio of f32 differences of logits
// within ±8); finite differences atol 1e-2 + rtol 2e-2 on logits whose gaps are ≥ 0.2, so the
// order of the classes does not change within the step (eps 1e-2).
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { dlrLossPerRow } from '../../src/losses/dlr-loss.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(23);
const tol = { atol: 1e-5, rtol: 1e-4 };

/** Float64 DLR loss and its gradient per row; `targets` selects the targeted version. */
function reference(z: Float32Array, labels: Uint32Array, rows: number, classes: number, targets?: Uint32Array) {
  const loss = new Float64Array(rows);
  const grad = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(z.subarray(r * classes, (r + 1) * classes), Number);
    const order = row.map((v, c) => [v, c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, c]) => c);
    const y = labels[r]!;
    const other = targets ? targets[r]! : order[0] === y ? order[1]! : order[0]!;
    const dWeights = new Map<number, number>(targets ? [[order[0]!, 1], [order[2]!, -0.5], [order[3]!, -0.5]] : [[order[0]!, 1], [order[2]!, -1]]);
    const d = [...dWeights].reduce((acc, [c, w]) => acc + w * row[c]!, 0) + 1e-12;
    const margin = row[y]! - row[other]!;
    loss[r] = -margin / d;
    for (let c = 0; c < classes; c++) {
      const own = (c === y ? 1 : 0) - (c === other ? 1 : 0);
      grad[r * classes + c] = -own / d + (margin / (d * d)) * (dWeights.get(c) ?? 0);
    }
  }
  return { loss, grad };
}

/** Logits at distinct levels ≥ `gap` apart (shuffled), so the class order is clear. */
function separatedLogits(rows: number, classes: number, gap: number): Float32Array {
  const out = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const order = random.shuffle(Uint32Array.from({ length: classes }, (_, i) => i));
    for (let c = 0; c < classes; c++) out[r * classes + c] = (order[c]! - classes / 2) * gap + 0.2 * gap * random.uniform();
  }
  return out;
}

const randomClasses = (rows: number, classes: number) => Uint32Array.from({ length: rows }, () => Math.floor(random.uniform() * classes));

/** Targets that differ from the labels, as APGD-T picks them. */
function otherClasses(labels: Uint32Array, classes: number): Uint32Array {
  return labels.map((y) => (y + 1 + Math.floor(random.uniform() * (classes - 1))) % classes);
}

describe('dlr_loss.wgsl', () => {
  for (const [rows, classes, targeted] of [[1, 3, false], [150, 10, false], [7, 1000, false], [150, 10, true], [3, 4, true], [5, 300, true]] as const) {
    it(`${targeted ? 'targeted' : 'untargeted'}: rows=${rows} classes=${classes}, float64 reference`, async () => {
      const ctx = gpu();
      const z = randomArray(random, rows * classes, -8, 8);
      const labels = randomClasses(rows, classes);
      const targets = targeted ? otherClasses(labels, classes) : undefined;
      const logits = Tensor.from(ctx, z, [rows, classes]);
      const y = Tensor.from(ctx, labels, [rows]);
      const t = targets && Tensor.from(ctx, targets, [rows]);
      const loss = dlrLossPerRow(logits, y, t);
      const ref = reference(z, labels, rows, classes, targets);
      expectClose(await loss.read(), ref.loss, tol, 'loss');
      for (const x of [logits, y, t, loss]) x?.dispose();
    });
  }

  it('is invariant to shifting and scaling the logits, and negative exactly when the row is classified right', async () => {
    const ctx = gpu();
    const z = separatedLogits(40, 10, 0.3);
    const labels = randomClasses(40, 10);
    const y = Tensor.from(ctx, labels, [40]);
    const base = await dlrLossPerRow(Tensor.from(ctx, z, [40, 10]), y).read();
    const moved = await dlrLossPerRow(Tensor.from(ctx, z.map((v) => 7 * v + 3), [40, 10]), y).read();
    expectClose(moved, Float64Array.from(base), { atol: 1e-5, rtol: 1e-4 }, 'affine invariance');
    for (let r = 0; r < 40; r++) {
      const row = Array.from(z.subarray(r * 10, r * 10 + 10));
      const correct = row.indexOf(Math.max(...row)) === labels[r];
      expect(base[r]! < 0, `row ${r}`).toBe(correct);
    }
  });

  it('an out-of-range label or target gives NaN for that row', async () => {
    const ctx = gpu();
    const z = Tensor.from(ctx, randomArray(random, 30, -2, 2), [3, 10]);
    const loss = await dlrLossPerRow(z, Tensor.from(ctx, new Uint32Array([1, 10, 2]), [3]), Tensor.from(ctx, new Uint32Array([2, 3, 11]), [3])).read();
    expect(Number.isFinite(loss[0]!)).toBe(true);
    expect(Number.isNaN(loss[1]!) && Number.isNaN(loss[2]!)).toBe(true);
  });

  it('rejects too few classes and mismatched labels or targets', () => {
    const ctx = gpu();
    const two = Tensor.from(ctx, new Float32Array(4), [2, 2]);
    const three = Tensor.from(ctx, new Float32Array(6), [2, 3]);
    const labels = Tensor.from(ctx, new Uint32Array(2), [2]);
    expect(() => dlrLossPerRow(two, labels)).toThrow('dlr_loss: needs at least 3 classes, got logits [2, 2]');
    expect(() => dlrLossPerRow(three, labels, labels)).toThrow('dlr_targeted_loss: needs at least 4 classes, got logits [2, 3]');
    expect(() => dlrLossPerRow(three, Tensor.from(ctx, new Uint32Array(3), [3]))).toThrow('dlr_loss: 3 labels for 2 rows of logits [2, 3]');
  });
});

describe('dlr loss gradient rule', () => {
  for (const [classes, targeted] of [[3, false], [10, false], [4, true], [10, true]] as const) {
    it(`finite differences, classes=${classes}, ${targeted ? 'targeted' : 'untargeted'}`, async () => {
      const rows = 4;
      const labels = randomClasses(rows, classes);
      const inputs = [
        { name: 'logits', shape: [rows, classes], data: separatedLogits(rows, classes, 0.2) },
        { name: 'labels', shape: [rows], data: labels, differentiable: false },
        ...(targeted ? [{ name: 'targets', shape: [rows], data: otherClasses(labels, classes), differentiable: false }] : []),
      ];
      await checkGradients(gpu(), ([z, y, t]) => dlrLossPerRow(z!, y!, t), inputs, { samples: rows * classes, atol: 1e-2, rtol: 2e-2 });
    });
  }

  it('the analytic gradient matches the float64 reference exactly in structure', async () => {
    const ctx = gpu();
    const [rows, classes] = [6, 10];
    const z = separatedLogits(rows, classes, 0.2);
    const labels = randomClasses(rows, classes);
    const targets = otherClasses(labels, classes);
    for (const t of [undefined, targets]) {
      const { Graph, compile, gradients, sum } = await import('../../src/index.js');
      const graph = new Graph(ctx);
      const logits = graph.input('z', [rows, classes]);
      const loss = dlrLossPerRow(logits, graph.constant(labels, [rows]), t && graph.constant(t, [rows]));
      const [dz] = gradients(sum(loss), [logits]);
      const plan = compile(graph, { fetch: [dz!] });
      plan.run({ z });
      expectClose(await plan.read(dz!), reference(z, labels, rows, classes, t).grad, tol, t ? 'targeted gradient' : 'gradient');
      plan.dispose();
      graph.dispose();
    }
  });
});
