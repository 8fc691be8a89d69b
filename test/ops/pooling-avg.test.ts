// Shader-level tests of shaders/avg_pool.wgsl (entries avg_pool_forward, avg_pool_backward,
// global_avg_pool_forward, global_avg_pool_backward) against float64 references, and the
// avg_pool2d / global_avg_pool gradient rules against finite differences.
// Tolerances: windowed entries sum ≤ size² (or ⌈size/stride⌉²) f32 terms: atol 1e-6,
// rtol 1e-5; the global mean is a compensated sum over H·W terms: atol 1e-6, rtol 1e-5.
// General windows (non-square, strides per axis, [top, left, bottom, right] pads, ceil mode,
// count_include_pad 0 and 1) against a reference that divides each window by its count
// (positions inside the padded map, or inside the map only): same tolerance.
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { avgPool2d, avgPool2dBackward, globalAvgPool, globalAvgPoolBackward } from '../../src/ops/pooling.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const tolerance = { atol: 1e-6, rtol: 1e-5 };

type Shape4 = [number, number, number, number];

const windowCases: { shape: Shape4; size: number; stride: number }[] = [
  { shape: [1, 1, 4, 4], size: 2, stride: 2 },
  { shape: [2, 3, 7, 9], size: 2, stride: 2 },
  { shape: [2, 2, 9, 8], size: 3, stride: 1 },
  { shape: [3, 2, 11, 10], size: 3, stride: 2 },
  { shape: [1, 2, 9, 9], size: 2, stride: 3 },
  { shape: [4, 5, 28, 28], size: 2, stride: 2 },
];

/** Float64 forward and backward of average pooling, written as the sums they define. */
function avgPoolReference(x: Float32Array, dy: Float32Array, [n, c, h, w]: Shape4, size: number, stride: number) {
  const outH = Math.floor((h - size) / stride) + 1;
  const outW = Math.floor((w - size) / stride) + 1;
  const y = new Float64Array(n * c * outH * outW);
  const dx = new Float64Array(x.length);
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o++) {
        for (let kh = 0; kh < size; kh++) {
          for (let kw = 0; kw < size; kw++) {
            const i = (p * h + oh * stride + kh) * w + ow * stride + kw;
            y[o] = y[o]! + x[i]! / (size * size);
            dx[i] = dx[i]! + dy[o]! / (size * size);
          }
        }
      }
    }
  }
  return { y, dx, outShape: [n, c, outH, outW] };
}

describe('avg_pool.wgsl avg_pool_forward / avg_pool_backward', () => {
  for (const { shape, size, stride } of windowCases) {
    it(`x [${shape}] size ${size} stride ${stride}`, async () => {
      const ctx = gpu();
      const random = new Random(shape.reduce((a, b) => a * 31 + b) + size * 7 + stride);
      const xData = randomArray(random, shape.reduce((a, b) => a * b));
      const outH = Math.floor((shape[2] - size) / stride) + 1;
      const outW = Math.floor((shape[3] - size) / stride) + 1;
      const dyData = randomArray(random, shape[0] * shape[1] * outH * outW);
      const ref = avgPoolReference(xData, dyData, shape, size, stride);
      const y = avgPool2d(Tensor.from(ctx, xData, shape), { size, stride });
      expect(y.shape).toEqual(ref.outShape);
      expectClose(await y.read(), ref.y, tolerance, 'y');
      const dx = avgPool2dBackward(Tensor.from(ctx, dyData, ref.outShape), { size, stride, inputShape: shape });
      expectClose(await dx.read(), ref.dx, tolerance, 'dx');
    });
  }

  it('rejects windows that do not fit and a dy of the wrong shape', () => {
    const ctx = gpu();
    const x = Tensor.from(ctx, randomArray(new Random(1), 2 * 3 * 6 * 6), [2, 3, 6, 6]);
    expect(() => avgPool2d(x, { size: 7 })).toThrow(/avg_pool2d: a 7×7 window does not fit in x \[2, 3, 6, 6\]/);
    expect(() => avgPool2dBackward(x, { size: 2, inputShape: [2, 3, 6, 6] })).toThrow(
      /avg_pool2d_backward: dy is \[2, 3, 6, 6\] but pooling \[2, 3, 6, 6\] gives \[2, 3, 3, 3\]/,
    );
  });
});

