import gemmCode from '../../shaders/gemm.wgsl';
import { type AnyTensor, apply } from '../graph/apply.js';
import type { KernelCall, OpDef } from '../graph/op.js';
import { formatShape, type TensorSpec } from '../graph/tensor.js';
import { reluBackward } from './elementwise.js';
import { gemmDispatch, gemmTilesDispatch, gemmTilesShader, gemmVectorB } from './gemm-core.js';
import type { GemmTuning } from '../gpu/gemm-tuning.js';
import { columnSum } from './reduce.js';
import { expectDtype, expectRank } from './shape-errors.js';

const matmulShader = gemmTilesShader('gemm', gemmCode);

export interface MatmulOptions {
  /** Use Aᵀ: A is stored [K, M]. */
  transA?: boolean;
  /** Use Bᵀ: B is stored [N, K]. */
  transB?: boolean;
}

type Flags = Required<MatmulOptions>;

function gemmDims(op: string, a: TensorSpec, b: TensorSpec, { transA, transB }: Flags) {
  expectRank(op, 'A', a, 2);
  expectRank(op, 'B', b, 2);
  expectDtype(op, 'A', a, 'f32');
  expectDtype(op, 'B', b, 'f32');
  const [M, K] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [K2, N] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (K !== K2) {
    throw new Error(
      `${op}: inner dimensions differ: A ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} has ${K} columns, ` +
        `B ${formatShape(b.shape)}${transB ? 'ᵀ' : ''} has ${K2} rows`,
    );
  }
  return { M, N, K };
}

// `entry` is 'gemm' or 'gemm_bias_act'; the tuning's kernel picks the register entry or
// its '_tiled' twin (same bindings, same products in the same order).
function gemmCall(op: string, entry: 'gemm' | 'gemm_bias_act', dims: { M: number; N: number; K: number }, flags: Flags, relu: boolean, buffers: KernelCall['buffers'], tuning: GemmTuning): KernelCall {
  const tiles = tuning.kernel === 'workgroup-tiles';
  const dispatch = tiles ? gemmTilesDispatch(op, dims.M, dims.N, tuning) : gemmDispatch(op, dims.M, dims.N, dims.K, tuning);
  const B_VECTOR = Number(gemmVectorB(flags.transB, dims.N));
  const constants: Record<string, number> = { ...dispatch.constants, B_VECTOR, TRANS_A: Number(flags.transA), TRANS_B: Number(flags.transB) };
  if (entry === 'gemm_bias_act') constants.RELU = Number(relu);
  return { shader: matmulShader, entry: tiles ? `${entry}_tiled` : entry, constants, params: dims, buffers, workgroups: dispatch.workgroups };
}

const matmulOp: OpDef<Flags> = {
  name: 'matmul',
  outputs([a, b], flags) {
    const { M, N } = gemmDims('matmul', a!, b!, flags);
    return [{ shape: [M, N], dtype: 'f32' }];
  },
  kernels({ inputs: [a, b], outputs: [c] }, flags, ctx) {
    return [gemmCall('matmul', 'gemm', gemmDims('matmul', a!, b!, flags), flags, false, { a: a!, b: b!, b4: b!, c: c! }, ctx.profile.gemmTuning)];
  },
  grad([dc], [a, b], _outputs, { transA, transB }) {
    // C = X·Y with X = op(A), Y = op(B): dX = dC·Yᵀ, dY = Xᵀ·dC, transposed back where stored so.
    const da = transA ? matmul(b!, dc!, { transA: transB, transB: true }) : matmul(dc!, b!, { transB: !transB });
    const db = transB ? matmul(dc!, a!, { transA: true, transB: transA }) : matmul(a!, dc!, { transA: !transA });
    return [da, db];
  },
};

/**
 * Matrix product op(A)·op(B) of 2-D f32 tensors; transposes are read in place, never copied.
 * @example const y = matmul(x, w);              // [B, K]·[K, N]
 * @example const dw = matmul(x, dy, { transA: true });
 */
export function matmul<T extends AnyTensor>(a: T, b: T, options: MatmulOptions = {}): T {
  return apply(matmulOp, [a, b], { transA: options.transA ?? false, transB: options.transB ?? false })[0]!;
}

interface LinearAttrs {
  relu: boolean;
}

const linearOp: OpDef<LinearAttrs> = {
  name: 'linear',
  outputs([x, w, bias]) {
    const { M, N } = gemmDims('linear', x!, w!, { transA: false, transB: false });
    expectRank('linear', 'bias', bias!, 1);
    if (bias!.shape[0] !== N) throw new Error(`linear: bias ${formatShape(bias!.shape)} must have ${N} entries to match weight ${formatShape(w!.shape)}`);
    return [{ shape: [M, N], dtype: 'f32' }];
  },
  kernels({ inputs: [x, w, bias], outputs: [y] }, { relu }, ctx) {
    const flags = { transA: false, transB: false };
    return [gemmCall('linear', 'gemm_bias_act', gemmDims('linear', x!, w!, flags), flags, relu, { a: x!, b: w!, b4: w!, bias: bias!, c: y! }, ctx.profile.gemmTuning)];
  },
  grad([dy], [x, w], [y], { relu }) {
    const dz = relu ? reluBackward(dy!, y!) : dy!;
    return [matmul(dz, w!, { transB: true }), matmul(x!, dz, { transA: true }), columnSum(dz)];
  },
};

/**
 * Dense layer in one kernel: x·W + b, then ReLU when `relu` is set (the GEMM's epilogue).
 * x is [batch, in], W is [in, out], b is [out].
 * @example const h = linear(x, w1, b1, { relu: true });
 */
export function linear<T extends AnyTensor>(x: T, w: T, bias: T, options: { relu?: boolean } = {}): T {
  return apply(linearOp, [x, w, bias], { relu: options.relu ?? false })[0]!;
}
