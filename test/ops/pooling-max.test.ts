// Shader-level tests of shaders/max_pool.wgsl (entries max_pool_forward, max_pool_backward,
// max_pool_backward_tiled[_relu]) against float64 references, and the max_pool2d gradient
// rule against finite differences (also with ReLU's mask fused into the backward pass).
// Tolerances: forward values and argmax are exact (a max selects an input, no arithmetic);
// backward sums at most ⌈size/stride⌉² f32 terms: atol 1e-6, rtol 1e-6 (non-overlapping
// windows: exact, each dx is one dy or 0).
// Backward has two kernels: max_pool_backward_tiled for stride ≥ size (one invocation per
// window writing its whole cell) and max_pool_backward for overlapping windows (a gather per
// input). Every case runs with output buffers poisoned with NaN, so an element a kernel
// fails to write shows; the shapes include windows that do not tile the map (rows and
// columns, or gaps between windows, that no window covers) and maps full of ties.
import { describe, expect, it } from 'vitest';
import { type GpuContext, Graph, gradients, Random, relu, sum, Tensor } from '../../src/index.js';
import { maxPool2d, maxPool2dBackward, maxPool2dBackwardRelu, maxPool2dWithArgmax } from '../../src/ops/pooling.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();

type Case = { shape: [number, number, number, number]; size: number; stride: number };

const cases: Case[] = [
  { shape: [1, 1, 4, 4], size: 2, stride: 2 },
  { shape: [2, 3, 7, 9], size: 2, stride: 2 }, // odd sizes: the last row/column is dropped
  { shape: [2, 2, 9, 8], size: 3, stride: 1 }, // overlapping windows
  { shape: [3, 2, 11, 10], size: 3, stride: 2 }, // overlapping, uneven
  { shape: [1, 2, 9, 9], size: 2, stride: 3 }, // gaps between windows
  { shape: [4, 5, 28, 28], size: 2, stride: 2 },
  { shape: [2, 3, 7, 7], size: 2, stride: 2 }, // last row and column uncovered
  { shape: [2, 2, 11, 11], size: 3, stride: 3 }, // two rows and columns uncovered
  { shape: [1, 3, 8, 10], size: 2, stride: 3 }, // gaps; the last cell is shorter than a stride
  { shape: [2, 2, 7, 12], size: 3, stride: 4 }, // gaps, non-square
  { shape: [1, 2, 5, 6], size: 5, stride: 5 }, // one window per plane, one column uncovered
  { shape: [2, 2, 5, 4], size: 1, stride: 1 }, // identity
  { shape: [1, 1, 6, 6], size: 2, stride: 1 }, // overlapping, stride 1
  { shape: [64, 8, 26, 26], size: 2, stride: 2 }, // the student's map at batch 64, 8 channels
];

/** Float64 reference: pooled maxima and the first flat index of each maximum. */
function maxPoolReference(x: Float32Array, [n, c, h, w]: number[], size: number, stride: number) {
  const outH = Math.floor((h! - size) / stride) + 1;
  const outW = Math.floor((w! - size) / stride) + 1;
  const values = new Float64Array(n! * c! * outH * outW);
  const argmax = new Uint32Array(values.length);
  let o = 0;
  for (let p = 0; p < n! * c!; p++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (let kh = 0; kh < size; kh++) {
          for (let kw = 0; kw < size; kw++) {
            const i = (p * h! + oh * stride + kh) * w! + ow * stride + kw;
            if (x[i]! > best) [best, bestIndex] = [x[i]!, i];
          }
        }
        values[o] = best;
        argmax[o] = bestIndex;
      }
    }
  }
  return { values, argmax, outH, outW };
}

/**
 * Runs `make` so that its outputs land in buffers the pool last held NaN in (the pool hands
 * back the most recently released buffer of a size), and checks that they did.
 */
function poisoned<T extends Tensor>(ctx: GpuContext, shapes: number[][], make: () => T[]): T[] {
  const poison = shapes.map((shape) => Tensor.from(ctx, new Float32Array(shape.reduce((a, b) => a * b)).fill(Number.NaN), shape));
  const buffers = new Set(poison.map((t) => t.buffer));
  for (const t of poison) t.dispose();
  const outputs = make();
  for (const t of outputs) expect(buffers.has(t.buffer), 'output in a poisoned buffer').toBe(true);
  return outputs;
}

/** Distinct values at least 0.03 apart, shuffled: no near-ties, so finite differences are valid. */
function wellSeparated(random: Random, n: number): Float32Array {
  const values = Float32Array.from({ length: n }, (_, i) => (i - n / 2 + 0.5) * 0.03);
  return random.shuffle(values);
}

