// Shader-level tests of the convolution passes against float64 references written here:
//   shaders/conv2d.wgsl                  forward, bias + optional ReLU fused (entry conv2d)
//   shaders/conv2d_backward_input.wgsl   dx (entry conv2d_backward_input)
//   shaders/conv2d_backward_filter.wgsl  dw (entry conv2d_backward_filter; split-K chunks for few filters and long K)
//   shaders/conv2d_backward_filter_3x3.wgsl  dw (and db) of 3×3 stride-1 layers with few filters, in chunks of rows
//   shaders/conv2d_backward_bias.wgsl    db (entry conv2d_backward_bias)
// and, through the first three, the shared loop shaders/gemm_core.wgsl (4×4 blocks per
// invocation for the small cases, 8×8 for products of 2^22 and more) and index helpers
// shaders/conv2d_geometry.wgsl, stride phases of the backward input pass included. Then
// conv2d's gradient rule by finite differences, and the shape errors. The general cases
// (non-square kernels, unequal strides, [top, left, bottom, right] pads, dilations, and
// the backward input phases that stride and dilation sharing a factor leave without taps)
// run through the same references.
// Tolerance: |err| ≤ 1e-5·√K + 1e-4·|expected|, K the number of summed products
// (f32 accumulation of K terms of size ≤ 1), as for gemm.wgsl.
import { describe, expect, it } from 'vitest';
import { castF16, compile, gradients, Graph, linear, Random, reshape, roundToHalf, softmaxCrossEntropy, Tensor } from '../../src/index.js';
import { conv2d, conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, conv2dBackwardParams, direct3x3Shape, direct3x3Supported, filterGradientPlan } from '../../src/ops/conv2d.js';
import { convGeometry } from '../../src/ops/conv2d-geometry.js';
import { gemmBlock } from '../../src/ops/gemm-core.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();

interface Case {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  /** Overrides: kernel width (kernel is then the height), stride across, pads, dilations [H, W]. */
  kernelWidth?: number;
  strideWidth?: number;
  pads?: [number, number, number, number];
  dilation?: [number, number];
}

/** The case's spacing in full: kernel [kH, kW], stride [sH, sW], pads [t, l, b, r], dilation [dH, dW]. */
function full(c: Case) {
  return {
    kernel: [c.kernel, c.kernelWidth ?? c.kernel] as const,
    stride: [c.stride, c.strideWidth ?? c.stride] as [number, number],
    pads: c.pads ?? ([c.padding, c.padding, c.padding, c.padding] as [number, number, number, number]),
    dilation: c.dilation ?? ([1, 1] as [number, number]),
  };
}

/** conv2d's options for a case. */
const spacingOf = (c: Case) => {
  const f = full(c);
  return { stride: f.stride, padding: f.pads, dilation: f.dilation };
};

// Covers kernel 1, 3, 5; stride 1, 2; padding 0, 1, 2; batch 1, 7; channels 1, 3, 17 (in
// and out), mostly non-square images, and strides that leave input rows/columns unseen.
const cases: Case[] = [
  { batch: 1, inChannels: 1, height: 5, width: 5, outChannels: 1, kernel: 1, stride: 1, padding: 0 },
  { batch: 1, inChannels: 3, height: 7, width: 9, outChannels: 4, kernel: 3, stride: 1, padding: 1 },
  { batch: 7, inChannels: 3, height: 8, width: 6, outChannels: 5, kernel: 3, stride: 2, padding: 1 },
  { batch: 1, inChannels: 17, height: 9, width: 7, outChannels: 6, kernel: 5, stride: 1, padding: 2 },
  { batch: 7, inChannels: 1, height: 11, width: 13, outChannels: 17, kernel: 5, stride: 2, padding: 0 },
  { batch: 2, inChannels: 17, height: 6, width: 5, outChannels: 33, kernel: 1, stride: 2, padding: 0 },
  { batch: 7, inChannels: 17, height: 7, width: 7, outChannels: 3, kernel: 3, stride: 1, padding: 0 },
  { batch: 1, inChannels: 3, height: 5, width: 4, outChannels: 2, kernel: 5, stride: 2, padding: 2 },
  { batch: 3, inChannels: 1, height: 4, width: 9, outChannels: 7, kernel: 3, stride: 2, padding: 2 },
  { batch: 1, inChannels: 3, height: 13, width: 11, outChannels: 9, kernel: 1, stride: 1, padding: 1 },
  { batch: 7, inChannels: 3, height: 5, width: 5, outChannels: 1, kernel: 5, stride: 1, padding: 0 },
  { batch: 2, inChannels: 17, height: 10, width: 12, outChannels: 32, kernel: 3, stride: 1, padding: 1 },
  { batch: 1, inChannels: 1, height: 1, width: 1, outChannels: 3, kernel: 1, stride: 1, padding: 0 },
  { batch: 7, inChannels: 3, height: 28, width: 28, outChannels: 16, kernel: 5, stride: 1, padding: 2 },
  { batch: 1, inChannels: 17, height: 3, width: 8, outChannels: 5, kernel: 3, stride: 2, padding: 0 },
];

function outSize(c: Case): [number, number] {
  const f = full(c);
  const out = (n: number, axis: 0 | 1) => Math.floor((n + f.pads[axis]! + f.pads[axis + 2]! - (f.kernel[axis] - 1) * f.dilation[axis]! - 1) / f.stride[axis]!) + 1;
  return [out(c.height, 0), out(c.width, 1)];
}

