// Shader-level tests of shaders/reduce.wgsl (reduce_sum, column_sum) against float64 sums.
// Tolerance: rtol 1e-6 of Σ|x| (compensated per-invocation sums plus a tree reduction keep
// the f32 error near one rounding per level).
import { describe, it } from 'vitest';
import { columnSum, mean, Random, sum, Tensor } from '../src/index.js';
import { useGpu } from './support/gpu.js';
import { expectClose, randomArray } from './support/reference.js';

const gpu = useGpu();
const random = new Random(11);

describe('reduce.wgsl', () => {
  for (const n of [1, 255, 256, 1000, 1_000_003]) {
    it(`reduce_sum and mean over ${n} values`, async () => {
      const ctx = gpu();
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