describe('max_pool.wgsl max_pool_forward / max_pool_backward', () => {
  for (const { shape, size, stride } of cases) {
    for (const ties of [false, true]) {
      it(`x [${shape}] size ${size} stride ${stride}${ties ? ', ties' : ''}`, async () => {
        const ctx = gpu();
        const random = new Random(shape.reduce((a, b) => a * 31 + b) + size * 7 + stride + (ties ? 1000 : 0));
        const count = shape.reduce((a, b) => a * b);
        // Ties: values from {-1, 0, 1}, so most windows hold their maximum more than once.
        const xData = ties ? Float32Array.from({ length: count }, () => Math.floor(random.uniform() * 3) - 1) : randomArray(random, count);
        const ref = maxPoolReference(xData, shape, size, stride);
        const x = Tensor.from(ctx, xData, shape);
        const pooledShape = [shape[0], shape[1], ref.outH, ref.outW];
        const [y, argmax] = poisoned(ctx, [pooledShape, pooledShape], () => maxPool2dWithArgmax(x, { size, stride }));
        expect(y.shape).toEqual(pooledShape);
        expectClose(await y.read(), ref.values, { atol: 0, rtol: 0 }, 'max');
        expect(Array.from(await argmax.read())).toEqual(Array.from(ref.argmax));

        const dy = Tensor.from(ctx, randomArray(random, ref.values.length), y.shape);
        const dyData = await dy.read();
        const [dx] = poisoned(ctx, [shape], () => [maxPool2dBackward(dy, argmax, { size, stride, inputShape: shape })]);
        const dxRef = new Float64Array(count);
        ref.argmax.forEach((i, o) => (dxRef[i] = dxRef[i]! + dyData[o]!));
        expectClose(await dx.read(), dxRef, { atol: 1e-6, rtol: 1e-6 }, 'dx');
      });
    }
  }

  it('defaults stride to size and rejects windows that do not fit', () => {
    const x = Tensor.from(gpu(), randomArray(new Random(1), 2 * 3 * 6 * 6), [2, 3, 6, 6]);
    expect(maxPool2d(x, { size: 3 }).shape).toEqual([2, 3, 2, 2]);
    expect(() => maxPool2d(x, { size: 7 })).toThrow(/max_pool2d: a 7×7 window does not fit in x \[2, 3, 6, 6\]/);
    expect(() => maxPool2d(x, { size: 2, stride: 0 })).toThrow(/stride must be a positive integer/);
  });
});

describe('max_pool2d gradient rule vs finite differences', () => {
  // Non-overlapping (tiled backward, uncovered last row/column and gaps) and overlapping.
  for (const { shape, size, stride } of [cases[1]!, cases[3]!, cases[7]!, cases[8]!]) {
    it(`x [${shape}] size ${size} stride ${stride}`, async () => {
      const random = new Random(7);
      const count = shape.reduce((a, b) => a * b);
      await checkGradients(gpu(), ([x]) => maxPool2d(x!, { size, stride }), [{ name: 'x', shape, data: wellSeparated(random, count) }], {
        samples: 12,
      });
    });
  }
});

// General windows: [sizeH, sizeW], [strideH, strideW], pads [top, left, bottom, right],
// dilations, ceil mode. The reference visits each window's taps and skips positions outside
// the map; in ceil mode the output is rounded up, less a last window that would start in
// the bottom/right padding (PyTorch's and onnxruntime's rule).
interface GeneralCase {
  shape: [number, number, number, number];
  size: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
  ceil: boolean;
}

function generalOut(n: number, k: number, s: number, d: number, before: number, after: number, ceil: boolean): number {
  const room = n + before + after - (d * (k - 1) + 1);
  const out = (ceil ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
  return ceil && (out - 1) * s >= n + before ? out - 1 : out;
}

function generalReference(x: Float32Array, c: GeneralCase) {
  const [n, ch, h, w] = c.shape;
  const outH = generalOut(h, c.size[0], c.stride[0], c.dilation[0], c.pads[0], c.pads[2], c.ceil);
  const outW = generalOut(w, c.size[1], c.stride[1], c.dilation[1], c.pads[1], c.pads[3], c.ceil);
  const values = new Float64Array(n * ch * outH * outW);
  const argmax = new Uint32Array(values.length);
  let o = 0;
  for (let p = 0; p < n * ch; p++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (let kh = 0; kh < c.size[0]; kh++) {
          const row = oh * c.stride[0] - c.pads[0] + kh * c.dilation[0];
          if (row < 0 || row >= h) continue;
          for (let kw = 0; kw < c.size[1]; kw++) {
            const column = ow * c.stride[1] - c.pads[1] + kw * c.dilation[1];
            if (column < 0 || column >= w) continue;
            const i = (p * h + row) * w + column;
            if (x[i]! > best) [best, bestIndex] = [x[i]!, i];
          }
        }
        values[o] = best;
        argmax[o] = bestIndex;
      }
    }
  }
  return { values, argmax, outH, outW };
}

