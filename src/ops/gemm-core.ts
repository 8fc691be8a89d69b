import gemmCoreCode from '../../shaders/gemm_core.wgsl';
import { type Shader, shader } from '../gpu/shader.js';

/** Rows and columns of C one workgroup of the GEMM core covers: 8×8 invocations × 4×4 each. */
const TILE = 32;
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/**
 * A shader whose entry points run the shared GEMM loop (shaders/gemm_core.wgsl) through
 * the `load_a` / `load_b` accessors that `code` defines; `code` comes first so that
 * compiler line numbers match its file.
 * @example const convShader = gemmShader('conv2d', conv2dCode, conv2dGeometryCode);
 */
export function gemmShader(name: string, ...code: string[]): Shader {
  return shader(name, [...code, gemmCoreCode].join('\n'));
}

/** Workgroups for an M×N result of the GEMM core; `op` names the caller in the error. */
export function gemmWorkgroups(op: string, M: number, N: number): [number, number] {
  const grid: [number, number] = [Math.ceil(N / TILE), Math.ceil(M / TILE)];
  if (grid[1] > MAX_WORKGROUPS_PER_DIMENSION) {
    throw new Error(`${op}: ${M} GEMM rows need ${grid[1]} workgroups, over the limit of ${MAX_WORKGROUPS_PER_DIMENSION}; split the batch`);
  }
  return grid;
}
