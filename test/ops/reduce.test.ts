// Shader-level tests of shaders/reduce.wgsl (reduce_partial_sums + reduce_sum, the serial
// pairwise reduce_sum_serial that software adapters use up to 4096 values, column_sum)
// against float64 sums.
// Tolerance: 1e-6 of Σ|x| (blocked per-invocation sums plus a tree reduction keep the f32
// error near a few roundings per level). The last case is adversarial for a plain loop:
// one large value followed by many small ones.
import { describe, it, onTestFinished } from 'vitest';
import { columnSum, mean, Random, sum, Tensor } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(11);

describe('reduce.wgsl', () => {
  // Up to 4096 values one pass: serial on software adapters; forcing 'gpu' runs the two passes.
  for (const [n, kind] of [[1, undefined], [255, undefined], [256, undefined], [1000, undefined], [4096, undefined], [4096, 'gpu'], [64, 'gpu'], [4097, undefined], [1_000_003, undefined]] as const) {
    it(`reduce_sum and mean over ${n} values${kind ? ` (adapter kind forced to '${kind}')` : ''}`, async () => {
      const ctx = gpu();
      const actualKind = ctx.profile.adapterKind;
      if (kind) ctx.profile.adapterKind = kind;
      onTestFinished(() => {
        ctx.profile.adapterKind = actualKind;
      });
      const xs = randomArray(random, n, 0, 1);
      const x = Tensor.from(ctx, xs, [n]);
      let total = 0;
      let magnitude = 0;
      for (const v of xs) {
        total += v;
        magnitude += Math.abs(v);
      }
      expectClose(await sum(x).read(), [total], { atol: 1e-6 * magnitude, rtol: 0 }, 'sum');
      expectClose(await mean(x).read(), [total / n], { atol: (1e-6 * magnitude) / n, rtol: 0 }, 'mean');
      x.dispose();
    });
  }

  it('a large value followed by 4,095 small ones (one pass; serial on software adapters)', async () => {
    const ctx = gpu();
    const xs = new Float32Array(4096).fill(1e-8);
    xs[0] = 1;
    expectClose(await sum(Tensor.from(ctx, xs, [xs.length])).read(), [1 + 4095 * 1e-8], { atol: 2e-7, rtol: 0 }, 'sum');
  });

  it('a large value followed by 1,000,000 small ones', async () => {
    const ctx = gpu();
    const xs = new Float32Array(1_000_001).fill(1e-8);
    xs[0] = 1;
    // A plain f32 loop in one invocation would return 1.0000 + ~0; the exact sum is 1.01.
    expectClose(await sum(Tensor.from(ctx, xs, [xs.length])).read(), [1 + 1_000_000 * 1e-8], { atol: 2e-6, rtol: 0 }, 'sum');
  });

  for (const [rows, cols] of [[1, 1], [7, 130], [1000, 3]] as const) {
    it(`column_sum over [${rows}, ${cols}]`, async () => {
      const ctx = gpu();
      const xs = randomArray(random, rows * cols);
      const expected = new Float64Array(cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expected[c]! += xs[r * cols + c]!;
      expectClose(await columnSum(Tensor.from(ctx, xs, [rows, cols])).read(), expected, { atol: 1e-6 * rows, rtol: 1e-6 }, 'column_sum');
    });
  }
});