const generalCases: GeneralCase[] = [
  { shape: [2, 3, 7, 9], size: [2, 3], stride: [2, 3], pads: [0, 0, 0, 0], dilation: [1, 1], ceil: false }, // non-square, tiled backward
  { shape: [2, 2, 9, 8], size: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], ceil: false }, // ResNet's stem pool
  { shape: [1, 3, 10, 11], size: [3, 3], stride: [2, 2], pads: [0, 0, 0, 0], dilation: [1, 1], ceil: true }, // GoogLeNet/SqueezeNet ceil mode
  { shape: [2, 2, 8, 7], size: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0], dilation: [1, 1], ceil: true }, // ceil: last window hangs over the edge
  { shape: [1, 2, 9, 10], size: [3, 2], stride: [1, 2], pads: [1, 0, 2, 1], dilation: [1, 1], ceil: false }, // asymmetric pads
  { shape: [2, 2, 11, 12], size: [2, 3], stride: [1, 2], pads: [0, 1, 1, 1], dilation: [2, 3], ceil: false }, // dilations
  { shape: [1, 2, 12, 13], size: [3, 3], stride: [3, 2], pads: [1, 2, 1, 2], dilation: [2, 2], ceil: true }, // all at once
  { shape: [3, 4, 1, 15], size: [1, 3], stride: [1, 2], pads: [0, 1, 0, 1], dilation: [1, 1], ceil: true }, // 1-D as H = 1
];

const describeGeneral = (c: GeneralCase) => `x [${c.shape}] size [${c.size}] stride [${c.stride}] pads [${c.pads}] dilation [${c.dilation}]${c.ceil ? ' ceil' : ''}`;
const generalOptions = (c: GeneralCase) => ({ size: c.size, stride: c.stride, padding: c.pads, dilation: c.dilation, ceilMode: c.ceil });

describe('max_pool.wgsl general windows: non-square, strides per axis, pads, dilations, ceil mode', () => {
  generalCases.forEach((c, index) => {
    it(describeGeneral(c), async () => {
      const ctx = gpu();
      const random = new Random(500 + index);
      const count = c.shape.reduce((a, b) => a * b);
      const xData = randomArray(random, count);
      const ref = generalReference(xData, c);
      const x = Tensor.from(ctx, xData, c.shape);
      const pooledShape = [c.shape[0], c.shape[1], ref.outH, ref.outW];
      const [y, argmax] = poisoned(ctx, [pooledShape, pooledShape], () => maxPool2dWithArgmax(x, generalOptions(c)));
      expect(y.shape).toEqual(pooledShape);
      expectClose(await y.read(), ref.values, { atol: 0, rtol: 0 }, 'max');
      expect(Array.from(await argmax.read())).toEqual(Array.from(ref.argmax));
      const dy = Tensor.from(ctx, randomArray(random, ref.values.length), y.shape);
      const dyData = await dy.read();
      const [dx] = poisoned(ctx, [c.shape], () => [maxPool2dBackward(dy, argmax, { ...generalOptions(c), inputShape: c.shape })]);
      const dxRef = new Float64Array(count);
      ref.argmax.forEach((i, o) => (dxRef[i] = dxRef[i]! + dyData[o]!));
      expectClose(await dx.read(), dxRef, { atol: 1e-6, rtol: 1e-6 }, 'dx');
    });
  });

  for (const index of [1, 3, 6]) {
    const c = generalCases[index]!;
    it(`gradient by finite differences: ${describeGeneral(c)}`, async () => {
      const count = c.shape.reduce((a, b) => a * b);
      await checkGradients(gpu(), ([x]) => maxPool2d(x!, generalOptions(c)), [{ name: 'x', shape: c.shape, data: wellSeparated(new Random(9), count) }], { samples: 12 });
    });
  }

  it('rejects padding as wide as the window and names the padded size', () => {
    const x = Tensor.from(gpu(), randomArray(new Random(1), 2 * 3 * 6 * 6), [2, 3, 6, 6]);
    expect(() => maxPool2d(x, { size: 2, padding: 2 })).toThrow(/max_pool2d: padding 2 must be smaller than the 2×2 window on each side/);
    expect(() => maxPool2d(x, { size: [3, 7], padding: [0, 0, 0, 0] })).toThrow(/max_pool2d: a 3×7 window does not fit in x \[2, 3, 6, 6\]/);
    expect(() => maxPool2d(x, { size: 3, dilation: 3 })).toThrow(/a 3×3 window \(7×7 dilated\) does not fit/);
    expect(maxPool2d(x, { size: 3, stride: 2, ceilMode: true }).shape).toEqual([2, 3, 3, 3]);
  });
});