describe('avg_pool.wgsl global_avg_pool_forward / global_avg_pool_backward', () => {
  for (const shape of [[1, 1, 1, 1], [2, 3, 5, 7], [4, 16, 28, 28], [3, 2, 56, 56]] as Shape4[]) {
    it(`x [${shape}]`, async () => {
      const ctx = gpu();
      const random = new Random(shape.reduce((a, b) => a * 17 + b));
      const [n, c, h, w] = shape;
      const xData = randomArray(random, n * c * h * w);
      const dyData = randomArray(random, n * c);
      const yRef = new Float64Array(n * c);
      const dxRef = new Float64Array(xData.length);
      for (let i = 0; i < xData.length; i++) {
        const p = Math.floor(i / (h * w));
        yRef[p] = yRef[p]! + xData[i]! / (h * w);
        dxRef[i] = dyData[p]! / (h * w);
      }
      const y = globalAvgPool(Tensor.from(ctx, xData, shape));
      expect(y.shape).toEqual([n, c]);
      expectClose(await y.read(), yRef, tolerance, 'y');
      const dx = globalAvgPoolBackward(Tensor.from(ctx, dyData, [n, c]), shape);
      expectClose(await dx.read(), dxRef, tolerance, 'dx');
    });
  }

  it('rejects a non-NCHW input', () => {
    const x = Tensor.from(gpu(), randomArray(new Random(2), 12), [3, 4]);
    expect(() => globalAvgPool(x)).toThrow(/global_avg_pool: x \(NCHW\) must have rank 4, got shape \[3, 4\]/);
  });
});

describe('average pooling gradient rules vs finite differences', () => {
  const random = new Random(11);
  for (const { shape, size, stride } of [windowCases[1]!, windowCases[3]!]) {
    it(`avg_pool2d x [${shape}] size ${size} stride ${stride}`, async () => {
      await checkGradients(gpu(), ([x]) => avgPool2d(x!, { size, stride }), [
        { name: 'x', shape, data: randomArray(random, shape.reduce((a, b) => a * b)) },
      ], { samples: 12 });
    });
  }

  it('global_avg_pool x [2, 3, 5, 4]', async () => {
    await checkGradients(gpu(), ([x]) => globalAvgPool(x!), [{ name: 'x', shape: [2, 3, 5, 4], data: randomArray(random, 120) }], {
      samples: 12,
    });
  });
});

interface GeneralCase {
  shape: Shape4;
  size: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  ceil: boolean;
  includePad: boolean;
}

function generalOut(n: number, k: number, s: number, before: number, after: number, ceil: boolean): number {
  const room = n + before + after - k;
  const out = (ceil ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
  return ceil && (out - 1) * s >= n + before ? out - 1 : out;
}

/** Float64 forward and backward: each window's sum over the map, divided by its count. */
function generalReference(x: Float32Array, dy: Float32Array | undefined, c: GeneralCase) {
  const [n, ch, h, w] = c.shape;
  const outH = generalOut(h, c.size[0], c.stride[0], c.pads[0], c.pads[2], c.ceil);
  const outW = generalOut(w, c.size[1], c.stride[1], c.pads[1], c.pads[3], c.ceil);
  const y = new Float64Array(n * ch * outH * outW);
  const dx = new Float64Array(x.length);
  let o = 0;
  for (let p = 0; p < n * ch; p++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o++) {
        const taps: number[] = [];
        let counted = 0;
        for (let kh = 0; kh < c.size[0]; kh++) {
          const row = oh * c.stride[0] - c.pads[0] + kh;
          for (let kw = 0; kw < c.size[1]; kw++) {
            const column = ow * c.stride[1] - c.pads[1] + kw;
            const inMap = row >= 0 && row < h && column >= 0 && column < w;
            const inPadded = row >= -c.pads[0] && row < h + c.pads[2] && column >= -c.pads[1] && column < w + c.pads[3];
            if (inMap) taps.push((p * h + row) * w + column);
            if (c.includePad ? inPadded : inMap) counted++;
          }
        }
        for (const i of taps) {
          y[o] = y[o]! + x[i]! / counted;
          if (dy) dx[i] = dx[i]! + dy[o]! / counted;
        }
      }
    }
  }
  return { y, dx, outShape: [n, ch, outH, outW] };
}

