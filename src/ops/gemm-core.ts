import gemmCoreCode from '../../shaders/gemm_core.wgsl';
import gemmTilesCode from '../../shaders/gemm_tiles.wgsl';
import { type Shader, shader } from '../gpu/shader.js';
import { DEFAULT_GEMM_TUNING, type GemmTuning } from '../gpu/gemm-tuning.js';

const MAX_WORKGROUPS_PER_DIMENSION = 65535;

function checkRows(op: string, M: number, workgroups: [number, number]): void {
  if (workgroups[1] > MAX_WORKGROUPS_PER_DIMENSION) {
    throw new Error(`${op}: ${M} GEMM rows need ${workgroups[1]} workgroups, over the limit of ${MAX_WORKGROUPS_PER_DIMENSION}; split the batch`);
  }
}

/**
 * A shader whose entry points run the shared GEMM loop (shaders/gemm_core.wgsl) through
 * the `load_a` / `load_b` accessors that `code` defines; `code` comes first so that
 * compiler line numbers match its file.
 * @example const convShader = gemmShader('conv2d', conv2dCode, conv2dGeometryCode);
 */
export function gemmShader(name: string, ...code: string[]): Shader {
  return shader(name, ...code, gemmCoreCode);
}

/**
 * As `gemmShader`, with the workgroup-tile loop (shaders/gemm_tiles.wgsl) appended too, for
 * accessors over plain k indices (`alias Step = u32`) whose file declares TRANS_A / TRANS_B.
 * @example const matmulShader = gemmTilesShader('gemm', gemmCode);
 */
export function gemmTilesShader(name: string, ...code: string[]): Shader {
  return shader(name, ...code, gemmCoreCode, gemmTilesCode);
}

/**
 * `code` with `enable f16;` in front, on its first line so that compiler line numbers still
 * match its file (the directive must precede every declaration of the module).
 * @example const gemmF16Shader = gemmShader('gemm_f16', enableF16(gemmCode), wgslLib.operandF16);
 */
export function enableF16(code: string): string {
  return `enable f16; ${code}`;
}

/**
 * Rows and columns of C per invocation (the core's BLOCK) for an M×N×K product.
 * Both blocks (and every workgroup shape) add the products of each output in the same
 * order (k = 0, 1, ..., K − 1, one `acc += a·b` per k), so the tuning changes speed, not
 * numbers: bit-identical on lavapipe (test/tune/gemm-autotune.test.ts). A compiler that fuses
 * multiply-adds in one variant and not the other could still differ in the last bits.
 */
export function gemmBlock(M: number, N: number, K: number, tuning: GemmTuning = DEFAULT_GEMM_TUNING): 4 | 8 {
  return M * N * K >= tuning.wideBlockProducts ? 8 : 4;
}

const nextPowerOfTwo = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(n, 1)));

/** Workgroups and the override constants that shape them, for one GEMM-core dispatch. */
export interface GemmDispatch {
  workgroups: [number, number];
  constants: { BLOCK: number; GROUP_WIDTH: number; GROUP_HEIGHT: number };
}

/**
 * The dispatch of an M×N×K product through the GEMM core, shaped by `tuning` (the context's
 * `ctx.profile.gemmTuning`); `op` names the caller in the error. `fit`: workgroups shaped
 * to C whatever the block (see below).
 * @example const { workgroups, constants } = gemmDispatch('matmul', 64, 10, 256, ctx.profile.gemmTuning);
 */
export function gemmDispatch(op: string, M: number, N: number, K: number, tuning: GemmTuning = DEFAULT_GEMM_TUNING, options: { fit?: boolean } = {}): GemmDispatch {
  const block = gemmBlock(M, N, K, tuning);
  const count = (width: number, height: number): [number, number] => [Math.ceil(N / (block * width)), Math.ceil(M / (block * height))];
  // Square-ish workgroups: 8 wide at 64 invocations, 16 at 256.
  const maxWidth = 2 ** Math.ceil(Math.log2(tuning.invocations) / 2);
  // Only the long-running 8×8 pipelines are worth shaping to the product (narrower for
  // narrow C, smaller when few blocks would leave threads idle): each costs seconds to
  // compile on lavapipe. `fit` shapes 4×4 ones too, narrower and no taller than C: for a
  // small C repeated over many split-K chunks, where lanes past C's edge are most of the
  // work (lavapipe runs a workgroup 8 lanes at a time, idle lanes included).
  const fit = block === 8 || options.fit === true;
  const width = fit ? Math.min(maxWidth, nextPowerOfTwo(Math.ceil(N / block))) : maxWidth;
  let height = tuning.invocations / width;
  if (options.fit) height = Math.min(height, nextPowerOfTwo(Math.ceil(M / block)));
  while (block === 8 && height > 1 && count(width, height).reduce((a, b) => a * b) < tuning.minWorkgroups) height /= 2;
  const workgroups = count(width, height);
  checkRows(op, M, workgroups);
  return { workgroups, constants: { BLOCK: block, GROUP_WIDTH: width, GROUP_HEIGHT: height } };
}

/** Workgroups and override constants of one dispatch of the workgroup-tile loop. */
export interface GemmTilesDispatch {
  workgroups: [number, number];
  /** BLOCK 4: the 4×4 block per invocation that gemm.wgsl's store_row writes. */
  constants: { BLOCK: 4; TILE_GROUP: 8 | 16 };
}

/**
 * The dispatch of an M×N product (any K) through the workgroup-tile loop (shaders/gemm_tiles.wgsl):
 * 16×16 invocations per 64×64 tile of C, or 8×8 per 32×32 tile when 64×64 tiles would make
 * fewer than `tuning.minWorkgroups` workgroups (small C: more workgroups keep more compute
 * units busy). 256 invocations and 8.5 KiB of workgroup memory: within WebGPU's default limits.
 * @example const { workgroups, constants } = gemmTilesDispatch('matmul', 1024, 1024, ctx.profile.gemmTuning);
 */
export function gemmTilesDispatch(op: string, M: number, N: number, tuning: GemmTuning = DEFAULT_GEMM_TUNING): GemmTilesDispatch {
  const count = (group: number): [number, number] => [Math.ceil(N / (4 * group)), Math.ceil(M / (4 * group))];
  const large = count(16);
  const group = large[0] * large[1] >= tuning.minWorkgroups ? 16 : 8;
  const workgroups = count(group);
  checkRows(op, M, workgroups);
  return { workgroups, constants: { BLOCK: 4, TILE_GROUP: group } };
}

/**
 * Whether the GEMM core loads B four consecutive columns at a time (its B_VECTOR constant):
 * when B is stored [K, N] (not transposed) with N % 4 == 0. The accessor then reads a vec4
 * view of B's buffer (bound a second time). Every load runs lane by lane on lavapipe, so
 * this cuts B's loads 4×; the products and their order are unchanged.
 * @example const B_VECTOR = gemmVectorB(false, 256);   // true
 */
export function gemmVectorB(transB: boolean, N: number): boolean {
  return !transB && N % 4 === 0;
}