function describeCase(c: Case): string {
  const f = full(c);
  const general = c.kernelWidth !== undefined || c.strideWidth !== undefined || c.pads !== undefined || c.dilation !== undefined;
  const spacing = general ? `stride [${f.stride}] pads [${f.pads}] dilation [${f.dilation}]` : `stride ${c.stride} padding ${c.padding}`;
  return `x ${c.batch}×${c.inChannels}×${c.height}×${c.width} * w ${c.outChannels}×${c.inChannels}×${f.kernel[0]}×${f.kernel[1]} ${spacing}`;
}

const tolerance = (terms: number) => ({ atol: 1e-5 * Math.sqrt(terms), rtol: 1e-4 });

/**
 * Visits every (output element, input element, weight) triple of the convolution as flat
 * indices into y (NCHW), x (NCHW) and w (OCHW), skipping taps that fall in the padding.
 * All four references below are sums over these triples.
 */
function forEachTap(c: Case, visit: (yIndex: number, xIndex: number, wIndex: number, o: number) => void): void {
  const [outHeight, outWidth] = outSize(c);
  const f = full(c);
  const [kh, kw] = f.kernel;
  for (let n = 0; n < c.batch; n++) {
    for (let o = 0; o < c.outChannels; o++) {
      for (let oy = 0; oy < outHeight; oy++) {
        for (let ox = 0; ox < outWidth; ox++) {
          const yIndex = ((n * c.outChannels + o) * outHeight + oy) * outWidth + ox;
          for (let ch = 0; ch < c.inChannels; ch++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * f.stride[0] - f.pads[0] + ky * f.dilation[0];
              if (iy < 0 || iy >= c.height) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * f.stride[1] - f.pads[1] + kx * f.dilation[1];
                if (ix < 0 || ix >= c.width) continue;
                visit(yIndex, ((n * c.inChannels + ch) * c.height + iy) * c.width + ix, ((o * c.inChannels + ch) * kh + ky) * kw + kx, o);
              }
            }
          }
        }
      }
    }
  }
}

function shapes(c: Case) {
  const [outHeight, outWidth] = outSize(c);
  return {
    x: [c.batch, c.inChannels, c.height, c.width],
    w: [c.outChannels, c.inChannels, c.kernel, c.kernelWidth ?? c.kernel],
    y: [c.batch, c.outChannels, outHeight, outWidth],
  };
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function forwardReference(c: Case, x: Float32Array, w: Float32Array, bias: Float32Array, relu: boolean): Float64Array {
  const [outHeight, outWidth] = outSize(c);
  const y = new Float64Array(count(shapes(c).y));
  for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / (outHeight * outWidth)) % c.outChannels]!;
  forEachTap(c, (yi, xi, wi) => (y[yi]! += x[xi]! * w[wi]!));
  return relu ? y.map((v) => Math.max(v, 0)) : y;
}

function backwardInputReference(c: Case, dy: Float32Array, w: Float32Array): Float64Array {
  const dx = new Float64Array(count(shapes(c).x));
  forEachTap(c, (yi, xi, wi) => (dx[xi]! += dy[yi]! * w[wi]!));
  return dx;
}

function backwardFilterReference(c: Case, dy: Float32Array, x: Float32Array): Float64Array {
  const dw = new Float64Array(count(shapes(c).w));
  forEachTap(c, (yi, xi, wi) => (dw[wi]! += dy[yi]! * x[xi]!));
  return dw;
}

function backwardBiasReference(c: Case, dy: Float32Array): Float64Array {
  const [outHeight, outWidth] = outSize(c);
  const db = new Float64Array(c.outChannels);
  dy.forEach((v, i) => (db[Math.floor(i / (outHeight * outWidth)) % c.outChannels]! += v));
  return db;
}

function caseData(c: Case, seed: number) {
  const random = new Random(seed);
  const s = shapes(c);
  return {
    x: randomArray(random, count(s.x)),
    w: randomArray(random, count(s.w)),
    bias: randomArray(random, c.outChannels),
    dy: randomArray(random, count(s.y)),
  };
}

describe('conv2d.wgsl conv2d: forward with fused bias (+ ReLU on odd cases)', () => {
  cases.forEach((c, i) => {
    const relu = i % 2 === 1;
    it(`${describeCase(c)}${relu ? ' relu' : ''}`, async () => {
      const ctx = gpu();
      const data = caseData(c, 100 + i);
      const s = shapes(c);
      const x = Tensor.from(ctx, data.x, s.x);
      const w = Tensor.from(ctx, data.w, s.w);
      const bias = Tensor.from(ctx, data.bias, [c.outChannels]);
      const y = conv2d(x, w, bias, { stride: c.stride, padding: c.padding, relu });
      expect(y.shape).toEqual(s.y);
      const expected = forwardReference(c, data.x, data.w, data.bias, relu);
      expectClose(await y.read(), expected, tolerance(c.inChannels * c.kernel * c.kernel), 'y');
      for (const t of [x, w, bias, y]) t.dispose();
    });
  });
});

describe('conv2d_backward_input.wgsl conv2d_backward_input: dx = transposed convolution of dy with w', () => {
  cases.forEach((c, i) => {
    it(describeCase(c), async () => {
      const ctx = gpu();
      const data = caseData(c, 200 + i);
      const s = shapes(c);
      const dy = Tensor.from(ctx, data.dy, s.y);
      const w = Tensor.from(ctx, data.w, s.w);
      const dx = conv2dBackwardInput(dy, w, { inputShape: s.x, stride: c.stride, padding: c.padding });
      expect(dx.shape).toEqual(s.x);
      const expected = backwardInputReference(c, data.dy, data.w);
      expectClose(await dx.read(), expected, tolerance(c.outChannels * c.kernel * c.kernel), 'dx');
      for (const t of [dy, w, dx]) t.dispose();
    });
  });
});

