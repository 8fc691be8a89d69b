// Per-adapter GEMM tuning (src/gpu/gemm-tuning.ts, src/tune/gemm-autotune.ts): the cache key,
// the cache (memory, file; corrupt file), the choice from timings, gemmDispatch under a
// given table, the choice of kernel (register blocks or workgroup-memory tiles), and — since
// the tuning must change speed only — that 4×4 and 8×8 blocks, other workgroup shapes and the
// workgroup-tile kernel give bit-identical results (on lavapipe) that match a float64 reference.
// Tolerance (reference): |err| ≤ 2e-6·√K·4 + 1e-4 relative, f32 accumulation over K terms,
// as in test/ops/matmul.test.ts; between variants: exact equality.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { conv2d, init, KDGPU_VERSION, linear, matmul, Random, Tensor } from '../../src/index.js';
import { type AutotuneMeasurement, autotuneGemm, chooseGemmKernel, chooseWideBlockProducts, clearGemmTuningMemory, gemmTuningCacheDir, gemmTuningKey } from '../../src/tune/gemm-autotune.js';
import { gemmBlock, gemmDispatch } from '../../src/ops/gemm-core.js';
import { checkGemmTuning, DEFAULT_GEMM_TUNING, GEMM_KERNELS, GEMM_NEVER_WIDE, type GemmTuning } from '../../src/gpu/gemm-tuning.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, gemmReference, randomArray } from '../support/reference.js';

