// Shader-level tests of shaders/softmax_cross_entropy.wgsl against float64 log-sum-exp.
// Tolerance: atol 1e-5 + rtol 1e-5 on loss and gradient (exp/log in f32).
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { apply } from '../../src/graph/apply.js';
import { softmaxCrossEntropyOp } from '../../src/losses/softmax-cross-entropy.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(5);

function reference(z: Float32Array, labels: Uint32Array, rows: number, classes: number) {
  const loss = new Float64Array(rows);
  const grad = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(z.subarray(r * classes, (r + 1) * classes));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    loss[r] = lse - row[labels[r]!]!;
    row.forEach((v, c) => (grad[r * classes + c] = Math.exp(v - lse) - (c === labels[r] ? 1 : 0)));
  }
  return { loss, grad };
}

/** Runs the fused op eagerly and returns both outputs: loss per row and the saved gradient. */
function run(z: Float32Array, labels: Uint32Array, rows: number, classes: number): Tensor[] {
  const ctx = gpu();
  return apply(softmaxCrossEntropyOp, [Tensor.from(ctx, z, [rows, classes]), Tensor.from(ctx, labels, [rows])], {});
}

describe('softmax_cross_entropy.wgsl', () => {
  for (const [rows, classes, spread] of [[1, 2, 3], [33, 10, 5], [4, 1000, 8], [3, 70_000, 4], [5, 10, 20_000]] as const) {
    it(`rows=${rows} classes=${classes} logits within ±${spread}`, async () => {
      const z = randomArray(random, rows * classes, -spread, spread);
      const labels = Uint32Array.from({ length: rows }, () => Math.floor(random.uniform() * classes));
      const [loss, grad] = run(z, labels, rows, classes);
      const ref = reference(z, labels, rows, classes);
      expectClose(await loss!.read(), ref.loss, { atol: 1e-5, rtol: 1e-5 }, 'loss');
      expectClose(await grad!.read(), ref.grad, { atol: 1e-5, rtol: 1e-5 }, 'grad');
    });
  }

  it('an out-of-range label gives NaN for that row, not a silent number', async () => {
    const [loss] = run(randomArray(random, 20), new Uint32Array([1, 10]), 2, 10);
    const values = await loss!.read();
    expect(Number.isFinite(values[0]!)).toBe(true);
    expect(Number.isNaN(values[1]!)).toBe(true);
  });
});