describe('conv2d_backward_filter.wgsl conv2d_backward_filter: dw = dyᵀ · im2col(x)', () => {
  cases.forEach((c, i) => {
    it(describeCase(c), async () => {
      const ctx = gpu();
      const data = caseData(c, 300 + i);
      const s = shapes(c);
      const dy = Tensor.from(ctx, data.dy, s.y);
      const x = Tensor.from(ctx, data.x, s.x);
      const dw = conv2dBackwardFilter(dy, x, { filterShape: s.w, stride: c.stride, padding: c.padding });
      expect(dw.shape).toEqual(s.w);
      const expected = backwardFilterReference(c, data.dy, data.x);
      expectClose(await dw.read(), expected, tolerance(count(s.y) / c.outChannels), 'dw');
      for (const t of [dy, x, dw]) t.dispose();
    });
  });
});

describe('conv2d filter gradient split over chunks: few filters, many output pixels, then sum_axis', () => {
  // GEMM core (conv2d_backward_filter.wgsl, chunks of K along z): chunk boundaries inside an
  // image and row, shorter last chunks, stride, padding and dilation, outputs that fill no
  // 4×4 block. Direct 3×3 (conv2d_backward_filter_3x3.wgsl, chunks of output rows): chunks
  // across image boundaries with a shorter last one, asymmetric pads, output channels that
  // fill no block of 4, several input channels, and the bench student's first layer.
  const split: [Case, 'gemm' | 'direct3x3', number][] = [
    [{ batch: 16, inChannels: 2, height: 40, width: 40, outChannels: 3, kernel: 3, stride: 2, padding: 0, pads: [1, 0, 0, 1], dilation: [2, 2] }, 'gemm', 5],
    [{ batch: 5, inChannels: 2, height: 30, width: 31, outChannels: 6, kernel: 5, stride: 1, padding: 2 }, 'gemm', 4],
    [{ batch: 3, inChannels: 1, height: 40, width: 41, outChannels: 4, kernel: 3, stride: 1, padding: 0 }, 'direct3x3', 114],
    [{ batch: 9, inChannels: 1, height: 61, width: 59, outChannels: 4, kernel: 3, stride: 1, padding: 1 }, 'direct3x3', 110],
    [{ batch: 4, inChannels: 3, height: 18, width: 34, outChannels: 5, kernel: 3, stride: 1, padding: 0 }, 'direct3x3', 64],
    [{ batch: 6, inChannels: 3, height: 20, width: 23, outChannels: 7, kernel: 3, stride: 1, padding: 0, pads: [2, 0, 1, 2] }, 'direct3x3', 126],
    [{ batch: 64, inChannels: 1, height: 28, width: 28, outChannels: 32, kernel: 3, stride: 1, padding: 0 }, 'direct3x3', 128],
  ];
  split.forEach(([c, kernel, chunks], i) => {
    it(`${describeCase(c)}: ${kernel}, ${chunks} chunks`, async () => {
      const f = full(c);
      const [outHeight, outWidth] = outSize(c);
      const g = convGeometry('test', shapes(c).x, shapes(c).w, { stride: f.stride, padding: f.pads, dilation: f.dilation });
      const plan = filterGradientPlan(g);
      expect(plan).toMatchObject({ kernel, chunks });
      const pixels = c.batch * outHeight * outWidth;
      // No chunk is empty.
      if (kernel === 'gemm') expect((chunks - 1) * Math.ceil(pixels / chunks)).toBeLessThan(pixels);
      else expect((chunks - 1) * plan.rowsPerChunk).toBeLessThan(c.batch * outHeight);
      const ctx = gpu();
      const data = caseData(c, 600 + i);
      const s = shapes(c);
      const dy = Tensor.from(ctx, data.dy, s.y);
      const x = Tensor.from(ctx, data.x, s.x);
      const dw = conv2dBackwardFilter(dy, x, { filterShape: s.w, ...spacingOf(c) });
      expect(dw.shape).toEqual(s.w);
      const expected = backwardFilterReference(c, data.dy, data.x);
      expectClose(await dw.read(), expected, tolerance(pixels), 'dw');
      // With the bias gradient: from the same pass (direct 3×3) or conv2d_backward_bias.
      const [dw2, db] = conv2dBackwardParams(dy, x, { filterShape: s.w, ...spacingOf(c) });
      expect(db.shape).toEqual([c.outChannels]);
      expectClose(await dw2.read(), expected, tolerance(pixels), 'dw with db');
      expectClose(await db.read(), backwardBiasReference(c, data.dy), tolerance(pixels / c.outChannels), 'db');
      for (const t of [dy, x, dw, dw2, db]) t.dispose();
    });
  });

  it('is not taken for many outputs or short K', () => {
    const geometry = (x: number[], w: number[]) => convGeometry('test', x, w, { stride: 1, padding: 1, dilation: 1 });
    expect(filterGradientPlan(geometry([64, 32, 13, 13], [64, 32, 3, 3]))).toEqual({ kernel: 'gemm', chunks: 1, rowsPerChunk: 0 });
    expect(filterGradientPlan(geometry([2, 1, 28, 28], [32, 1, 3, 3]))).toEqual({ kernel: 'gemm', chunks: 1, rowsPerChunk: 0 });
  });
});

