// The knobs of the GEMM core's dispatch (shaders/gemm_core.wgsl), per adapter. Plain data:
// no imports, so the context can hold one and the cache can store it as JSON.

/**
 * Which GEMM loop matmul and linear run: 'registers' (shaders/gemm_core.wgsl: a 4×4 or 8×8
 * block of C per invocation, no workgroup memory; what lavapipe favours) or
 * 'workgroup-tiles' (shaders/gemm_tiles.wgsl: 64×64 or 32×32 tiles of C per workgroup with
 * A and B staged in workgroup memory; what real GPUs usually favour). The conv2d passes
 * always use the register core.
 */
export type GemmKernel = 'registers' | 'workgroup-tiles';

export const GEMM_KERNELS: readonly GemmKernel[] = Object.freeze(['registers', 'workgroup-tiles']);

/**
 * How `gemmDispatch` shapes a GEMM-core dispatch (matmul, linear, the conv2d passes). The
 * defaults were measured on lavapipe; `autotuneGemm` (or `init({ autotune: true })`) times
 * the variants on the adapter at hand and sets `ctx.profile.gemmTuning`.
 */
export interface GemmTuning {
  /**
   * The loop of matmul and linear (GemmKernel). A table without it (a cache written before
   * the field existed) means 'registers'. With 'workgroup-tiles', `wideBlockProducts` and
   * `invocations` only shape the conv2d passes, and `minWorkgroups` also picks 32×32 tiles
   * over 64×64 when those would make fewer workgroups.
   */
  kernel: GemmKernel;
  /**
   * Products M·N·K from which an invocation computes an 8×8 block of C instead of 4×4
   * (`BLOCK`). 0: always 8×8; `GEMM_NEVER_WIDE` (2^53): always 4×4.
   */
  wideBlockProducts: number;
  /** Invocations per workgroup (`GROUP_WIDTH`·`GROUP_HEIGHT`): a power of two, 16–256. */
  invocations: number;
  /**
   * An 8×8 dispatch with fewer workgroups than this gets smaller workgroups, so that every
   * thread (lavapipe) or compute unit has one.
   */
  minWorkgroups: number;
}

/** `wideBlockProducts` that no product reaches: 4×4 always. */
export const GEMM_NEVER_WIDE = 2 ** 53;

/**
 * The table measured on lavapipe (bench/CONV-NOTES.md): 8×8 blocks are 1.7× faster per
 * product but take 1–3 s to compile instead of 0.2–0.6 s. A single run repays that from
 * about 2^26 products (~30 ms at 4×4), but a training plan runs thousands of times, so 8×8
 * starts at 2^22: the dense layers of the bench's steps (2.2·10^7 and 5.2·10^7 products)
 * then take 8×8, and train_step / kd_step ran ~10 % faster (bench/NOTES.md). 64
 * invocations; 16 workgroups for lavapipe's threads.
 */
export const DEFAULT_GEMM_TUNING: Readonly<GemmTuning> = Object.freeze({ kernel: 'registers', wideBlockProducts: 2 ** 22, invocations: 64, minWorkgroups: 16 });

/**
 * Checks a table (one from a cache file or a user); the error names the field. A missing
 * `kernel` is 'registers' (caches written before the field existed).
 * @example ctx.profile.gemmTuning = checkGemmTuning({ ...DEFAULT_GEMM_TUNING, wideBlockProducts: 0 });
 */
export function checkGemmTuning(value: unknown): GemmTuning {
  const t = value as Partial<GemmTuning> | null;
  if (typeof t !== 'object' || t === null) throw new Error(`gemm tuning: expected an object, got ${String(value)}`);
  const { kernel = 'registers', wideBlockProducts, invocations, minWorkgroups } = t;
  if (!GEMM_KERNELS.includes(kernel)) {
    throw new Error(`gemm tuning: kernel must be ${GEMM_KERNELS.map((k) => `'${k}'`).join(' or ')}, got ${JSON.stringify(kernel)}`);
  }
  if (typeof wideBlockProducts !== 'number' || !(wideBlockProducts >= 0)) {
    throw new Error(`gemm tuning: wideBlockProducts must be a number ≥ 0, got ${String(wideBlockProducts)}`);
  }
  if (typeof invocations !== 'number' || !Number.isInteger(Math.log2(invocations)) || invocations < 16 || invocations > 256) {
    throw new Error(`gemm tuning: invocations must be a power of two from 16 to 256, got ${String(invocations)}`);
  }
  if (typeof minWorkgroups !== 'number' || !Number.isInteger(minWorkgroups) || minWorkgroups < 1) {
    throw new Error(`gemm tuning: minWorkgroups must be a positive integer, got ${String(minWorkgroups)}`);
  }
  return { kernel, wideBlockProducts: Math.min(wideBlockProducts, GEMM_NEVER_WIDE), invocations, minWorkgroups };
}
