// Shader-level tests of shaders/gemm.wgsl (entries gemm and gemm_bias_act) and, through
// them, of the loop they share with the conv2d passes, shaders/gemm_core.wgsl (both its 4×4
// and its 8×8 blocks per invocation, and the workgroup shapes), against a float64 reference. Tolerance: |err| ≤ 1e-5·√K·max|a||b| scale + 1e-4 relative, i.e.
// f32 accumulation over K terms.
import { describe, expect, it } from 'vitest';
import { castF16, compile, gradients, Graph, linear, matmul, Random, roundToHalf, softmaxCrossEntropy, Tensor } from '../../src/index.js';
import { gemmBlock, gemmDispatch, gemmVectorB } from '../../src/ops/gemm-core.js';
import { DEFAULT_GEMM_TUNING, GEMM_NEVER_WIDE } from '../../src/gpu/gemm-tuning.js';
import { useGpu, withoutFeature } from '../support/gpu.js';
import { checkLinear } from '../support/linear-case.js';
import { expectClose, gemmReference, randomArray } from '../support/reference.js';

const gpu = useGpu();

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 37, 5],
  [29, 1, 3],
  [33, 31, 7],
  [64, 64, 64],
  [5, 70, 129],
  [513, 257, 129],
];

describe('gemm.wgsl gemm: C = op(A)·op(B)', () => {
  for (const [M, N, K] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, async () => {
          const ctx = gpu();
          const random = new Random(M * 7919 + N * 31 + K + (transA ? 1 : 0) + (transB ? 2 : 0));
          const aData = randomArray(random, M * K);
          const bData = randomArray(random, K * N);
          const a = Tensor.from(ctx, aData, transA ? [K, M] : [M, K]);
          const b = Tensor.from(ctx, bData, transB ? [N, K] : [K, N]);
          const c = matmul(a, b, { transA, transB });
          expect(c.shape).toEqual([M, N]);
          const expected = gemmReference(aData, bData, M, N, K, transA, transB);
          expectClose(await c.read(), expected, { atol: 2e-6 * Math.sqrt(K) * 4, rtol: 1e-4 }, 'C');
          for (const t of [a, b, c]) t.dispose();
        });
      }
    }
  }
});

describe('gemm.wgsl gemm_bias_act: x·W + b, optional ReLU', () => {
  for (const [M, N, K] of [[1, 1, 1], [37, 45, 19], [130, 66, 33]] as const) {
    for (const relu of [false, true]) {
      it(`M=${M} N=${N} K=${K} relu=${relu}`, async () => {
        await checkLinear(gpu(), M, N, K, relu, { atol: 1e-5 * Math.sqrt(K) * 4, rtol: 1e-4 });
      });
    }
  }
});

// Products of 2^22 and more take 8×8 blocks (gemm_core.wgsl); these also cover a narrow C
// (workgroups 4 invocations wide) and few blocks (workgroups of 8 invocations).
describe('gemm.wgsl with 8×8 blocks per invocation', () => {
  const cases = [
    { M: 515, N: 261, K: 500, transA: false, transB: false, shape: [8, 8] },
    { M: 8200, N: 20, K: 410, transA: true, transB: false, shape: [4, 16] },
    { M: 64, N: 64, K: 16400, transA: false, transB: true, shape: [8, 1] },
  ];
  for (const { M, N, K, transA, transB, shape } of cases) {
    it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, async () => {
      expect(gemmBlock(M, N, K)).toBe(8);
      const { GROUP_WIDTH, GROUP_HEIGHT } = gemmDispatch('test', M, N, K).constants;
      expect([GROUP_WIDTH, GROUP_HEIGHT]).toEqual(shape);
      const ctx = gpu();
      const random = new Random(M + N + K);
      const aData = randomArray(random, M * K);
      const bData = randomArray(random, K * N);
      const a = Tensor.from(ctx, aData, transA ? [K, M] : [M, K]);
      const b = Tensor.from(ctx, bData, transB ? [N, K] : [K, N]);
      const c = matmul(a, b, { transA, transB });
      const expected = gemmReference(aData, bData, M, N, K, transA, transB);
      expectClose(await c.read(), expected, { atol: 2e-6 * Math.sqrt(K) * 4, rtol: 1e-4 }, 'C');
      for (const t of [a, b, c]) t.dispose();
    });
  }

  it('gemm_bias_act M=520 N=261 K=500 relu=true', async () => {
    const [M, N, K] = [520, 261, 500];
    expect(gemmBlock(M, N, K)).toBe(8);
    const ctx = gpu();
    const random = new Random(11);
    const xData = randomArray(random, M * K);
    const wData = randomArray(random, K * N);
    const bData = randomArray(random, N);
    const x = Tensor.from(ctx, xData, [M, K]);
    const w = Tensor.from(ctx, wData, [K, N]);
    const b = Tensor.from(ctx, bData, [N]);
    const y = linear(x, w, b, { relu: true });
    const expected = gemmReference(xData, wData, M, N, K, false, false).map((v, i) => Math.max(v + bData[i % N]!, 0));
    expectClose(await y.read(), expected, { atol: 1e-5 * Math.sqrt(K) * 4, rtol: 1e-4 }, 'Y');
    for (const t of [x, w, b, y]) t.dispose();
  });
});

