// Per-adapter choice of the GEMM core's dispatch (GemmTuning): time the variants (4×4 and
// 8×8 register blocks, workgroup-memory tiles) on a few shapes, pick, and remember the pick
// per adapter (in memory; in Node a JSON file in a cache directory; in a browser
// localStorage).
import { ensureWritableDirectory } from '../io/directories.js';
import { isNode } from '../gpu/acquire.js';
import type { GpuContext } from '../gpu/context.js';
import { Tensor } from '../graph/tensor.js';
import { KDGPU_VERSION } from '../version.js';
import { matmul } from '../ops/matmul.js';
import { checkGemmTuning, GEMM_NEVER_WIDE, type GemmKernel, type GemmTuning } from '../gpu/gemm-tuning.js';

/** One timed product: C[M, N] = A[M, K]·B[K, N]. */
export interface AutotuneShape {
  M: number;
  N: number;
  K: number;
}

/**
 * What the autotune times by default: a small square product, a convolution-like tall
 * and narrow one (many pixels × 64 channels, K = 256 taps) and a large square one,
 * 2^24–2^27 products. On lavapipe all three use the same two pipelines (one 4×4, one 8×8).
 */
export const DEFAULT_AUTOTUNE_SHAPES: readonly AutotuneShape[] = Object.freeze([
  { M: 256, N: 256, K: 256 },
  { M: 4096, N: 64, K: 256 },
  { M: 512, N: 512, K: 512 },
]);

export interface AutotuneOptions {
  /** Products to time (default DEFAULT_AUTOTUNE_SHAPES). Part of the cache key. */
  shapes?: readonly AutotuneShape[];
  /** Timed repetitions per variant and shape, interleaved between variants; the median counts. Default 5. */
  reps?: number;
  /** A repetition runs the product enough times to last this long (default 20 ms), so fast GPUs are not timing a sync. */
  minRepMs?: number;
  /**
   * 8×8 blocks must pay back their extra compile time within this many runs of a product
   * to be used for it (default 100): this sets the smallest product that gets them.
   */
  amortiseRuns?: number;
  /**
   * false: neither read nor write any cache. Otherwise the result is kept in memory and,
   * where possible, persisted (Node: a JSON file in `cacheDir`; browser: localStorage).
   */
  cache?: boolean;
  /**
   * Node: where the cache file (gemm-tuning.json) lives. Default: $KDGPU_CACHE_DIR, else
   * $XDG_CACHE_HOME/kdgpu, else ~/.cache/kdgpu.
   */
  cacheDir?: string;
  /** Time again even when a cached result exists (and replace it). */
  force?: boolean;
  /** Milliseconds, monotonic (default performance.now); tests inject one to count timings. */
  clock?: () => number;
  /** Where warnings go (a corrupt cache file, an unwritable directory). Default console.warn. */
  warn?: (message: string) => void;
}

/**
 * The timings of one shape: median milliseconds per product and the first run's extra
 * (≈ compile) per variant: register blocks of 4×4 and 8×8, and workgroup-memory tiles
 * (`tiles`: absent from caches written before that kernel existed).
 */
export interface AutotuneMeasurement {
  shape: AutotuneShape;
  ms: { block4: number; block8: number; tiles?: number };
  compileMs: { block4: number; block8: number; tiles?: number };
}

export interface AutotuneResult {
  tuning: GemmTuning;
  /** The cache key: library version, adapter (vendor, architecture, device, description) and shapes. */
  key: string;
  /** Where the tuning came from this time. */
  source: 'measured' | 'memory' | 'file' | 'localStorage';
  /** Seconds the measurement took (when it was made, for a cached result). */
  seconds: number;
  /** ISO date of the measurement. */
  measuredAt: string;
  measurements: AutotuneMeasurement[];
}

interface CacheFile {
  format: 'kdgpu-gemm-tuning';
  version: 1;
  entries: Record<string, Omit<AutotuneResult, 'source' | 'key'>>;
}

const memoryCache = new Map<string, AutotuneResult>();
const CACHE_FILE = 'gemm-tuning.json';
const LOCAL_STORAGE_KEY = 'kdgpu.gemmTuning';
/** 8×8 must be at least this much faster on a shape to count as winning it (and tiles on the timed shapes together). */
const WIN_RATIO = 1.05;

/**
 * The key a tuning is cached under: the library version, the adapter's vendor,
 * architecture, device and description, and the timed shapes.
 * @example gemmTuningKey(ctx.adapterInfo)
 */