describe('conv2d_backward_bias.wgsl conv2d_backward_bias: db = Σ dy over batch, height, width', () => {
  // Also a case with more than 256 values per channel and one with a single value.
  cases.filter((_, i) => i % 3 === 0 || i === 12 || i === 13).forEach((c, i) => {
    it(describeCase(c), async () => {
      const ctx = gpu();
      const data = caseData(c, 400 + i);
      const dy = Tensor.from(ctx, data.dy, shapes(c).y);
      const db = conv2dBackwardBias(dy);
      expect(db.shape).toEqual([c.outChannels]);
      expectClose(await db.read(), backwardBiasReference(c, data.dy), tolerance(count(shapes(c).y) / c.outChannels), 'db');
      for (const t of [dy, db]) t.dispose();
    });
  });
});

describe('conv2d*.wgsl with 8×8 blocks per invocation (GEMM products of 2^22 and more)', () => {
  const wide: Case = { batch: 10, inChannels: 24, height: 31, width: 29, outChannels: 36, kernel: 3, stride: 1, padding: 1 };
  const taps = wide.kernel * wide.kernel;
  const [outHeight, outWidth] = outSize(wide);
  const pixels = wide.batch * outHeight * outWidth;

  it(`conv2d ${describeCase(wide)} relu`, async () => {
    expect(gemmBlock(pixels, wide.outChannels, wide.inChannels * taps)).toBe(8);
    const ctx = gpu();
    const data = caseData(wide, 500);
    const s = shapes(wide);
    const x = Tensor.from(ctx, data.x, s.x);
    const w = Tensor.from(ctx, data.w, s.w);
    const bias = Tensor.from(ctx, data.bias, [wide.outChannels]);
    const y = conv2d(x, w, bias, { padding: wide.padding, relu: true });
    const expected = forwardReference(wide, data.x, data.w, data.bias, true);
    expectClose(await y.read(), expected, tolerance(wide.inChannels * taps), 'y');
    for (const t of [x, w, bias, y]) t.dispose();
  });

  it(`conv2d_backward_input ${describeCase(wide)}`, async () => {
    expect(gemmBlock(wide.batch * wide.height * wide.width, wide.inChannels, wide.outChannels * taps)).toBe(8);
    const ctx = gpu();
    const data = caseData(wide, 501);
    const s = shapes(wide);
    const dy = Tensor.from(ctx, data.dy, s.y);
    const w = Tensor.from(ctx, data.w, s.w);
    const dx = conv2dBackwardInput(dy, w, { inputShape: s.x, padding: wide.padding });
    expectClose(await dx.read(), backwardInputReference(wide, data.dy, data.w), tolerance(wide.outChannels * taps), 'dx');
    for (const t of [dy, w, dx]) t.dispose();
  });

  it(`conv2d_backward_filter ${describeCase(wide)}`, async () => {
    expect(gemmBlock(wide.outChannels, wide.inChannels * taps, pixels)).toBe(8);
    const ctx = gpu();
    const data = caseData(wide, 502);
    const s = shapes(wide);
    const dy = Tensor.from(ctx, data.dy, s.y);
    const x = Tensor.from(ctx, data.x, s.x);
    const dw = conv2dBackwardFilter(dy, x, { filterShape: s.w, padding: wide.padding });
    expectClose(await dw.read(), backwardFilterReference(wide, data.dy, data.x), tolerance(pixels), 'dw');
    for (const t of [dy, x, dw]) t.dispose();
  });
});