// B loaded four columns at a time (the core's B_VECTOR) when B is [K, N] with N % 4 == 0.
// Run with 8×8 blocks forced on small shapes (and the default 4×4), including N % 8 == 4,
// where the right half of the last block is past the edge, and cases that stay scalar.
describe('gemm.wgsl with vector loads of B', () => {
  const cases = [
    { M: 37, N: 36, K: 19, transA: false, transB: false, vector: true },
    { M: 29, N: 64, K: 33, transA: true, transB: false, vector: true },
    { M: 21, N: 14, K: 9, transA: false, transB: false, vector: false },
    { M: 17, N: 12, K: 18, transA: false, transB: true, vector: false },
  ];
  for (const wide of [true, false]) {
    for (const { M, N, K, transA, transB, vector } of cases) {
      it(`${wide ? '8×8' : '4×4'} M=${M} N=${N} K=${K} transA=${transA} transB=${transB} (B_VECTOR ${vector})`, async () => {
        expect(gemmVectorB(transB, N)).toBe(vector);
        const ctx = gpu();
        ctx.profile.gemmTuning = { ...DEFAULT_GEMM_TUNING, wideBlockProducts: wide ? 1 : DEFAULT_GEMM_TUNING.wideBlockProducts };
        try {
          expect(gemmBlock(M, N, K, ctx.profile.gemmTuning)).toBe(wide ? 8 : 4);
          const random = new Random(M * 3 + N * 5 + K);
          const aData = randomArray(random, M * K);
          const bData = randomArray(random, K * N);
          const a = Tensor.from(ctx, aData, transA ? [K, M] : [M, K]);
          const b = Tensor.from(ctx, bData, transB ? [N, K] : [K, N]);
          const c = matmul(a, b, { transA, transB });
          const expected = gemmReference(aData, bData, M, N, K, transA, transB);
          expectClose(await c.read(), expected, { atol: 2e-6 * Math.sqrt(K) * 4, rtol: 1e-4 }, 'C');
          for (const t of [a, b, c]) t.dispose();
        } finally {
          ctx.profile.gemmTuning = { ...DEFAULT_GEMM_TUNING };
        }
      });
    }
  }
});

describe('matmul shape rule', () => {
  it('rejects mismatched inner dimensions with both shapes in the message', () => {
    const ctx = gpu();
    const a = Tensor.from(ctx, new Float32Array(6).fill(1), [2, 3]);
    const b = Tensor.from(ctx, new Float32Array(8).fill(1), [4, 2]);
    expect(() => matmul(a, b)).toThrow(/inner dimensions differ: A \[2, 3\] has 3 columns, B \[4, 2\] has 4 rows/);
    expect(() => matmul(a, b, { transA: true })).toThrow(/A \[2, 3\]ᵀ has 2 columns, B \[4, 2\] has 4 rows/);
    expect(matmul(a, b, { transA: true, transB: true }).shape).toEqual([3, 4]);
    a.dispose();
    b.dispose();
  });
});