export function gemmTuningKey(
  adapter: { vendor: string; architecture: string; device: string; description: string },
  shapes: readonly AutotuneShape[] = DEFAULT_AUTOTUNE_SHAPES,
): string {
  const shapeText = shapes.map((s) => `${s.M}x${s.N}x${s.K}`).join(',');
  return JSON.stringify([`kdgpu ${KDGPU_VERSION}`, adapter.vendor, adapter.architecture, adapter.device, adapter.description, shapeText]);
}

/** Forgets the in-memory results (the persisted ones stay). For tests. */
export function clearGemmTuningMemory(): void {
  memoryCache.clear();
}

/**
 * Chooses the GEMM core's tuning for this adapter and sets `ctx.profile.gemmTuning`: from the
 * cache when this adapter (and library version) was tuned before, else by timing 4×4 and
 * 8×8 register blocks and workgroup-memory tiles on `shapes` (on lavapipe 6–9 s under load,
 * most of it compiling the 8×8 and the tiled pipelines and running the slow tiles). 8×8 is used from the smallest timed
 * product from which it wins every larger one (≥ 5 % faster) and pays back its extra
 * compile time within `amortiseRuns` runs; then matmul and linear use the tiles when they
 * take ≥ 5 % less time than those register blocks over the timed shapes together
 * (`chooseGemmKernel`). A cached table from before the tiles existed is used as it is
 * (`kernel` 'registers'); `force: true` times the tiles too.
 * @example const { tuning, source } = await autotuneGemm(ctx);
 */
export async function autotuneGemm(ctx: GpuContext, options: AutotuneOptions = {}): Promise<AutotuneResult> {
  const shapes = options.shapes ?? DEFAULT_AUTOTUNE_SHAPES;
  if (shapes.length === 0) throw new Error('autotuneGemm: no shapes to time');
  for (const s of shapes) {
    if (![s.M, s.N, s.K].every((d) => Number.isInteger(d) && d > 0)) throw new Error(`autotuneGemm: shape ${JSON.stringify(s)} must have positive integer M, N, K`);
  }
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const key = gemmTuningKey(ctx.adapterInfo, shapes);
  const useCache = options.cache !== false;
  const store = useCache ? await persistentStore(options.cacheDir) : undefined;

  if (useCache && !options.force) {
    const cached = memoryCache.get(key) ?? (store ? await readEntry(store, key, warn) : undefined);
    if (cached) {
      ctx.profile.gemmTuning = cached.tuning;
      memoryCache.set(key, { ...cached, source: 'memory' });
      return cached;
    }
  }

  const result = await measure(ctx, shapes, key, options);
  ctx.profile.gemmTuning = result.tuning;
  if (useCache) {
    memoryCache.set(key, { ...result, source: 'memory' });
    if (store) await writeEntry(store, result, warn);
  }
  return result;
}

async function measure(ctx: GpuContext, shapes: readonly AutotuneShape[], key: string, options: AutotuneOptions): Promise<AutotuneResult> {
  const clock = options.clock ?? (() => performance.now());
  const reps = options.reps ?? 5;
  const minRepMs = options.minRepMs ?? 20;
  const amortiseRuns = options.amortiseRuns ?? 100;
  const base = { ...ctx.profile.gemmTuning };
  const registers = { ...base, kernel: 'registers' as const };
  const variants = {
    block4: { ...registers, wideBlockProducts: GEMM_NEVER_WIDE },
    block8: { ...registers, wideBlockProducts: 0 },
    tiles: { ...base, kernel: 'workgroup-tiles' as const },
  };
  const names = ['block4', 'block8', 'tiles'] as const;
  const start = clock();
  const measurements: AutotuneMeasurement[] = [];
  try {
    for (const shape of shapes) {
      const a = Tensor.from(ctx, filled(shape.M * shape.K), [shape.M, shape.K]);
      const b = Tensor.from(ctx, filled(shape.K * shape.N), [shape.K, shape.N]);
      // Runs `iterations` products under `tuning` and waits for the device: milliseconds.
      const time = async (tuning: GemmTuning, iterations: number) => {
        ctx.profile.gemmTuning = tuning;
        const t0 = clock();
        for (let i = 0; i < iterations; i++) matmul(a, b).dispose();
        await ctx.sync();
        return clock() - t0;
      };
      try {
        await ctx.sync();
        // Each variant once: the first run (with its compile), then a second for sizing.
        const timeEach = async (iterations: number) => {
          const out = { block4: 0, block8: 0, tiles: 0 };
          for (const name of names) out[name] = (await time(variants[name], iterations)) / iterations;
          return out;
        };
        const first = await timeEach(1);
        const once = await timeEach(1);
        const iterations = Math.min(1000, Math.max(1, Math.ceil(minRepMs / Math.max(Math.min(...Object.values(once)), 1e-3))));
        const samples = { block4: [] as number[], block8: [] as number[], tiles: [] as number[] };
        for (let r = 0; r < reps; r++) {
          const rep = await timeEach(iterations);
          for (const name of names) samples[name].push(rep[name]);
        }
        const ms = { block4: median(samples.block4), block8: median(samples.block8), tiles: median(samples.tiles) };
        const compileMs = { block4: 0, block8: 0, tiles: 0 };
        for (const name of names) compileMs[name] = Math.max(0, first[name] - ms[name]);
        measurements.push({ shape: { M: shape.M, N: shape.N, K: shape.K }, ms, compileMs });
      } finally {
        a.dispose();
        b.dispose();
      }
    }
  } finally {
    ctx.profile.gemmTuning = base;
  }
  const wideBlockProducts = chooseWideBlockProducts(measurements, amortiseRuns);
  const tuning = { ...base, kernel: chooseGemmKernel(measurements, wideBlockProducts), wideBlockProducts };
  return { tuning, key, source: 'measured', seconds: (clock() - start) / 1000, measuredAt: new Date().toISOString(), measurements };
}