describe('conv2d*.wgsl general spacing: non-square kernels, unequal strides, asymmetric pads, dilations', () => {
  const general: Case[] = [
    { batch: 2, inChannels: 3, height: 7, width: 11, outChannels: 5, kernel: 3, kernelWidth: 5, stride: 1, strideWidth: 2, padding: 0, pads: [0, 2, 1, 1] },
    { batch: 1, inChannels: 4, height: 9, width: 8, outChannels: 6, kernel: 3, stride: 1, padding: 2, dilation: [2, 2] },
    { batch: 3, inChannels: 5, height: 6, width: 9, outChannels: 4, kernel: 1, kernelWidth: 7, stride: 1, padding: 0, pads: [0, 3, 0, 3] },
    { batch: 1, inChannels: 5, height: 9, width: 6, outChannels: 7, kernel: 7, kernelWidth: 1, stride: 1, padding: 0, pads: [3, 0, 3, 0] },
    // Stride 2 and dilation 2 share a factor: half the phases are reached by no tap.
    { batch: 2, inChannels: 3, height: 10, width: 9, outChannels: 5, kernel: 3, stride: 2, padding: 1, dilation: [2, 2] },
    { batch: 2, inChannels: 2, height: 13, width: 12, outChannels: 3, kernel: 2, kernelWidth: 4, stride: 3, strideWidth: 2, padding: 0, pads: [2, 0, 0, 1], dilation: [2, 3] },
    // A 1-D convolution as H = 1.
    { batch: 4, inChannels: 3, height: 1, width: 17, outChannels: 6, kernel: 1, kernelWidth: 5, stride: 1, strideWidth: 2, padding: 0, pads: [0, 2, 0, 1], dilation: [1, 2] },
    { batch: 1, inChannels: 2, height: 17, width: 15, outChannels: 3, kernel: 3, stride: 4, padding: 0, pads: [3, 1, 2, 0], dilation: [6, 6] },
    // Strides wider than the kernel leave input pixels no tap reaches.
    { batch: 2, inChannels: 3, height: 8, width: 7, outChannels: 2, kernel: 1, stride: 3, padding: 0, pads: [1, 0, 0, 2] },
    { batch: 3, inChannels: 9, height: 12, width: 10, outChannels: 11, kernel: 3, stride: 1, padding: 0, pads: [1, 1, 1, 1], dilation: [1, 3] },
  ];
  const taps = (c: Case) => c.kernel * (c.kernelWidth ?? c.kernel);
  general.forEach((c, i) => {
    it(`forward ${describeCase(c)}${i % 2 ? ' relu' : ''}`, async () => {
      const ctx = gpu();
      const data = caseData(c, 800 + i);
      const s = shapes(c);
      expect(direct3x3Shape(convGeometry('test', s.x, s.w, spacingOf(c)))).toBe(false);
      const x = Tensor.from(ctx, data.x, s.x);
      const w = Tensor.from(ctx, data.w, s.w);
      const bias = Tensor.from(ctx, data.bias, [c.outChannels]);
      const y = conv2d(x, w, bias, { ...spacingOf(c), relu: i % 2 === 1 });
      expect(y.shape).toEqual(s.y);
      expectClose(await y.read(), forwardReference(c, data.x, data.w, data.bias, i % 2 === 1), tolerance(c.inChannels * taps(c)), 'y');
      for (const t of [x, w, bias, y]) t.dispose();
    });
    it(`backward input ${describeCase(c)}`, async () => {
      const ctx = gpu();
      const data = caseData(c, 900 + i);
      const s = shapes(c);
      const dy = Tensor.from(ctx, data.dy, s.y);
      const w = Tensor.from(ctx, data.w, s.w);
      const dx = conv2dBackwardInput(dy, w, { inputShape: s.x, ...spacingOf(c) });
      expectClose(await dx.read(), backwardInputReference(c, data.dy, data.w), tolerance(c.outChannels * taps(c)), 'dx');
      for (const t of [dy, w, dx]) t.dispose();
    });
    it(`backward filter ${describeCase(c)}`, async () => {
      const ctx = gpu();
      const data = caseData(c, 1000 + i);
      const s = shapes(c);
      const dy = Tensor.from(ctx, data.dy, s.y);
      const x = Tensor.from(ctx, data.x, s.x);
      const dw = conv2dBackwardFilter(dy, x, { filterShape: s.w, ...spacingOf(c) });
      expectClose(await dw.read(), backwardFilterReference(c, data.dy, data.x), tolerance(count(s.y) / c.outChannels), 'dw');
      for (const t of [dy, x, dw]) t.dispose();
    });
  });

  it('gradients by finite differences: 2×3 kernel, stride [2, 1], pads [1, 0, 0, 2], dilation [2, 1]', async () => {
    const random = new Random(17);
    const options = { stride: [2, 1] as [number, number], padding: [1, 0, 0, 2] as [number, number, number, number], dilation: [2, 1] as [number, number] };
    await checkGradients(gpu(), ([x, w, b]) => conv2d(x!, w!, b!, options), [
      { name: 'x', shape: [2, 2, 6, 5], data: randomArray(random, 120, -0.3, 0.3) },
      { name: 'w', shape: [3, 2, 2, 3], data: randomArray(random, 36, -0.3, 0.3) },
      { name: 'b', shape: [3], data: randomArray(random, 3) },
    ], { samples: 8 });
  });

  it('conv2d_backward_input as a transposed convolution: gradients in dy and w by finite differences', async () => {
    const random = new Random(19);
    const spacing = { stride: [2, 3] as [number, number], padding: [1, 0, 2, 1] as [number, number, number, number], dilation: [1, 2] as [number, number] };
    const inputShape = [2, 3, 7, 8];
    // The forward convolution of [2, 3, 7, 8] with w [4, 3, 3, 2] and this spacing gives dy [2, 4, 4, 3].
    await checkGradients(gpu(), ([dy, w]) => conv2dBackwardInput(dy!, w!, { inputShape, ...spacing }), [
      { name: 'dy', shape: [2, 4, 4, 3], data: randomArray(random, 96, -0.5, 0.5) },
      { name: 'w', shape: [4, 3, 3, 2], data: randomArray(random, 72, -0.5, 0.5) },
    ], { samples: 10 });
  });

  it('names the spacing in shape errors', () => {
    const x = Tensor.from(gpu(), new Float32Array(2 * 3 * 5 * 6).fill(0.5), [2, 3, 5, 6]);
    const w = Tensor.from(gpu(), new Float32Array(4 * 3 * 3 * 3).fill(0.5), [4, 3, 3, 3]);
    const bias = Tensor.from(gpu(), new Float32Array(4).fill(0.5), [4]);
    expect(() => conv2d(x, w, bias, { dilation: 3 })).toThrow(/conv2d: the 3×3 kernel \(7×7 dilated by \[3, 3\]\) of w \[4, 3, 3, 3\] is larger than the 5×6 input/);
    expect(() => conv2d(x, w, bias, { padding: [1, 0, 0] as never })).toThrow(/conv2d: padding must be a non-negative integer, got \[1, 0, 0\]/);
    expect(() => conv2d(x, w, bias, { dilation: [1, 0] })).toThrow(/conv2d: dilation must be a positive integer, got \[1, 0\]/);
    expect(conv2d(x, w, bias, { stride: [2, 1], padding: [0, 1, 1, 0], dilation: [1, 2] }).shape).toEqual([2, 4, 2, 3]);
    const dy = Tensor.from(gpu(), new Float32Array(2 * 4 * 3 * 3).fill(0.5), [2, 4, 3, 3]);
    expect(() => conv2dBackwardInput(dy, w, { inputShape: [2, 3, 5, 6], stride: [2, 1], padding: [0, 1, 1, 0], dilation: [1, 2] })).toThrow(
      /dy \[2, 4, 3, 3\] must have the convolution's output shape \[2, 4, 2, 3\] \(input \[2, 3, 5, 6\], w \[4, 3, 3, 3\], stride \[2, 1\], padding \[0, 1, 1, 0\], dilation \[1, 2\]\)/,
    );
  });
});

