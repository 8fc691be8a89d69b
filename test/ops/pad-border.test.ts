// Shader-level tests of shaders/pad_border.wgsl (entries pad_border, pad_border_backward:
// ONNX Pad modes 'reflect' and 'edge' on H and W) against float64 references, and the
// gradient rule by finite differences. Tolerances: the forward copies values (exact); the
// backward sums at most (pad + 1)² or 3² f32 terms: atol 1e-6, rtol 1e-6.
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import type { Pads2d } from '../../src/ops/layout.js';
import { type BorderMode, pad2dBorder, pad2dBorderBackward } from '../../src/ops/pad-border.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();

/** numpy's 'reflect' and 'edge' index maps, written out. */
function source(i: number, n: number, mode: BorderMode): number {
  if (mode === 'edge') return Math.min(Math.max(i, 0), n - 1);
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

function reference(x: Float32Array, dy: Float32Array, [n, c, h, w]: number[], p: Pads2d, mode: BorderMode) {
  const outH = h! + p.top + p.bottom;
  const outW = w! + p.left + p.right;
  const y = new Float64Array(n! * c! * outH * outW);
  const dx = new Float64Array(x.length);
  for (let plane = 0; plane < n! * c!; plane++) {
    for (let r = 0; r < outH; r++) {
      for (let col = 0; col < outW; col++) {
        const o = (plane * outH + r) * outW + col;
        const i = (plane * h! + source(r - p.top, h!, mode)) * w! + source(col - p.left, w!, mode);
        y[o] = x[i]!;
        dx[i] = dx[i]! + dy[o]!;
      }
    }
  }
  return { y, dx, shape: [n!, c!, outH, outW] };
}

const cases: { shape: number[]; pads: Pads2d }[] = [
  { shape: [1, 1, 4, 5], pads: { top: 1, left: 1, bottom: 1, right: 1 } },
  { shape: [2, 3, 5, 4], pads: { top: 2, left: 0, bottom: 1, right: 3 } },
  { shape: [1, 2, 6, 7], pads: { top: 0, left: 3, bottom: 5, right: 6 } }, // pads up to n − 1
  { shape: [3, 1, 2, 9], pads: { top: 1, left: 4, bottom: 1, right: 2 } },
];

describe('pad_border.wgsl pad_border / pad_border_backward', () => {
  for (const mode of ['reflect', 'edge'] as const) {
    cases.forEach(({ shape, pads }, index) => {
      it(`${mode} x [${shape}] pads ${JSON.stringify(pads)}`, async () => {
        const ctx = gpu();
        const random = new Random(40 + index);
        const xData = randomArray(random, shape.reduce((a, b) => a * b));
        const outCount = shape[0]! * shape[1]! * (shape[2]! + pads.top + pads.bottom) * (shape[3]! + pads.left + pads.right);
        const dyData = randomArray(random, outCount);
        const ref = reference(xData, dyData, shape, pads, mode);
        const y = pad2dBorder(Tensor.from(ctx, xData, shape), pads, mode);
        expect(y.shape).toEqual(ref.shape);
        expectClose(await y.read(), ref.y, { atol: 0, rtol: 0 }, 'y');
        const dx = pad2dBorderBackward(Tensor.from(ctx, dyData, ref.shape), shape, pads, mode);
        expectClose(await dx.read(), ref.dx, { atol: 1e-6, rtol: 1e-6 }, 'dx');
      });
    });
    it(`${mode}: edge pads wider than the map (edge mode only) and one-pixel maps`, async () => {
      const ctx = gpu();
      const shape = [2, 2, 1, 3];
      const pads = mode === 'edge' ? { top: 3, left: 5, bottom: 2, right: 4 } : { top: 0, left: 2, bottom: 0, right: 2 };
      const random = new Random(77);
      const xData = randomArray(random, 12);
      const outCount = 4 * (1 + pads.top + pads.bottom) * (3 + pads.left + pads.right);
      const dyData = randomArray(random, outCount);
      const ref = reference(xData, dyData, shape, pads, mode);
      expectClose(await pad2dBorder(Tensor.from(ctx, xData, shape), pads, mode).read(), ref.y, { atol: 0, rtol: 0 }, 'y');
      expectClose(await pad2dBorderBackward(Tensor.from(ctx, dyData, ref.shape), shape, pads, mode).read(), ref.dx, { atol: 1e-6, rtol: 1e-6 }, 'dx');
    });
    it(`${mode} gradient by finite differences`, async () => {
      await checkGradients(gpu(), ([x]) => pad2dBorder(x!, { top: 2, left: 1, bottom: 1, right: 2 }, mode), [
        { name: 'x', shape: [2, 2, 4, 3], data: randomArray(new Random(5), 48) },
      ], { samples: 16 });
    });
  }

  it('rejects reflect pads as large as the map, and bad modes', () => {
    const x = Tensor.from(gpu(), randomArray(new Random(1), 2 * 3 * 4 * 5), [2, 3, 4, 5]);
    expect(() => pad2dBorder(x, { top: 4, left: 0, bottom: 0, right: 0 }, 'reflect')).toThrow(/pad2d_border: reflect pads \[4, 0, 0, 0\] need an input larger than each pad, got \[2, 3, 4, 5\]/);
    expect(pad2dBorder(x, { top: 4, left: 0, bottom: 0, right: 0 }, 'edge').shape).toEqual([2, 3, 8, 5]);
    expect(() => pad2dBorder(x, { top: 1, left: 1, bottom: 1, right: 1 }, 'wrap' as BorderMode)).toThrow(/mode must be 'reflect' or 'edge', got 'wrap'/);
  });
});
