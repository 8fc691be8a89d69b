// Shader-level tests of shaders/layout.wgsl: pad2d / crop2d and concat (place_axis) /
// slice_axis, against plain-JS references on random inputs (exact copies: tolerance 0), and
// finite differences of both gradient rules.
import { describe, expect, it } from 'vitest';
import { concat, pad2d, Random, sliceAxis, Tensor, transpose } from '../../src/index.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(31);

function padReference(x: Float32Array, [n, c, h, w]: number[], top: number, left: number, bottom: number, right: number, value: number): Float32Array {
  const H = h + top + bottom;
  const W = w + left + right;
  const out = new Float32Array(n * c * H * W).fill(value);
  for (let p = 0; p < n * c; p++) for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) out[(p * H + r + top) * W + q + left] = x[(p * h + r) * w + q]!;
  return out;
}

describe('layout.wgsl', () => {
  for (const [shape, pads, value] of [
    [[2, 3, 5, 4], [1, 2, 0, 3], 0],
    [[1, 1, 1, 1], [0, 0, 0, 0], 0],
    [[3, 70, 17, 19], [2, 2, 2, 2], -3.4e38],
  ] as const) {
    it(`pad2d ${shape} by [${pads}] with ${value}`, async () => {
      const xs = randomArray(random, shape.reduce((a, b) => a * b, 1));
      const [top, left, bottom, right] = pads;
      const y = pad2d(Tensor.from(gpu(), xs, [...shape]), { top, left, bottom, right }, value);
      expect(y.shape).toEqual([shape[0], shape[1], shape[2] + top + bottom, shape[3] + left + right]);
      expect(Array.from(await y.read())).toEqual(Array.from(padReference(xs, [...shape], top, left, bottom, right, value)));
    });
  }

  it('pad2d gradient (crop2d) matches finite differences', async () => {
    await checkGradients(gpu(), ([x]) => pad2d(x!, { top: 1, left: 0, bottom: 2, right: 1 }), [{ name: 'x', shape: [2, 2, 3, 3], data: randomArray(random, 36) }]);
  });

  for (const axis of [0, 1, 3]) {
    it(`concat of three tensors along axis ${axis}`, async () => {
      const base = [2, 3, 4, 5];
      const sizes = [1, 2, 3];
      const parts = sizes.map((size) => {
        const shape = base.map((d, i) => (i === axis ? size : d));
        return { shape, data: randomArray(random, shape.reduce((a, b) => a * b, 1)) };
      });
      const y = concat(parts.map((p) => Tensor.from(gpu(), p.data, p.shape)), axis);
      const total = sizes.reduce((a, b) => a + b, 0);
      const outShape = base.map((d, i) => (i === axis ? total : d));
      expect(y.shape).toEqual(outShape);
      const outer = base.slice(0, axis).reduce((a, b) => a * b, 1);
      const inner = base.slice(axis + 1).reduce((a, b) => a * b, 1);
      const expected = new Float32Array(outer * total * inner);
      let offset = 0;
      for (const [k, p] of parts.entries()) {
        for (let o = 0; o < outer; o++) for (let j = 0; j < sizes[k]!; j++) for (let i = 0; i < inner; i++) expected[(o * total + offset + j) * inner + i] = p.data[(o * sizes[k]! + j) * inner + i]!;
        offset += sizes[k]!;
      }
      expect(Array.from(await y.read())).toEqual(Array.from(expected));
    });
  }

  it('concat gradient (slice_axis per input) matches finite differences', async () => {
    await checkGradients(gpu(), ([a, b]) => concat([a!, b!], 1), [
      { name: 'a', shape: [2, 1, 3, 2], data: randomArray(random, 12) },
      { name: 'b', shape: [2, 3, 3, 2], data: randomArray(random, 36) },
    ]);
  });

  it('sliceAxis takes a block along an axis; its gradient (embed_axis) matches finite differences', async () => {
    const xs = randomArray(random, 2 * 5 * 3);
    const y = sliceAxis(Tensor.from(gpu(), xs, [2, 5, 3]), 1, 1, 3);
    const expected = [0, 1].flatMap((o) => [1, 2, 3].flatMap((j) => [0, 1, 2].map((i) => xs[(o * 5 + j) * 3 + i]!)));
    expect(Array.from(await y.read())).toEqual(expected);
    await checkGradients(gpu(), ([x]) => sliceAxis(x!, 1, 2, 2), [{ name: 'x', shape: [2, 5, 3], data: randomArray(random, 30) }]);
    expect(() => sliceAxis(Tensor.from(gpu(), xs, [2, 5, 3]), 1, 4, 2)).toThrow('slice_axis: entries 4 to 5 are not inside axis 1 of [2, 5, 3]');
  });

  for (const [shape, perm] of [
    [[2, 3, 4], [2, 0, 1]],
    [[2, 3, 4, 5], [0, 2, 1, 3]],
    [[2, 1, 3, 2, 2, 3], [5, 3, 1, 0, 4, 2]],
    [[7], [0]],
  ] as const) {
    it(`transpose ${shape} by [${perm}]`, async () => {
      const xs = randomArray(random, shape.reduce((a, b) => a * b, 1));
      const y = transpose(Tensor.from(gpu(), xs, [...shape]), perm);
      const outShape = perm.map((p) => shape[p]!);
      expect(y.shape).toEqual(outShape);
      const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
      const expected = new Float32Array(xs.length);
      for (let i = 0; i < xs.length; i++) {
        let rest = i;
        let source = 0;
        for (let k = outShape.length - 1; k >= 0; k--) {
          source += (rest % outShape[k]!) * strides[perm[k]!]!;
          rest = Math.floor(rest / outShape[k]!);
        }
        expected[i] = xs[source]!;
      }
      expect(Array.from(await y.read())).toEqual(Array.from(expected));
    });
  }

  it('transpose gradient matches finite differences', async () => {
    await checkGradients(gpu(), ([x]) => transpose(x!, [1, 2, 0]), [{ name: 'x', shape: [2, 3, 4], data: randomArray(random, 24) }]);
  });

  it('concat and pad2d say what does not fit', () => {
    expect(() => transpose(Tensor.from(gpu(), new Float32Array(6), [2, 3]), [0, 0])).toThrow('transpose: perm [0,0] is not a permutation of the 2 axes of [2, 3]');
    const ctx = gpu();
    const a = Tensor.from(ctx, new Float32Array(8), [2, 2, 2]);
    const b = Tensor.from(ctx, new Float32Array(12), [2, 3, 2]);
    expect(() => concat([a, b], 2)).toThrow('concat: [2, 3, 2] and [2, 2, 2] differ outside axis 2');
    expect(() => concat([a], 3)).toThrow('concat: axis 3 is not an axis of [2, 2, 2]');
    expect(() => pad2d(Tensor.from(ctx, new Float32Array(16), [1, 1, 4, 4]), { top: -1, left: 0, bottom: 0, right: 0 })).toThrow('pad2d: top must be a non-negative integer, got -1');
  });
});
