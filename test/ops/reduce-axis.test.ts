// Shader-level tests of shaders/reduce_axis.wgsl (entries sum_axis, sum_axis_wide and
// broadcast_axis) against float64 references. Tolerance for sums: |err| ≤ 1e-6·Σ|x| over
// the reduced terms (pairwise f32 accumulation loses ~log2(n) roundings of 6e-8);
// broadcasts are exact copies times a factor (rtol 1e-7). Gradient rules: checkGradients.
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { broadcastAxis, meanAxis, sumAxis } from '../../src/ops/reduce-axis.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();

/** Float64 factor·Σ over `axis`, and Σ|x| over the same terms (the error scale). */
function sumAxisReference(x: Float32Array, shape: number[], axis: number, factor: number) {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const extent = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const sums = new Float64Array(outer * inner);
  const magnitudes = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < extent; k++) {
      for (let i = 0; i < inner; i++) {
        const v = x[(o * extent + k) * inner + i]!;
        sums[o * inner + i] += v;
        magnitudes[o * inner + i] += Math.abs(v);
      }
    }
  }
  return { expected: sums.map((v) => v * factor), scale: Math.max(...magnitudes) * Math.abs(factor) };
}

async function expectAxisReduction(shape: number[], axis: number, mean: boolean, data?: Float32Array): Promise<void> {
  const ctx = gpu();
  const size = shape.reduce((a, b) => a * b, 1);
  const values = data ?? randomArray(new Random(size + axis), size);
  const x = Tensor.from(ctx, values, shape);
  const y = mean ? meanAxis(x, axis) : sumAxis(x, axis);
  const a = axis < 0 ? axis + shape.length : axis;
  const reduced = shape.filter((_, k) => k !== a);
  expect(y.shape).toEqual(reduced.length > 0 ? reduced : [1]);
  const { expected, scale } = sumAxisReference(values, shape, a, mean ? 1 / shape[a]! : 1);
  expectClose(await y.read(), expected, { atol: 1e-6 * scale, rtol: 0 }, `${mean ? 'mean' : 'sum'}Axis`);
  x.dispose();
  y.dispose();
}

describe('reduce_axis.wgsl sum_axis / sum_axis_wide vs float64', () => {
  const shapes = [[7], [5, 9], [1, 6], [6, 1], [3, 4, 5], [2, 3, 4, 5], [2, 1, 3, 1]];
  for (const shape of shapes) {
    for (let axis = 0; axis < shape.length; axis++) {
      for (const mean of [false, true]) {
        it(`${mean ? 'meanAxis' : 'sumAxis'} [${shape}] axis ${axis}`, async () => {
          await expectAxisReduction(shape, axis, mean);
        });
      }
    }
  }

  it('negative axes count from the end', async () => {
    await expectAxisReduction([3, 4, 5], -1, false);
    await expectAxisReduction([3, 4, 5], -3, true);
  });

  // One large value then many tiny ones: each tiny term is below half an ulp of the running
  // total, so a naive f32 loop loses ~1e-4 relative; pairwise sums keep ~1e-7.
  function oneThenTiny(extent: number, columns: number): Float32Array {
    const data = new Float32Array(extent * columns);
    for (let k = 0; k < extent; k++) {
      for (let i = 0; i < columns; i++) data[k * columns + i] = k === 0 ? 1 : 1e-8 * (1 + ((k + i) % 7));
    }
    return data;
  }

  it('long axis, few outputs (sum_axis_wide): [100001, 3] axis 0, stable', async () => {
    await expectAxisReduction([100001, 3], 0, false, oneThenTiny(100001, 3));
  });

  it('long axis, few outputs (sum_axis_wide): [2, 40000] axis 1', async () => {
    await expectAxisReduction([2, 40000], 1, true);
  });

  it('long axis, many outputs (sum_axis): [4096, 1024] axis 0, stable', async () => {
    await expectAxisReduction([4096, 1024], 0, false, oneThenTiny(4096, 1024));
  });
});

describe('reduce_axis.wgsl broadcast_axis vs float64', () => {
  for (const [shape, axis] of [[[4, 5], 0], [[4, 5], 1], [[2, 3, 4], 1], [[6], 0]] as const) {
    it(`[${shape}] along axis ${axis}, factor 0.5`, async () => {
      const ctx = gpu();
      const reduced = shape.filter((_, k) => k !== axis);
      const small = reduced.length > 0 ? reduced : [1];
      const size = small.reduce((a, b) => a * b, 1);
      const values = randomArray(new Random(size * 3 + axis), size);
      const x = Tensor.from(ctx, values, small);
      const y = broadcastAxis(x, shape, axis, 0.5);
      const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const extent = shape[axis]!;
      const total = shape.reduce((a, b) => a * b, 1);
      const expected = Array.from({ length: total }, (_, index) => {
        const o = Math.floor(index / (extent * inner));
        return values[o * inner + (index % inner)]! * 0.5;
      });
      expectClose(await y.read(), expected, { atol: 0, rtol: 1e-7 }, 'broadcastAxis');
      x.dispose();
      y.dispose();
    });
  }
});

describe('reduce_axis gradient rules vs finite differences', () => {
  const random = new Random(3);
  for (const axis of [0, 1, 2]) {
    it(`sumAxis and meanAxis of [3, 4, 5], axis ${axis}`, async () => {
      await checkGradients(gpu(), ([x]) => sumAxis(x!, axis), [{ name: 'x', shape: [3, 4, 5], data: randomArray(random, 60) }]);
      await checkGradients(gpu(), ([x]) => meanAxis(x!, axis), [{ name: 'x', shape: [3, 4, 5], data: randomArray(random, 60) }]);
    });
  }
  it('broadcastAxis [3, 5] -> [3, 4, 5] (axis 1)', async () => {
    await checkGradients(gpu(), ([x]) => broadcastAxis(x!, [3, 4, 5], 1, 0.7), [{ name: 'x', shape: [3, 5], data: randomArray(random, 15) }]);
  });
  it('sumAxis of a long axis (wide variant) [2, 1500], axis 1', async () => {
    await checkGradients(gpu(), ([x]) => sumAxis(x!, 1), [{ name: 'x', shape: [2, 1500], data: randomArray(random, 3000) }]);
  });
});

describe('reduce_axis errors', () => {
  it('names the axis, the shape and the rank', () => {
    const ctx = gpu();
    const x = Tensor.from(ctx, randomArray(new Random(1), 6), [2, 3]);
    expect(() => sumAxis(x, 2)).toThrow(/sum_axis: axis 2 is out of range for shape \[2, 3\] \(rank 2\)/);
    expect(() => meanAxis(x, -3)).toThrow(/mean_axis: axis -3 is out of range/);
    expect(() => broadcastAxis(x, [2, 3], 5)).toThrow(/broadcast_axis: axis 5 is out of range for shape \[2, 3\]/);
    expect(() => broadcastAxis(x, [2, 3, 4], 1)).toThrow(/broadcast_axis: to broadcast along axis 1 to \[2, 3, 4\], x must be \[2, 4\], got \[2, 3\]/);
    x.dispose();
  });
});
