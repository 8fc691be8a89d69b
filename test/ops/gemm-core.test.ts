// The workgroup-tile GEMM loop (shaders/gemm_tiles.wgsl, entries gemm_tiled and
// gemm_bias_act_tiled of shaders/gemm.wgsl), forced through the tuning's `kernel`, against a
// float64 reference: every operand layout, bias with and without ReLU, tiny shapes, edge
// tiles (M, N not multiples of 32 or 64), K not a multiple of the 16-deep k tile, both tile
// sizes, and B's vector loads; gemmTilesDispatch's shapes; and that both tile sizes run on
// a device with WebGPU's default limits (256 invocations, 16 KiB of workgroup memory).
// Tolerance: |err| ≤ 2e-6·√K·4 + 1e-4 relative, f32 accumulation over K terms of |a|, |b| < 1,
// as in test/ops/matmul.test.ts (the tiled loop adds the same products in the same order).
import { afterEach, describe, expect, it } from 'vitest';
import { init, linear, matmul, Random, Tensor, type GpuContext } from '../../src/index.js';
import { gemmTilesDispatch } from '../../src/ops/gemm-core.js';
import { DEFAULT_GEMM_TUNING, type GemmTuning } from '../../src/gpu/gemm-tuning.js';
import { useGpu } from '../support/gpu.js';
import { checkLinear } from '../support/linear-case.js';
import { expectClose, gemmReference, randomArray } from '../support/reference.js';

const gpu = useGpu();
const tiles: GemmTuning = { ...DEFAULT_GEMM_TUNING, kernel: 'workgroup-tiles' };
// minWorkgroups 1: 64×64 tiles whatever the size, so small shapes reach them too.
const tiles64: GemmTuning = { ...tiles, minWorkgroups: 1 };
afterEach(() => {
  gpu().profile.gemmTuning = { ...DEFAULT_GEMM_TUNING };
});
const tolerance = (K: number) => ({ atol: 2e-6 * Math.sqrt(K) * 4, rtol: 1e-4 });

async function checkMatmul(tuning: GemmTuning, M: number, N: number, K: number, transA: boolean, transB: boolean, ctx: GpuContext = gpu()): Promise<void> {
  ctx.profile.gemmTuning = tuning;
  const random = new Random(M * 7919 + N * 31 + K + (transA ? 1 : 0) + (transB ? 2 : 0));
  const aData = randomArray(random, M * K);
  const bData = randomArray(random, K * N);
  const a = Tensor.from(ctx, aData, transA ? [K, M] : [M, K]);
  const b = Tensor.from(ctx, bData, transB ? [N, K] : [K, N]);
  const c = matmul(a, b, { transA, transB });
  expect(c.shape).toEqual([M, N]);
  expectClose(await c.read(), gemmReference(aData, bData, M, N, K, transA, transB), tolerance(K), 'C');
  for (const t of [a, b, c]) t.dispose();
}

describe('gemmTilesDispatch', () => {
  it('64×64 tiles when they make enough workgroups, else 32×32; any M, N', () => {
    expect(gemmTilesDispatch('t', 1024, 1024, tiles)).toEqual({ workgroups: [16, 16], constants: { BLOCK: 4, TILE_GROUP: 16 } });
    expect(gemmTilesDispatch('t', 64, 64, tiles)).toEqual({ workgroups: [2, 2], constants: { BLOCK: 4, TILE_GROUP: 8 } });
    expect(gemmTilesDispatch('t', 64, 64, tiles64)).toEqual({ workgroups: [1, 1], constants: { BLOCK: 4, TILE_GROUP: 16 } });
    expect(gemmTilesDispatch('t', 1, 1, tiles64).workgroups).toEqual([1, 1]);
    expect(gemmTilesDispatch('t', 65, 129, tiles64).workgroups).toEqual([3, 2]);
    expect(() => gemmTilesDispatch('matmul', 2 ** 23, 4, tiles64)).toThrow(/matmul: 8388608 GEMM rows need 131072 workgroups, over the limit of 65535/);
  });
});

describe('gemm_tiled: C = op(A)·op(B) with workgroup-memory tiles', () => {
  // Tiny; one edge tile; K < 16 and K % 16 != 0; exact multiples; several tiles each way.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 37, 5],
    [29, 1, 3],
    [33, 31, 17],
    [64, 64, 64],
    [5, 70, 129],
    [130, 67, 47],
  ];
  for (const [M, N, K] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, () => checkMatmul(tiles, M, N, K, transA, transB));
      }
    }
  }

  // 64×64 tiles on shapes where the default picks 32×32, and B's vector loads (N % 4 == 0)
  // with an edge tile whose last quads of columns are past N.
  for (const [M, N, K, transA, transB] of [
    [65, 68, 33, false, false],
    [70, 36, 16, true, false],
    [3, 130, 31, false, true],
    [129, 129, 200, true, true],
  ] as const) {
    it(`64×64 tiles M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, () => checkMatmul(tiles64, M, N, K, transA, transB));
  }

  it('M=300 N=260 K=150 (several 64×64 tiles each way)', async () => {
    expect(gemmTilesDispatch('t', 300, 260, tiles).constants.TILE_GROUP).toBe(16);
    await checkMatmul(tiles, 300, 260, 150, false, false);
  });
});

describe('gemm_bias_act_tiled: x·W + b, optional ReLU, with workgroup-memory tiles', () => {
  for (const tuning of [tiles, tiles64]) {
    for (const [M, N, K] of [[1, 1, 1], [37, 45, 19], [130, 66, 33]] as const) {
      for (const relu of [false, true]) {
        it(`${tuning.minWorkgroups === 1 ? '64×64' : 'default'} tiles M=${M} N=${N} K=${K} relu=${relu}`, async () => {
          const ctx = gpu();
          ctx.profile.gemmTuning = tuning;
          await checkLinear(ctx, M, N, K, relu, tolerance(K));
        });
      }
    }
  }
});

describe('workgroup tiles within WebGPU\'s default limits', () => {
  it('both tile sizes run on a device requested without limits (256 invocations, 16 KiB)', async () => {
    // kdgpu's own contexts ask for the adapter's maximum limits; this device gets the defaults.
    const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): GPU };
    const gpuRoot = dawn.create([]);
    const adapter = await gpuRoot.requestAdapter();
    const device = await adapter!.requestDevice();
    expect(device.limits.maxComputeInvocationsPerWorkgroup).toBe(256);
    expect(device.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    const ctx = await init({ device, poison: true });
    try {
      await checkMatmul(tiles64, 70, 68, 20, false, false, ctx);
      await checkMatmul(tiles, 33, 31, 17, true, true, ctx);
      ctx.check();
    } finally {
      ctx.dispose();
      device.destroy();
    }
  });
});