// f16 operands (gemm_f16: gemm.wgsl with Operand = f16), sums and C in f32. Two checks per case:
// 1. against a float64 GEMM of the f16-rounded operands, with the f32 tolerance above (a
//    product of two f16s is exact in f32, so only the f32 sums differ);
// 2. against a float64 GEMM of the unrounded operands, per element within
//    (2u + u²)·Σ_k |a_mk||b_kn| + the f32 tolerance, u = 2^-11 (f16's unit roundoff: each
//    operand is off by at most u relative, so each product by at most 2u + u²).
describe('gemm.wgsl with f16 operands (matmul, linear)', () => {
  const u = 2 ** -11;
  const absReference = (a: Float32Array, b: Float32Array, M: number, N: number, K: number, transA: boolean, transB: boolean) =>
    gemmReference(a.map(Math.abs), b.map(Math.abs), M, N, K, transA, transB);
  const checkBoth = (actual: Float32Array, aData: Float32Array, bData: Float32Array, M: number, N: number, K: number, transA: boolean, transB: boolean, epilogue = (v: number, _i: number) => v) => {
    const f32Tolerance = { atol: 2e-6 * Math.sqrt(K) * 4, rtol: 1e-4 };
    const rounded = gemmReference(roundToHalf(aData), roundToHalf(bData), M, N, K, transA, transB).map(epilogue);
    expectClose(actual, rounded, f32Tolerance, 'C vs f16-rounded operands');
    const exact = gemmReference(aData, bData, M, N, K, transA, transB).map(epilogue);
    const bound = absReference(aData, bData, M, N, K, transA, transB);
    for (let i = 0; i < exact.length; i++) {
      const allowed = (2 * u + u * u) * bound[i]! + f32Tolerance.atol + f32Tolerance.rtol * Math.abs(exact[i]!);
      if (!(Math.abs(actual[i]! - exact[i]!) <= allowed)) throw new Error(`C[${i}] = ${actual[i]}, exact ${exact[i]}, allowed error ${allowed}`);
    }
  };

  // The register loop with 4×4 and 8×8 blocks, and the workgroup-tile loop (gemm_tiles.wgsl).
  for (const variant of ['4×4', '8×8', 'tiles'] as const) {
    for (const [M, N, K] of [[1, 1, 1], [33, 31, 7], [37, 36, 19], [130, 64, 129]] as const) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        it(`${variant} M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, async () => {
          const ctx = gpu();
          if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
          ctx.profile.gemmTuning =
            variant === 'tiles'
              ? { ...DEFAULT_GEMM_TUNING, kernel: 'workgroup-tiles' }
              : { ...DEFAULT_GEMM_TUNING, wideBlockProducts: variant === '8×8' ? 1 : GEMM_NEVER_WIDE };
          try {
            const random = new Random(M * 13 + N * 7 + K + (transA ? 1 : 0) + (transB ? 2 : 0));
            const aData = randomArray(random, M * K, -4, 4);
            const bData = randomArray(random, K * N, -4, 4);
            const a = Tensor.from(ctx, aData, transA ? [K, M] : [M, K]);
            const b = Tensor.from(ctx, bData, transB ? [N, K] : [K, N]);
            const [a16, b16] = [castF16(a), castF16(b)];
            const c = matmul(a16, b16, { transA, transB });
            expect(c.dtype).toBe('f32');
            checkBoth((await c.read()) as Float32Array, aData, bData, M, N, K, transA, transB);
            for (const t of [a, b, a16, b16, c]) t.dispose();
          } finally {
            ctx.profile.gemmTuning = { ...DEFAULT_GEMM_TUNING };
          }
        });
      }
    }
  }

  for (const [M, N, K] of [[37, 45, 19], [130, 64, 33]] as const) {
    it(`linear precision 'f16' M=${M} N=${N} K=${K} relu=true`, async () => {
      const ctx = gpu();
      if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
      const random = new Random(M + N + K + 1);
      const xData = randomArray(random, M * K);
      const wData = randomArray(random, K * N);
      const bData = randomArray(random, N);
      const x = Tensor.from(ctx, xData, [M, K]);
      const w = Tensor.from(ctx, wData, [K, N]);
      const b = Tensor.from(ctx, bData, [N]);
      const y = linear(x, w, b, { relu: true, precision: 'f16' });
      checkBoth((await y.read()) as Float32Array, xData, wData, M, N, K, false, false, (v, i) => Math.max(v + bData[i % N]!, 0));
      for (const t of [x, w, b, y]) t.dispose();
    });
  }

  it('refuses mixed operand types, and f16 on a device without shader-f16, saying to use f32', async () => {
    const ctx = gpu();
    const a = Tensor.from(ctx, [1, 2, 3, 4], [2, 2]);
    const a16 = castF16(a);
    expect(() => matmul(a16, a)).toThrow(/matmul: A and B must both be f32 or both f16, got A f16 \[2, 2\] and B f32 \[2, 2\]; cast with castF16/);
    // As on an adapter without 'shader-f16'.
    await withoutFeature(ctx, 'shader-f16', () => {
      expect(ctx.hasF16).toBe(false);
      const b = Tensor.from(ctx, [0, 0], [2]);
      expect(() => linear(a, a, b, { precision: 'f16' })).toThrow(/linear with f16 operands needs the WebGPU feature 'shader-f16', which this device does not have .*; use f32 instead \(precision: 'f32', the default\)/);
      b.dispose();
    });
    for (const t of [a, a16]) t.dispose();
  });
});

// The f16 path's gradients (linear's rule: dZ rounded to f16 for the backward GEMMs, f32
// results) against the f32 path's, through two layers, ReLU and softmax cross-entropy.
// Tolerance: relative L2 error ≤ 8u (u = 2^-11, ≈ 3.9e-3) per gradient: each backward GEMM
// rounds its two operands (2u + u² relative per product), a gradient's path meets at most
// three such roundings (x or W, dZ, and dZ's own inputs), and sums of mixed signs can lose a
// little more; a ReLU whose input is within rounding of 0 may also flip (rare at these sizes).
describe('linear f16 gradients against f32', () => {
  it('a two-layer MLP with softmax cross-entropy: dW1, db1, dW2, db2 and dx', async () => {
    const ctx = gpu();
    if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
    const [batch, inputs, hidden, classes] = [32, 50, 40, 10];
    const random = new Random(21);
    const xData = randomArray(random, batch * inputs);
    const labels = Uint32Array.from({ length: batch }, (_, i) => (i * 7) % classes);
    const params = [
      Tensor.from(ctx, randomArray(random, inputs * hidden, -0.3, 0.3), [inputs, hidden]),
      Tensor.from(ctx, randomArray(random, hidden, -0.1, 0.1), [hidden]),
      Tensor.from(ctx, randomArray(random, hidden * classes, -0.3, 0.3), [hidden, classes]),
      Tensor.from(ctx, randomArray(random, classes, -0.1, 0.1), [classes]),
    ];
    const run = async (precision: 'f32' | 'f16') => {
      const graph = new Graph(ctx);
      const x = graph.input('x', [batch, inputs]);
      const [w1, b1, w2, b2] = params.map((p) => graph.bind(p));
      const logits = linear(linear(x, w1!, b1!, { relu: true, precision }), w2!, b2!, { precision });
      const loss = softmaxCrossEntropy(logits, graph.input('y', [batch], 'u32'));
      const grads = gradients(loss, [w1!, b1!, w2!, b2!, x]);
      const plan = compile(graph, { fetch: grads });
      plan.run({ x: xData, y: labels });
      const values = await Promise.all(grads.map((g) => plan.read(g)));
      plan.dispose();
      graph.dispose();
      return values;
    };
    const [full, half] = [await run('f32'), await run('f16')];
    const names = ['dW1', 'db1', 'dW2', 'db2', 'dx'];
    full.forEach((g32, i) => {
      const g16 = half[i]!;
      let diff = 0;
      let norm = 0;
      for (let k = 0; k < g32.length; k++) {
        diff += (g16[k]! - g32[k]!) ** 2;
        norm += g32[k]! ** 2;
      }
      const relative = Math.sqrt(diff / norm);
      console.log(`${names[i]}: relative L2 error of f16 vs f32 ${relative.toExponential(2)}`);
      expect(relative, `${names[i]}: relative L2 error ${relative}`).toBeLessThanOrEqual(8 * 2 ** -11);
      expect(relative, `${names[i]} differs from f32 at all (f16 rounding happened)`).toBeGreaterThan(0);
    });
    for (const p of params) p.dispose();
  });
});