const generalCases: GeneralCase[] = [
  { shape: [2, 3, 7, 9], size: [2, 3], stride: [2, 3], pads: [0, 0, 0, 0], ceil: false, includePad: true },
  { shape: [2, 2, 9, 8], size: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1], ceil: false, includePad: false }, // ShuffleNet/Inception branch pool
  { shape: [2, 2, 9, 8], size: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1], ceil: false, includePad: true },
  { shape: [1, 3, 10, 11], size: [3, 3], stride: [2, 2], pads: [0, 0, 0, 0], ceil: true, includePad: true }, // overhang never counts
  { shape: [1, 2, 9, 10], size: [3, 2], stride: [2, 1], pads: [1, 0, 2, 1], ceil: true, includePad: false },
  { shape: [1, 2, 9, 10], size: [3, 2], stride: [2, 1], pads: [1, 0, 2, 1], ceil: true, includePad: true },
  { shape: [3, 4, 1, 15], size: [1, 3], stride: [1, 2], pads: [0, 1, 0, 1], ceil: false, includePad: false }, // 1-D as H = 1
];

describe('avg_pool.wgsl general windows: non-square, strides per axis, pads, ceil mode, count_include_pad', () => {
  const options = (c: GeneralCase) => ({ size: c.size, stride: c.stride, padding: c.pads, ceilMode: c.ceil, countIncludePad: c.includePad });
  const name = (c: GeneralCase) => `x [${c.shape}] size [${c.size}] stride [${c.stride}] pads [${c.pads}]${c.ceil ? ' ceil' : ''} count_include_pad ${Number(c.includePad)}`;
  generalCases.forEach((c, index) => {
    it(name(c), async () => {
      const ctx = gpu();
      const random = new Random(600 + index);
      const xData = randomArray(random, c.shape.reduce((a, b) => a * b));
      const { outShape } = generalReference(xData, undefined, c);
      const dyData = randomArray(random, outShape.reduce((a, b) => a * b));
      const ref = generalReference(xData, dyData, c);
      const y = avgPool2d(Tensor.from(ctx, xData, c.shape), options(c));
      expect(y.shape).toEqual(ref.outShape);
      expectClose(await y.read(), ref.y, tolerance, 'y');
      const dx = avgPool2dBackward(Tensor.from(ctx, dyData, ref.outShape), { ...options(c), inputShape: c.shape });
      expectClose(await dx.read(), ref.dx, tolerance, 'dx');
    });
  });

  it('refuses a dilation', () => {
    const x = Tensor.from(gpu(), randomArray(new Random(3), 2 * 2 * 6 * 6), [2, 2, 6, 6]);
    expect(() => avgPool2d(x, { size: 2, dilation: 2 } as never)).toThrow(/avg_pool2d: dilation 2 \(average pooling has no dilation\)/);
  });

  for (const index of [1, 4]) {
    const c = generalCases[index]!;
    it(`gradient by finite differences: ${name(c)}`, async () => {
      await checkGradients(gpu(), ([x]) => avgPool2d(x!, options(c)), [
        { name: 'x', shape: c.shape, data: randomArray(new Random(13), c.shape.reduce((a, b) => a * b)) },
      ], { samples: 12 });
    });
  }
});