const gpu = useGpu();
const always8: GemmTuning = { ...DEFAULT_GEMM_TUNING, wideBlockProducts: 0 };
const never8: GemmTuning = { ...DEFAULT_GEMM_TUNING, wideBlockProducts: GEMM_NEVER_WIDE };
const tiles: GemmTuning = { ...DEFAULT_GEMM_TUNING, kernel: 'workgroup-tiles' };
const tempDirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kdgpu-autotune-'));
  tempDirs.push(dir);
  return dir;
};
afterEach(() => {
  gpu().profile.gemmTuning = { ...DEFAULT_GEMM_TUNING };
  clearGemmTuningMemory();
});
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('gemm tuning table', () => {
  it('the library version in cache keys is package.json\'s', () => {
    expect(KDGPU_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('the cache key differs for every field of the adapter info and for the shapes', () => {
    const info = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25' };
    const keys = new Set([
      gemmTuningKey(info),
      gemmTuningKey({ ...info, vendor: 'nvidia' }),
      gemmTuningKey({ ...info, architecture: 'ampere' }),
      gemmTuningKey({ ...info, device: 'llvmpipe-2' }),
      gemmTuningKey({ ...info, description: 'llvmpipe: Mesa 26' }),
      gemmTuningKey(info, [{ M: 8, N: 8, K: 8 }]),
    ]);
    expect(keys.size).toBe(6);
    expect(gemmTuningKey({ ...info })).toBe(gemmTuningKey(info));
    expect(gemmTuningKey(info)).toContain(`kdgpu ${KDGPU_VERSION}`);
  });

  it('the context checks tables (checkGemmTuning: test/gpu/gemm-tuning.test.ts) and refuses a bad one', () => {
    expect(checkGemmTuning(tiles)).toEqual(tiles);
    const ctx = gpu();
    expect(ctx.profile.gemmTuning).toEqual(DEFAULT_GEMM_TUNING);
    expect(() => (ctx.profile.gemmTuning = { ...DEFAULT_GEMM_TUNING, minWorkgroups: 0 })).toThrow(/minWorkgroups/);
    expect(() => (ctx.profile.gemmTuning = { ...DEFAULT_GEMM_TUNING, kernel: 'tiles' as never })).toThrow(/kernel must be/);
    ctx.profile.gemmTuning = tiles;
    expect(ctx.profile.gemmTuning).toEqual(tiles);
    ctx.profile.gemmTuning = always8;
    expect(ctx.profile.gemmTuning).toEqual(always8);
  });

  it('gemmDispatch honours the table', () => {
    expect(gemmBlock(8, 8, 8, always8)).toBe(8);
    expect(gemmBlock(4096, 4096, 4096, never8)).toBe(4);
    expect(gemmBlock(4096, 4096, 4096)).toBe(8);
    expect(gemmDispatch('t', 64, 64, 64, always8).constants).toEqual({ BLOCK: 8, GROUP_WIDTH: 8, GROUP_HEIGHT: 1 });
    expect(gemmDispatch('t', 64, 64, 64, { ...always8, minWorkgroups: 1 }).constants).toEqual({ BLOCK: 8, GROUP_WIDTH: 8, GROUP_HEIGHT: 8 });
    expect(gemmDispatch('t', 512, 512, 512, never8)).toEqual({ workgroups: [16, 16], constants: { BLOCK: 4, GROUP_WIDTH: 8, GROUP_HEIGHT: 8 } });
    expect(gemmDispatch('t', 512, 512, 512, { ...never8, invocations: 256 })).toEqual({ workgroups: [8, 8], constants: { BLOCK: 4, GROUP_WIDTH: 16, GROUP_HEIGHT: 16 } });
    // The defaults are the constants gemmDispatch used before tables existed.
    expect(gemmDispatch('t', 64, 64, 16400).constants).toEqual({ BLOCK: 8, GROUP_WIDTH: 8, GROUP_HEIGHT: 1 });
    expect(gemmDispatch('t', 64, 64, 64).constants).toEqual({ BLOCK: 4, GROUP_WIDTH: 8, GROUP_HEIGHT: 8 });
    // fit (split-K chunks): 4×4 workgroups shaped to C too, 32 × 9 taking 4 × 8 invocations.
    expect(gemmDispatch('t', 32, 9, 1031, DEFAULT_GEMM_TUNING, { fit: true })).toEqual({ workgroups: [1, 1], constants: { BLOCK: 4, GROUP_WIDTH: 4, GROUP_HEIGHT: 8 } });
    expect(gemmDispatch('t', 5, 27, 1024, DEFAULT_GEMM_TUNING, { fit: true }).constants).toEqual({ BLOCK: 4, GROUP_WIDTH: 8, GROUP_HEIGHT: 2 });
  });
});

describe('variants give bit-identical results (same k order per output)', () => {
  const variants: [string, GemmTuning][] = [
    ['8×8', always8],
    ['4×4, 256 invocations', { ...never8, invocations: 256 }],
    ['workgroup tiles', tiles],
    ['workgroup tiles, 64×64', { ...tiles, minWorkgroups: 1 }],
  ];
  for (const [M, N, K, transA, transB] of [
    [1, 1, 1, false, false],
    [33, 31, 7, true, false],
    [5, 70, 129, false, true],
  ] as const) {
    it(`matmul M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, async () => {
      const ctx = gpu();
      const random = new Random(M * 131 + N * 7 + K);
      const aData = randomArray(random, M * K);
      const bData = randomArray(random, K * N);
      const a = Tensor.from(ctx, aData, transA ? [K, M] : [M, K]);
      const b = Tensor.from(ctx, bData, transB ? [N, K] : [K, N]);
      ctx.profile.gemmTuning = never8;
      const c4 = matmul(a, b, { transA, transB });
      const base = await c4.read();
      expectClose(base, gemmReference(aData, bData, M, N, K, transA, transB), { atol: 2e-6 * Math.sqrt(K) * 4, rtol: 1e-4 }, 'C (4×4)');
      for (const [name, tuning] of variants) {
        ctx.profile.gemmTuning = tuning;
        const c = matmul(a, b, { transA, transB });
        expect(Array.from(await c.read()), name).toEqual(Array.from(base));
        c.dispose();
      }
      for (const t of [a, b, c4]) t.dispose();
    });
  }

  it('linear with ReLU, 8×8 and workgroup tiles against 4×4', async () => {
    const ctx = gpu();
    const [M, N, K] = [37, 45, 19];
    const random = new Random(5);
    const xData = randomArray(random, M * K);
    const [x, w, bias] = [Tensor.from(ctx, xData, [M, K]), Tensor.from(ctx, randomArray(random, K * N), [K, N]), Tensor.from(ctx, randomArray(random, N), [N])];
    ctx.profile.gemmTuning = never8;
    const y4 = linear(x, w, bias, { relu: true });
    ctx.profile.gemmTuning = always8;
    const y8 = linear(x, w, bias, { relu: true });
    ctx.profile.gemmTuning = tiles;
    const yTiles = linear(x, w, bias, { relu: true });
    const base = Array.from(await y4.read());
    expect(Array.from(await y8.read())).toEqual(base);
    expect(Array.from(await yTiles.read())).toEqual(base);
    for (const t of [x, w, bias, y4, y8, yTiles]) t.dispose();
  });

  it('conv2d forward, 8×8 against 4×4', async () => {
    const ctx = gpu();
    const random = new Random(6);
    const x = Tensor.from(ctx, randomArray(random, 2 * 3 * 9 * 9), [2, 3, 9, 9]);
    const w = Tensor.from(ctx, randomArray(random, 10 * 3 * 3 * 3), [10, 3, 3, 3]);
    const bias = Tensor.from(ctx, randomArray(random, 10), [10]);
    ctx.profile.gemmTuning = never8;
    const y4 = conv2d(x, w, bias, { padding: 1 });
    ctx.profile.gemmTuning = always8;
    const y8 = conv2d(x, w, bias, { padding: 1 });
    expect(Array.from(await y8.read())).toEqual(Array.from(await y4.read()));
    for (const t of [x, w, bias, y4, y8]) t.dispose();
  });
});

describe('chooseWideBlockProducts', () => {
  const m = (M: number, block4: number, block8: number, compile8 = 0): AutotuneMeasurement => ({
    shape: { M, N: 64, K: 64 },
    ms: { block4, block8 },
    compileMs: { block4: 0, block8: compile8 },
  });
  it('never 8×8 when it loses the largest shape', () => {
    expect(chooseWideBlockProducts([m(64, 2, 1), m(1024, 10, 10)], 100)).toBe(GEMM_NEVER_WIDE);
  });
  it('from the smallest shape from which 8×8 wins every larger one', () => {
    expect(chooseWideBlockProducts([m(64, 1, 2), m(1024, 20, 10), m(4096, 80, 40)], 100)).toBe(1024 * 4096);
    expect(chooseWideBlockProducts([m(64, 2, 1), m(1024, 20, 10)], 100)).toBe(64 * 4096);
  });
  it('raised until 8×8 repays its extra compile time', () => {
    // Saving 1e-6 ms per product; 1000 ms more compile, repaid in 100 runs: 1e7 products → 2^24.
    expect(chooseWideBlockProducts([m(64, 2 * 64 * 4096 * 1e-6, 64 * 4096 * 1e-6, 1000)], 100)).toBe(2 ** 24);
  });
});

describe('chooseGemmKernel', () => {
  const m = (M: number, block4: number, block8: number, tiles?: number): AutotuneMeasurement => ({
    shape: { M, N: 64, K: 64 },
    ms: { block4, block8, tiles },
    compileMs: { block4: 0, block8: 0, tiles: 0 },
  });
  it('tiles when they take ≥ 5 % less time summed over the shapes than the chosen register blocks', () => {
    // Register times: 4×4 for M=64 (below 2^20 products), 8×8 for M=1024: 2 + 10 = 12.
    expect(chooseGemmKernel([m(64, 2, 1, 3), m(1024, 20, 10, 8)], 2 ** 20)).toBe('workgroup-tiles');
    expect(chooseGemmKernel([m(64, 2, 1, 3), m(1024, 20, 10, 9)], 2 ** 20)).toBe('registers');
    expect(chooseGemmKernel([m(64, 2, 1, 1.5), m(1024, 20, 10, 10)], 2 ** 20)).toBe('registers');
  });
  it('registers when a measurement has no tiles time (a cache from before the tiles)', () => {
    expect(chooseGemmKernel([m(64, 2, 1), m(1024, 20, 10, 1)], 0)).toBe('registers');
  });
});

describe('autotuneGemm', () => {
  const tiny = { shapes: [{ M: 64, N: 64, K: 64 }], reps: 2, minRepMs: 1 };
  const counting = () => {
    const clock = () => {
      clock.calls++;
      return performance.now();
    };
    clock.calls = 0;
    return clock;
  };

  it('times, sets ctx.profile.gemmTuning, and reuses the cached result (memory, then file) without timing', async () => {
    const ctx = gpu();
    const cacheDir = tempDir();
    const clock = counting();
    const started = performance.now();
    const first = await autotuneGemm(ctx, { ...tiny, cacheDir, clock });
    expect(performance.now() - started).toBeLessThan(60_000);
    expect(first.source).toBe('measured');
    expect(clock.calls).toBeGreaterThan(0);
    expect(checkGemmTuning(first.tuning)).toEqual(first.tuning);
    expect(GEMM_KERNELS).toContain(first.tuning.kernel);
    expect(first.tuning.kernel).toBe(chooseGemmKernel(first.measurements, first.tuning.wideBlockProducts));
    expect(first.measurements).toHaveLength(1);
    expect(Object.keys(first.measurements[0]!.ms).sort()).toEqual(['block4', 'block8', 'tiles']);
    for (const v of Object.values(first.measurements[0]!.ms)) expect(v).toBeGreaterThan(0);
    expect(ctx.profile.gemmTuning).toEqual(first.tuning);
    const file = JSON.parse(readFileSync(join(cacheDir, 'gemm-tuning.json'), 'utf8'));
    expect(file.entries[first.key].tuning).toEqual(first.tuning);

    ctx.profile.gemmTuning = { ...DEFAULT_GEMM_TUNING, minWorkgroups: 3 };
    const again = counting();
    const second = await autotuneGemm(ctx, { ...tiny, cacheDir, clock: again });
    expect(second.source).toBe('memory');
    expect(again.calls).toBe(0);
    expect(second.tuning).toEqual(first.tuning);
    expect(ctx.profile.gemmTuning).toEqual(first.tuning);

    clearGemmTuningMemory();
    const third = await autotuneGemm(ctx, { ...tiny, cacheDir, clock: again });
    expect(third.source).toBe('file');
    expect(again.calls).toBe(0);
    expect(third.tuning).toEqual(first.tuning);
    expect(third.measurements).toEqual(first.measurements);

    const forced = await autotuneGemm(ctx, { ...tiny, cacheDir, clock: again, force: true });
    expect(forced.source).toBe('measured');
    expect(again.calls).toBeGreaterThan(0);
  });

  it('a corrupt cache file gives a warning and a new measurement, and is replaced', async () => {
    const ctx = gpu();
    const cacheDir = tempDir();
    const path = join(cacheDir, 'gemm-tuning.json');
    writeFileSync(path, '{"format": "kdgpu-gemm-tun');
    const warnings: string[] = [];
    const result = await autotuneGemm(ctx, { ...tiny, cacheDir, warn: (w) => warnings.push(w) });
    expect(result.source).toBe('measured');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/corrupt GEMM tuning cache .*gemm-tuning\.json/);
    expect(JSON.parse(readFileSync(path, 'utf8')).entries[result.key].tuning).toEqual(result.tuning);

    // A well-formed file with a bad entry: also a warning and a new measurement.
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.entries[result.key].tuning = { wideBlockProducts: 'soon' };
    writeFileSync(path, JSON.stringify(file));
    clearGemmTuningMemory();
    const again = await autotuneGemm(ctx, { ...tiny, cacheDir, warn: (w) => warnings.push(w) });
    expect(again.source).toBe('measured');
    expect(warnings[1]).toMatch(/bad entry/);
  });

  it('reads a cache entry written before the kernel field as the register core', async () => {
    const ctx = gpu();
    const cacheDir = tempDir();
    const key = gemmTuningKey(ctx.adapterInfo, tiny.shapes);
    const entry = {
      tuning: { wideBlockProducts: 2 ** 20, invocations: 64, minWorkgroups: 16 },
      seconds: 1,
      measuredAt: '2026-12-01T00:00:00.000Z',
      measurements: [{ shape: tiny.shapes[0], ms: { block4: 2, block8: 1 }, compileMs: { block4: 0, block8: 0 } }],
    };
    writeFileSync(join(cacheDir, 'gemm-tuning.json'), JSON.stringify({ format: 'kdgpu-gemm-tuning', version: 1, entries: { [key]: entry } }));
    const result = await autotuneGemm(ctx, { ...tiny, cacheDir, clock: () => { throw new Error('timed again'); } });
    expect(result.source).toBe('file');
    expect(result.tuning).toEqual({ kernel: 'registers', ...entry.tuning });
    expect(ctx.profile.gemmTuning).toEqual(result.tuning);
  });

  it('cache: false neither reads nor writes; the cache directory follows the environment', async () => {
    const ctx = gpu();
    const cacheDir = tempDir();
    const clock = counting();
    await autotuneGemm(ctx, { ...tiny, cacheDir, cache: false, clock });
    const calls = clock.calls;
    await autotuneGemm(ctx, { ...tiny, cacheDir, cache: false, clock });
    expect(clock.calls).toBe(2 * calls);
    expect(() => readFileSync(join(cacheDir, 'gemm-tuning.json'))).toThrow();
    expect(await gemmTuningCacheDir('/x')).toBe('/x');
    const saved = { kd: process.env.KDGPU_CACHE_DIR, xdg: process.env.XDG_CACHE_HOME };
    try {
      delete process.env.KDGPU_CACHE_DIR;
      process.env.XDG_CACHE_HOME = '/xdg';
      expect(await gemmTuningCacheDir()).toBe(join('/xdg', 'kdgpu'));
      process.env.KDGPU_CACHE_DIR = '/own';
      expect(await gemmTuningCacheDir()).toBe('/own');
    } finally {
      for (const [name, value] of [['KDGPU_CACHE_DIR', saved.kd], ['XDG_CACHE_HOME', saved.xdg]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('init({ autotune }) tunes the new context', async () => {
    const cacheDir = tempDir();
    const ctx = await init({ autotune: { ...tiny, cacheDir } });
    try {
      expect(checkGemmTuning(ctx.profile.gemmTuning)).toEqual(ctx.profile.gemmTuning);
      const cached = await autotuneGemm(ctx, { ...tiny, cacheDir, clock: () => { throw new Error('timed again'); } });
      expect(cached.source).toBe('memory');
      expect(ctx.profile.gemmTuning).toEqual(cached.tuning);
    } finally {
      ctx.dispose();
    }
  });
});