describe('conv2d_3x3.wgsl: direct 3×3 stride-1 forward (devices with subgroups of ≥ 8 lanes)', () => {
  // Tiles of 2×4 pixels × 8 channels: output sizes and channel counts off those multiples,
  // tile counts off the workgroup's 64, padding 0–2, a single-pixel output.
  const direct: Case[] = [
    { batch: 3, inChannels: 5, height: 9, width: 7, outChannels: 13, kernel: 3, stride: 1, padding: 2 },
    { batch: 67, inChannels: 2, height: 6, width: 11, outChannels: 8, kernel: 3, stride: 1, padding: 0 },
    { batch: 1, inChannels: 1, height: 3, width: 3, outChannels: 1, kernel: 3, stride: 1, padding: 0 },
    { batch: 2, inChannels: 64, height: 13, width: 13, outChannels: 20, kernel: 3, stride: 1, padding: 1 },
  ];
  direct.forEach((c, i) => {
    const relu = i % 2 === 0;
    it(`${describeCase(c)}${relu ? ' relu' : ''}`, async () => {
      const ctx = gpu();
      const s = shapes(c);
      expect(direct3x3Shape(convGeometry('test', s.x, s.w, c))).toBe(true);
      const data = caseData(c, 700 + i);
      const x = Tensor.from(ctx, data.x, s.x);
      const w = Tensor.from(ctx, data.w, s.w);
      const bias = Tensor.from(ctx, data.bias, [c.outChannels]);
      const y = conv2d(x, w, bias, { padding: c.padding, relu });
      expectClose(await y.read(), forwardReference(c, data.x, data.w, data.bias, relu), tolerance(c.inChannels * 9), 'y');
      for (const t of [x, w, bias, y]) t.dispose();
    });
  });

  it('is taken for 3×3 at stride 1 only', () => {
    const geometry = (kernel: number, stride: number, padding: number) => convGeometry('test', [1, 2, 9, 9], [4, 2, kernel, kernel], { stride, padding });
    expect(direct3x3Shape(geometry(3, 1, 0))).toBe(true);
    expect(direct3x3Shape(geometry(3, 1, 1))).toBe(true);
    expect(direct3x3Shape(geometry(3, 2, 1))).toBe(false);
    expect(direct3x3Shape(geometry(5, 1, 2))).toBe(false);
    expect(direct3x3Shape(geometry(1, 1, 0))).toBe(false);
    expect(direct3x3Shape(convGeometry('test', [1, 2, 9, 9], [4, 2, 3, 3], { stride: 1, padding: [1, 1, 0, 0] }))).toBe(false);
    expect(direct3x3Shape(convGeometry('test', [1, 2, 9, 9], [4, 2, 3, 3], { stride: 1, padding: 1, dilation: 2 }))).toBe(false);
  });

  it('runs where the device has subgroups of at least 8 lanes', () => {
    const ctx = gpu();
    expect(direct3x3Supported(ctx)).toBe(ctx.device.features.has('subgroups') && ctx.profile.subgroupMinSize >= 8);
  });
});

describe('conv2d gradient rule vs finite differences', () => {
  const random = new Random(7);
  // Biases of ±1.5 with small x, w keep pre-activations away from ReLU's kink.
  const spaced = (n: number) => Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1.5 : -1.5));
  const variants = [
    { x: [1, 2, 4, 5], w: [3, 2, 3, 3], stride: 1, padding: 0, relu: false },
    { x: [2, 3, 5, 4], w: [4, 3, 3, 3], stride: 2, padding: 1, relu: false },
    { x: [2, 3, 5, 4], w: [4, 3, 3, 3], stride: 2, padding: 1, relu: true },
    { x: [1, 2, 6, 3], w: [3, 2, 1, 1], stride: 2, padding: 1, relu: true },
    // Filter gradient split (direct 3×3, 114 chunks) in a compiled plan.
    { x: [3, 1, 40, 41], w: [4, 1, 3, 3], stride: 1, padding: 0, relu: true },
  ];
  for (const v of variants) {
    it(`x [${v.x}] w [${v.w}] stride ${v.stride} padding ${v.padding}${v.relu ? ' relu' : ''}`, async () => {
      const outChannels = v.w[0]!;
      await checkGradients(gpu(), ([x, w, b]) => conv2d(x!, w!, b!, { stride: v.stride, padding: v.padding, relu: v.relu }), [
        { name: 'x', shape: v.x, data: randomArray(random, count(v.x), -0.3, 0.3) },
        { name: 'w', shape: v.w, data: randomArray(random, count(v.w), -0.3, 0.3) },
        { name: 'b', shape: [outChannels], data: spaced(outChannels) },
      ], { samples: 8 });
    });
  }
});

