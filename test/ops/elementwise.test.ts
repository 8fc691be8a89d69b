// Shader-level tests of shaders/elementwise.wgsl, every entry point, against float64
// references. These kernels do one or two f32 operations per element, so the tolerance is
// f32 rounding: atol 1e-7, rtol 1e-6.
import { describe, expect, it } from 'vitest';
import { accumulate, add, broadcastScalar, mul, Random, relu, reluBackward, reshape, scale, Tensor } from '../../src/index.js';
import { scaleRows } from '../../src/ops/elementwise.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(7);
const tol = { atol: 1e-7, rtol: 1e-6 };
// 70,000 elements need more than one row of workgroups in some kernels; 1 and 257 are edges.
const sizes = [1, 257, 70_001];

describe('elementwise.wgsl', () => {
  for (const n of sizes) {
    it(`relu, relu_backward, copy (reshape), add, mul, scale on ${n} elements`, async () => {
      const ctx = gpu();
      const xs = randomArray(random, n);
      const ys = randomArray(random, n);
      const x = Tensor.from(ctx, xs, [n]);
      const y = Tensor.from(ctx, ys, [n]);
      const f64 = (f: (a: number, b: number) => number) => Float64Array.from(xs, (a, i) => f(a, ys[i]!));
      expectClose(await relu(x).read(), f64((a) => Math.max(a, 0)), tol, 'relu');
      expectClose(await reluBackward(x, y).read(), f64((dy, out) => (out > 0 ? dy : 0)), tol, 'relu_backward');
      expectClose(await reshape(x, [1, n]).read(), f64((a) => a), tol, 'copy');
      expectClose(await add(x, y).read(), f64((a, b) => a + b), tol, 'add');
      expectClose(await mul(x, y).read(), f64((a, b) => a * b), tol, 'mul');
      expectClose(await scale(x, -1.75).read(), f64((a) => a * -1.75), tol, 'scale');
    });
  }

  it('scale_rows multiplies each row by its own factor', async () => {
    const ctx = gpu();
    const [rows, cols] = [37, 13];
    const xs = randomArray(random, rows * cols);
    const ss = randomArray(random, rows);
    const out = await scaleRows(Tensor.from(ctx, xs, [rows, cols]), Tensor.from(ctx, ss, [rows])).read();
    expectClose(out, Float64Array.from(xs, (v, i) => v * ss[Math.floor(i / cols)]!), tol, 'scale_rows');
  });

  // Rows longer than 64: the row-grid entries (scale_rows_wide, wide4 when cols % 4 = 0, and
  // wide4_serial for software adapters), both dispatch choices forced on this adapter.
  for (const kind of ['gpu', 'software'] as const) {
    for (const [rows, cols] of [[3, 70], [5, 1000], [2, 4099], [3, 4100]] as const) {
      it(`scale_rows on [${rows}, ${cols}], ${kind} dispatch`, async () => {
        const ctx = gpu();
        const adapterKind = ctx.profile.adapterKind;
        ctx.profile.adapterKind = kind;
        try {
          const xs = randomArray(random, rows * cols);
          const ss = randomArray(random, rows);
          const out = await scaleRows(Tensor.from(ctx, xs, [rows, cols]), Tensor.from(ctx, ss, [rows])).read();
          expectClose(out, Float64Array.from(xs, (v, i) => v * ss[Math.floor(i / cols)]!), tol, 'scale_rows');
        } finally {
          ctx.profile.adapterKind = adapterKind;
        }
      });
    }
  }

  it('broadcast_scalar fills a shape with s[0]·factor', async () => {
    const ctx = gpu();
    const s = Tensor.from(ctx, new Float32Array([0.625]), [1]);
    const out = await broadcastScalar(s, [3, 300], 0.5).read();
    expectClose(out, new Float64Array(900).fill(0.3125), tol, 'broadcast_scalar');
  });

  it('accumulate adds into its target in place, run after run', async () => {
    const ctx = gpu();
    const xs = randomArray(random, 300);
    const start = randomArray(random, 300);
    const target = Tensor.from(ctx, start, [300]);
    const x = Tensor.from(ctx, xs, [300]);
    accumulate(target, x);
    accumulate(target, x);
    expectClose(await target.read(), Float64Array.from(start, (v, i) => v + 2 * xs[i]!), { atol: 1e-6, rtol: 1e-6 }, 'accumulate');
  });

  it('shape rules name the shapes', () => {
    const ctx = gpu();
    const a = Tensor.from(ctx, new Float32Array(6).fill(1), [2, 3]);
    const b = Tensor.from(ctx, new Float32Array(6).fill(1), [3, 2]);
    expect(() => add(a, b)).toThrow('add: shapes must match, got [2, 3] and [3, 2]');
    expect(() => reshape(a, [4, 2])).toThrow(/cannot reshape \[2,3\] \(6 values\) to \[4,2\] \(8 values\)/);
    expect(() => scaleRows(a, a)).toThrow(/s must have rank 1/);
  });
});