/**
 * The smallest product that gets 8×8 blocks, from timings: none when 8×8 loses the largest
 * shape; else the smallest product from which 8×8 wins every timed shape, raised to where
 * its saving per run repays the extra compile time within `amortiseRuns` runs; rounded up
 * to a power of two.
 * @example chooseWideBlockProducts(result.measurements, 100)
 */
export function chooseWideBlockProducts(measurements: readonly AutotuneMeasurement[], amortiseRuns: number): number {
  const byProduct = [...measurements].sort((x, y) => product(x.shape) - product(y.shape));
  const wins = (m: AutotuneMeasurement) => m.ms.block4 >= WIN_RATIO * m.ms.block8;
  let first = byProduct.length;
  while (first > 0 && wins(byProduct[first - 1]!)) first--;
  if (first === byProduct.length) return GEMM_NEVER_WIDE;
  const winning = byProduct.slice(first);
  // Saving per product per run (ms), the smallest among the winning shapes.
  const saving = Math.min(...winning.map((m) => (m.ms.block4 - m.ms.block8) / product(m.shape)));
  const extraCompile = Math.max(0, ...measurements.map((m) => m.compileMs.block8 - m.compileMs.block4));
  const breakEven = extraCompile / (amortiseRuns * saving);
  const threshold = Math.max(product(winning[0]!.shape), breakEven);
  return Math.min(GEMM_NEVER_WIDE, 2 ** Math.ceil(Math.log2(threshold) - 1e-9));
}

/**
 * The loop for matmul and linear, from timings: 'workgroup-tiles' when the tiles' times
 * summed over the timed shapes are ≥ 5 % below the register blocks' (4×4 or 8×8 per shape as
 * `wideBlockProducts` picks), else 'registers' (also when a measurement has no tiles time).
 * The sum weighs the large products, which dominate training time. Compile time is not
 * weighed (unlike 8×8's): where the tiles compile slowly (lavapipe, ~2× the register
 * pipeline) they lose on run time anyway; on a GPU this is unmeasured.
 * @example chooseGemmKernel(result.measurements, result.tuning.wideBlockProducts)
 */
export function chooseGemmKernel(measurements: readonly AutotuneMeasurement[], wideBlockProducts: number): GemmKernel {
  let registers = 0;
  let tiles = 0;
  for (const m of measurements) {
    if (m.ms.tiles === undefined) return 'registers';
    registers += product(m.shape) >= wideBlockProducts ? m.ms.block8 : m.ms.block4;
    tiles += m.ms.tiles;
  }
  return registers >= WIN_RATIO * tiles ? 'workgroup-tiles' : 'registers';
}

const product = (s: AutotuneShape) => s.M * s.N * s.K;

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Values in [-1, 1) from a fixed sequence: timing does not depend on them, but NaN or denormals could. */
function filled(n: number): Float32Array {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) % 1000) / 500 - 1;
  return data;
}