describe('conv2d shape rules', () => {
  const tensor = (shape: number[]) => Tensor.from(gpu(), new Float32Array(count(shape)).fill(0.5), shape);

  it('names the shapes when x, w or bias do not fit', () => {
    const x = tensor([2, 3, 5, 6]);
    const w = tensor([4, 3, 3, 3]);
    const bias = tensor([4]);
    const flat = tensor([2, 90]);
    const w2 = tensor([4, 2, 3, 3]);
    const bias5 = tensor([5]);
    const wide = tensor([4, 3, 3, 9]);
    expect(() => conv2d(flat, w, bias)).toThrow(/conv2d: x must have rank 4 .*got shape \[2, 90\]/);
    expect(() => conv2d(x, flat, bias)).toThrow(/conv2d: w must have rank 4 .*got shape \[2, 90\]/);
    expect(() => conv2d(x, w2, bias)).toThrow(/conv2d: x \[2, 3, 5, 6\] has 3 channels but w \[4, 2, 3, 3\] expects 2/);
    expect(() => conv2d(x, w, bias5)).toThrow(/conv2d: bias \[5\] must have 4 entries, one per output channel of w \[4, 3, 3, 3\]/);
    expect(() => conv2d(x, wide, bias)).toThrow(/conv2d: the 3×9 kernel of w \[4, 3, 3, 9\] is larger than the 5×6 input of x \[2, 3, 5, 6\] padded by 0 \(5×6\)/);
    expect(conv2d(x, wide, bias, { padding: 2 }).shape).toEqual([2, 4, 7, 2]);
    expect(() => conv2d(x, w, bias, { stride: 0 })).toThrow(/conv2d: stride must be a positive integer, got 0/);
    expect(() => conv2d(x, w, bias, { stride: -1 })).toThrow(/stride must be a positive integer, got -1/);
    expect(() => conv2d(x, w, bias, { padding: -1 })).toThrow(/padding must be a non-negative integer, got -1/);
    expect(conv2d(x, w, bias, { stride: 2, padding: 1 }).shape).toEqual([2, 4, 3, 3]);
  });

  it('checks dy and the given shapes in the backward passes', () => {
    const x = tensor([2, 3, 5, 6]);
    const w = tensor([4, 3, 3, 3]);
    const dy = tensor([2, 4, 3, 4]);
    expect(() => conv2dBackwardInput(dy, w, { inputShape: [2, 3, 5, 6], stride: 2 })).toThrow(
      /conv2d_backward_input: dy \[2, 4, 3, 4\] must have the convolution's output shape \[2, 4, 2, 2\] \(input \[2, 3, 5, 6\], w \[4, 3, 3, 3\], stride 2, padding 0\)/,
    );
    expect(() => conv2dBackwardInput(dy, w, { inputShape: [2, 3, 5] })).toThrow(/conv2d_backward_input: inputShape must have 4 entries/);
    expect(() => conv2dBackwardFilter(dy, x, { filterShape: [4, 2, 3, 3] })).toThrow(/conv2d_backward_filter: x \[2, 3, 5, 6\] has 3 channels but w \[4, 2, 3, 3\]/);
    expect(() => conv2dBackwardFilter(dy, x, { filterShape: [5, 3, 3, 3] })).toThrow(/dy \[2, 4, 3, 4\] must have the convolution's output shape \[2, 5, 3, 4\]/);
    expect(() => conv2dBackwardBias(tensor([4, 3]))).toThrow(/conv2d_backward_bias: dy must have rank 4/);
    expect(conv2dBackwardInput(dy, w, { inputShape: [2, 3, 5, 6] }).shape).toEqual([2, 3, 5, 6]);
    expect(conv2dBackwardFilter(dy, x, { filterShape: [4, 3, 3, 3] }).shape).toEqual([4, 3, 3, 3]);
  });
});

// f16 operands (the passes compiled with Operand = f16; x, w and dy rounded by castF16), sums
// and results in f32. Each pass is checked twice, as gemm.wgsl's f16 cases are:
// 1. against the float64 reference on the f16-rounded operands, with the f32 tolerance above
//    (a product of two f16s is exact in f32);
// 2. against the float64 reference on the unrounded operands, per element within
//    (2u + u²)·Σ|a||b| + the f32 tolerance, u = 2^-11 (each operand off by ≤ u relative).
// The 3×3 stride-1 case would take the direct kernel in f32; f16 must take the implicit GEMM.
describe('conv2d*.wgsl with f16 operands', () => {
  const u = 2 ** -11;
  const f16Cases: Case[] = [
    { batch: 2, inChannels: 17, height: 10, width: 12, outChannels: 32, kernel: 3, stride: 1, padding: 1 },
    { batch: 7, inChannels: 3, height: 8, width: 6, outChannels: 5, kernel: 3, stride: 2, padding: 1 },
    { batch: 2, inChannels: 3, height: 10, width: 9, outChannels: 5, kernel: 3, stride: 2, padding: 1, dilation: [2, 2] },
    // Few filter outputs over a long K: split-K, which f32 runs with the direct 3×3 filter
    // kernel and f16 with the GEMM-core chunks (filterGradientPlan).
    { batch: 16, inChannels: 1, height: 28, width: 28, outChannels: 8, kernel: 3, stride: 1, padding: 0 },
  ];
  const abs = (a: Float32Array) => a.map(Math.abs);
  const checkBoth = (what: string, actual: Float32Array, rounded: Float64Array, exact: Float64Array, bound: Float64Array, tol: { atol: number; rtol: number }) => {
    expectClose(actual, rounded, tol, `${what} vs f16-rounded operands`);
    for (let i = 0; i < exact.length; i++) {
      const allowed = (2 * u + u * u) * bound[i]! + tol.atol + tol.rtol * Math.abs(exact[i]!);
      if (!(Math.abs(actual[i]! - exact[i]!) <= allowed)) throw new Error(`${what}[${i}] = ${actual[i]}, exact ${exact[i]}, allowed error ${allowed}`);
    }
  };
  f16Cases.forEach((c, i) => {
    it(`forward, backward input and backward filter: ${describeCase(c)}`, async () => {
      const ctx = gpu();
      if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
      const data = caseData(c, 900 + i);
      const s = shapes(c);
      const spacing = spacingOf(c);
      const plan = filterGradientPlan(convGeometry('test', s.x, s.w, spacing), 'f16');
      expect(plan.kernel).toBe('gemm');
      if (i === 3) expect([filterGradientPlan(convGeometry('test', s.x, s.w, spacing)).kernel, plan.chunks > 1]).toEqual(['direct3x3', true]);
      const [x, w, bias, dy] = [Tensor.from(ctx, data.x, s.x), Tensor.from(ctx, data.w, s.w), Tensor.from(ctx, data.bias, [c.outChannels]), Tensor.from(ctx, data.dy, s.y)];
      const [x16, w16, dy16] = [castF16(x), castF16(w), castF16(dy)];
      const [rx, rw, rdy] = [roundToHalf(data.x), roundToHalf(data.w), roundToHalf(data.dy)];
      const zeros = new Float32Array(c.outChannels);
      const taps = c.kernel * (c.kernelWidth ?? c.kernel);

      const y = conv2d(x, w, bias, { ...spacing, relu: false, precision: 'f16' });
      const yBound = forwardReference(c, abs(data.x), abs(data.w), zeros, false);
      checkBoth('y', (await y.read()) as Float32Array, forwardReference(c, rx, rw, data.bias, false), forwardReference(c, data.x, data.w, data.bias, false), yBound, tolerance(c.inChannels * taps));

      const dx = conv2dBackwardInput(dy16, w16, { inputShape: s.x, ...spacing });
      const dxBound = backwardInputReference(c, abs(data.dy), abs(data.w));
      checkBoth('dx', (await dx.read()) as Float32Array, backwardInputReference(c, rdy, rw), backwardInputReference(c, data.dy, data.w), dxBound, tolerance(c.outChannels * taps));

      const dw = conv2dBackwardFilter(dy16, x16, { filterShape: s.w, ...spacing });
      const dwBound = backwardFilterReference(c, abs(data.dy), abs(data.x));
      checkBoth('dw', (await dw.read()) as Float32Array, backwardFilterReference(c, rdy, rx), backwardFilterReference(c, data.dy, data.x), dwBound, tolerance(count(s.y) / c.outChannels));
      for (const t of [x, w, bias, dy, x16, w16, dy16, y, dx, dw]) t.dispose();
    });
  });

  it('refuses mixed operand types, naming both', () => {
    const ctx = gpu();
    const x = Tensor.from(ctx, new Float32Array(16).fill(0.5), [1, 1, 4, 4]);
    const w = Tensor.from(ctx, new Float32Array(9).fill(0.5), [1, 1, 3, 3]);
    const b = Tensor.from(ctx, [0], [1]);
    const w16 = castF16(w);
    expect(() => conv2d(x, w16, b)).toThrow(/conv2d: x and w must both be f32 or both f16, got x f32 \[1, 1, 4, 4\] and w f16 \[1, 1, 3, 3\]; cast with castF16/);
    for (const t of [x, w, b, w16]) t.dispose();
  });
});

// conv2d's gradient rule with f16 operands (dz rounded to f16 for both backward passes) against
// the f32 path, through conv (3×3, the shape the direct kernel takes in f32) → ReLU → linear →
// softmax cross-entropy. Tolerance: relative L2 error ≤ 8u per gradient, u = 2^-11, as for
// linear (test/ops/matmul.test.ts).
describe('conv2d f16 gradients against f32', () => {
  it('dW, db and dx of a conv layer under a linear classifier', async () => {
    const ctx = gpu();
    if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
    const random = new Random(31);
    const [batch, channels, size, filters, classes] = [4, 3, 8, 6, 5];
    const xData = randomArray(random, batch * channels * size * size);
    const labels = Uint32Array.from({ length: batch }, (_, i) => i % classes);
    const params = [
      Tensor.from(ctx, randomArray(random, filters * channels * 9, -0.3, 0.3), [filters, channels, 3, 3]),
      Tensor.from(ctx, randomArray(random, filters, -0.1, 0.1), [filters]),
      Tensor.from(ctx, randomArray(random, filters * size * size * classes, -0.1, 0.1), [filters * size * size, classes]),
      Tensor.from(ctx, new Float32Array(classes), [classes]),
    ];
    const run = async (precision: 'f32' | 'f16') => {
      const graph = new Graph(ctx);
      const x = graph.input('x', [batch, channels, size, size]);
      const [w, b, w2, b2] = params.map((p) => graph.bind(p));
      const h = conv2d(x, w!, b!, { padding: 1, relu: true, precision });
      const logits = linear(reshape(h, [batch, filters * size * size]), w2!, b2!, { precision });
      const loss = softmaxCrossEntropy(logits, graph.input('y', [batch], 'u32'));
      const grads = gradients(loss, [w!, b!, x]);
      const plan = compile(graph, { fetch: grads });
      plan.run({ x: xData, y: labels });
      const values = await Promise.all(grads.map((g) => plan.read(g)));
      plan.dispose();
      graph.dispose();
      return values;
    };
    const [full, half] = [await run('f32'), await run('f16')];
    ['dW', 'db', 'dx'].forEach((name, i) => {
      const [g32, g16] = [full[i]!, half[i]!];
      let diff = 0;
      let norm = 0;
      for (let k = 0; k < g32.length; k++) {
        diff += (g16[k]! - g32[k]!) ** 2;
        norm += g32[k]! ** 2;
      }
      const relative = Math.sqrt(diff / norm);
      console.log(`conv ${name}: relative L2 error of f16 vs f32 ${relative.toExponential(2)}`);
      expect(relative, name).toBeLessThanOrEqual(8 * 2 ** -11);
      expect(relative, `${name} differs from f32 at all`).toBeGreaterThan(0);
    });
    for (const p of params) p.dispose();
  });
});