// ReLU's backward pass fused into the tiled backward (max_pool_backward_tiled_relu): x is a
// ReLU's output, so many windows hold only zeros (ties at 0, which must get no gradient).
// Exact: each dx is one dy or 0.
describe('max_pool.wgsl max_pool_backward_tiled_relu: ReLU mask at the pooled value', () => {
  const tiled = cases.filter((c) => c.stride >= c.size);
  for (const { shape, size, stride } of tiled) {
    it(`x [${shape}] size ${size} stride ${stride}`, async () => {
      const ctx = gpu();
      const random = new Random(shape.reduce((a, b) => a * 37 + b) + size + stride);
      const count = shape.reduce((a, b) => a * b);
      // Mostly negative before the ReLU (a fifth of 2×2 windows all zeros), and the first
      // row of windows of plane 0 all zeros.
      const xData = randomArray(random, count, -1, 0.5).map((v) => Math.max(v, 0));
      xData.fill(0, 0, size * shape[3]);
      const ref = maxPoolReference(xData, shape, size, stride);
      const x = Tensor.from(ctx, xData, shape);
      const [y, argmax] = maxPool2dWithArgmax(x, { size, stride });
      const dy = Tensor.from(ctx, randomArray(random, ref.values.length), y.shape);
      const dyData = await dy.read();
      const [dx] = poisoned(ctx, [shape], () => [maxPool2dBackwardRelu(dy, argmax, y, { size, stride, inputShape: shape })]);
      const dxRef = new Float64Array(count);
      ref.argmax.forEach((i, o) => (dxRef[i] = ref.values[o]! > 0 ? dyData[o]! : 0));
      expect(ref.values.some((v) => v === 0)).toBe(true);
      expectClose(await dx.read(), dxRef, { atol: 0, rtol: 0 }, 'dx');
      for (const t of [x, y, argmax, dy, dx]) t.dispose();
    });
  }

  it('reluBackward of a max-pool backward over the ReLU output takes it in graphs (no relu_backward node left in the plan)', async () => {
    const ctx = gpu();
    const shape = [2, 3, 7, 9];
    const graph = new Graph(ctx);
    const x = graph.input('x', shape);
    const loss = sum(maxPool2d(relu(x), { size: 2 }));
    const [dx] = gradients(loss, [x]);
    const compiled = new Set(dx!.source.kind === 'op' ? [dx!.source.node.op.name] : []);
    expect(compiled).toEqual(new Set(['max_pool2d_backward_relu']));
    // Overlapping windows keep the two passes.
    const [dxOverlap] = gradients(sum(maxPool2d(relu(x), { size: 3, stride: 2 })), [x]);
    expect(dxOverlap!.source.kind === 'op' && dxOverlap!.source.node.op.name).toBe('relu_backward');
    graph.dispose();
  });

  // Differences of ±0.01 never cross ReLU's kink: wellSeparated values are ≥ 0.015 from 0.
  for (const { shape, size, stride } of [cases[1]!, cases[4]!, cases[8]!]) {
    it(`maxPool2d(relu(x)) gradient by finite differences: x [${shape}] size ${size} stride ${stride}`, async () => {
      const count = shape.reduce((a, b) => a * b);
      await checkGradients(gpu(), ([x]) => maxPool2d(relu(x!), { size, stride }), [{ name: 'x', shape, data: wellSeparated(new Random(11), count) }], { samples: 16 });
    });
  }

  it('refuses overlapping windows and mismatched pooled values', () => {
    const ctx = gpu();
    const x = Tensor.from(ctx, randomArray(new Random(2), 2 * 2 * 6 * 6), [2, 2, 6, 6]);
    const [y, argmax] = maxPool2dWithArgmax(x, { size: 3, stride: 2 });
    expect(() => maxPool2dBackwardRelu(y, argmax, y, { size: 3, stride: 2, inputShape: x.shape })).toThrow(/windows that do not overlap/);
    const [y2, argmax2] = maxPool2dWithArgmax(x, { size: 2 });
    expect(() => maxPool2dBackwardRelu(y2, argmax2, x, { size: 2, inputShape: x.shape })).toThrow(/pooled \[2, 2, 6, 6\] must have dy's shape \[2, 2, 3, 3\]/);
    for (const t of [x, y, argmax, y2, argmax2]) t.dispose();
  });
});