// --- persistence -------------------------------------------------------------------------

interface Store {
  /** Where, for messages. */
  where: string;
  kind: 'file' | 'localStorage';
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

/** node: modules under variable names, so that bundlers leave them out of browser builds. */
async function nodeModule<T>(name: string): Promise<T> {
  return import(/* @vite-ignore */ name) as Promise<T>;
}

/**
 * The directory of the Node cache file: `dir` if given, else $KDGPU_CACHE_DIR, else
 * $XDG_CACHE_HOME/kdgpu, else ~/.cache/kdgpu.
 * @example await gemmTuningCacheDir()
 */
export async function gemmTuningCacheDir(dir?: string): Promise<string> {
  const path = await nodeModule<typeof import('node:path')>('node:path');
  if (dir) return dir;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  if (env.KDGPU_CACHE_DIR) return env.KDGPU_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'kdgpu');
  const os = await nodeModule<typeof import('node:os')>('node:os');
  return path.join(os.homedir(), '.cache', 'kdgpu');
}

async function persistentStore(cacheDir: string | undefined): Promise<Store | undefined> {
  if (isNode()) {
    const [fs, path, atomic] = await Promise.all([
      nodeModule<typeof import('node:fs/promises')>('node:fs/promises'),
      nodeModule<typeof import('node:path')>('node:path'),
      import('../io/atomic-write.js'),
    ]);
    const dir = await gemmTuningCacheDir(cacheDir);
    const file = path.join(dir, CACHE_FILE);
    return {
      where: file,
      kind: 'file',
      async read() {
        try {
          return await fs.readFile(file, 'utf8');
        } catch (cause) {
          if ((cause as { code?: string }).code === 'ENOENT') return undefined;
          throw cause;
        }
      },
      async write(text) {
        await ensureWritableDirectory(dir, 'GEMM tuning cache folder');
        await atomic.writeFileAtomic(file, new TextEncoder().encode(text));
      },
    };
  }
  const storage = (globalThis as { localStorage?: Storage }).localStorage;
  if (!storage) return undefined;
  return {
    where: `localStorage['${LOCAL_STORAGE_KEY}']`,
    kind: 'localStorage',
    async read() {
      return storage.getItem(LOCAL_STORAGE_KEY) ?? undefined;
    },
    async write(text) {
      storage.setItem(LOCAL_STORAGE_KEY, text);
    },
  };
}

/** The parsed cache, or an empty one; a file that cannot be read or parsed gets a warning. */
async function readCache(store: Store, warn: (m: string) => void): Promise<CacheFile> {
  const empty: CacheFile = { format: 'kdgpu-gemm-tuning', version: 1, entries: {} };
  let text: string | undefined;
  try {
    text = await store.read();
  } catch (cause) {
    warn(`kdgpu: cannot read the GEMM tuning cache ${store.where} (${(cause as Error).message}); tuning again`);
    return empty;
  }
  if (text === undefined) return empty;
  try {
    const parsed = JSON.parse(text) as CacheFile;
    if (parsed?.format !== 'kdgpu-gemm-tuning' || parsed.version !== 1 || typeof parsed.entries !== 'object' || parsed.entries === null) {
      throw new Error('not a kdgpu GEMM tuning cache of format version 1');
    }
    return parsed;
  } catch (cause) {
    warn(`kdgpu: ignoring the corrupt GEMM tuning cache ${store.where} (${(cause as Error).message}); tuning again`);
    return empty;
  }
}

async function readEntry(store: Store, key: string, warn: (m: string) => void): Promise<AutotuneResult | undefined> {
  const cache = await readCache(store, warn);
  const entry = cache.entries[key];
  if (!entry) return undefined;
  try {
    return { ...entry, tuning: checkGemmTuning(entry.tuning), key, source: store.kind };
  } catch (cause) {
    warn(`kdgpu: ignoring a bad entry in the GEMM tuning cache ${store.where} (${(cause as Error).message}); tuning again`);
    return undefined;
  }
}

async function writeEntry(store: Store, result: AutotuneResult, warn: (m: string) => void): Promise<void> {
  const cache = await readCache(store, () => {});
  const { key, source: _source, ...entry } = result;
  cache.entries[key] = entry;
  try {
    await store.write(`${JSON.stringify(cache, null, 2)}\n`);
  } catch (cause) {
    warn(`kdgpu: cannot write the GEMM tuning cache ${store.where} (${(cause as Error).message}); the tuning is kept in memory only`);
  }
}
