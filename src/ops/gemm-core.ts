import gemmCoreCode from '../../shaders/gemm_core.wgsl';
import { type Shader, shader } from '../gpu/shader.js';

const INVOCATIONS_PER_WORKGROUP = 64;
/** Workgroups enough to share an 8×8 dispatch evenly among the threads of lavapipe. */
const MIN_WORKGROUPS = 16;
const MAX_WORKGROUPS_PER_DIMENSION = 65535;
/**
 * Products (M·N·K) from which the GEMM core computes 8×8 blocks per invocation instead of
 * 4×4: 1.7× faster per product on lavapipe, but 1–3 s to compile instead of 0.2–0.6 s, which
 * only pays when the kernel runs long (this is about 30 ms at 4×4).
 */
const WIDE_BLOCK_PRODUCTS = 2 ** 26;

/**
 * A shader whose entry points run the shared GEMM loop (shaders/gemm_core.wgsl) through
 * the `load_a` / `load_b` accessors that `code` defines; `code` comes first so that
 * compiler line numbers match its file.
 * @example const convShader = gemmShader('conv2d', conv2dCode, conv2dGeometryCode);
 */
export function gemmShader(name: string, ...code: string[]): Shader {
  return shader(name, [...code, gemmCoreCode].join('\n'));
}

/** Rows and columns of C per invocation (the core's BLOCK) for an M×N×K product. */
export function gemmBlock(M: number, N: number, K: number): 4 | 8 {
  return M * N * K >= WIDE_BLOCK_PRODUCTS ? 8 : 4;
}

const nextPowerOfTwo = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(n, 1)));

/** Workgroups and the override constants that shape them, for one GEMM-core dispatch. */
export interface GemmDispatch {
  workgroups: [number, number];
  constants: { BLOCK: number; GROUP_WIDTH: number; GROUP_HEIGHT: number };
}

/**
 * The dispatch of an M×N×K product through the GEMM core; `op` names the caller in the error.
 * @example const { workgroups, constants } = gemmDispatch('matmul', 64, 10, 256);
 */
export function gemmDispatch(op: string, M: number, N: number, K: number): GemmDispatch {
  const block = gemmBlock(M, N, K);
  const count = (width: number, height: number): [number, number] => [Math.ceil(N / (block * width)), Math.ceil(M / (block * height))];
  // Only the long-running 8×8 pipelines are worth shaping to the product (narrower for
  // narrow C, smaller when few blocks would leave threads idle): each costs seconds to compile.
  const width = block === 8 ? Math.min(8, nextPowerOfTwo(Math.ceil(N / block))) : 8;
  let height = INVOCATIONS_PER_WORKGROUP / width;
  while (block === 8 && height > 1 && count(width, height).reduce((a, b) => a * b) < MIN_WORKGROUPS) height /= 2;
  const workgroups = count(width, height);
  if (workgroups[1] > MAX_WORKGROUPS_PER_DIMENSION) {
    throw new Error(`${op}: ${M} GEMM rows need ${workgroups[1]} workgroups, over the limit of ${MAX_WORKGROUPS_PER_DIMENSION}; split the batch`);
  }
  return { workgroups, constants: { BLOCK: block, GROUP_WIDTH: width, GROUP_HEIGHT: height } };
}
