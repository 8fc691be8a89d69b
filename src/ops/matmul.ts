import gemmCode from '../../shaders/gemm.wgsl';
import type { GpuContext } from '../gpu/context.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply, bindAll } from '../graph/apply.js';
import type { KernelCall, OpDef } from '../graph/op.js';
import { formatShape, type TensorSpec } from '../graph/tensor.js';
import { castF16, castLike } from './cast.js';
import { reluBackward } from './elementwise.js';
import { enableF16, gemmDispatch, gemmTilesDispatch, gemmTilesShader, gemmVectorB } from './gemm-core.js';
import type { GemmTuning } from '../gpu/gemm-tuning.js';
import { columnSum } from './reduce.js';
import { expectOperands, expectRank } from './shape-errors.js';

// One GEMM file, compiled for f32 or f16 operands (both accumulate and write f32), each with
// the register loop and the workgroup-tile loop.
const matmulShaders = {
  f32: gemmTilesShader('gemm', gemmCode, wgslLib.operandF32),
  f16: gemmTilesShader('gemm_f16', enableF16(gemmCode), wgslLib.operandF16),
};

/** Where matmul and linear compute: f32 throughout, or f16 operands with f32 sums and results. */
export type Precision = 'f32' | 'f16';

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
  expectOperands(op, ['A', a], ['B', b]);
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
function gemmCall(op: string, entry: 'gemm' | 'gemm_bias_act', dims: { M: number; N: number; K: number }, flags: Flags, relu: boolean, buffers: KernelCall['buffers'], ctx: GpuContext): KernelCall {
  const f16 = buffers.a!.dtype === 'f16';
  if (f16) ctx.requireF16(`${op} with f16 operands`);
  const tuning: GemmTuning = ctx.profile.gemmTuning;
  const tiles = tuning.kernel === 'workgroup-tiles';
  const dispatch = tiles ? gemmTilesDispatch(op, dims.M, dims.N, tuning) : gemmDispatch(op, dims.M, dims.N, dims.K, tuning);
  const B_VECTOR = Number(gemmVectorB(flags.transB, dims.N));
  const constants: Record<string, number> = { ...dispatch.constants, B_VECTOR, TRANS_A: Number(flags.transA), TRANS_B: Number(flags.transB) };
  if (entry === 'gemm_bias_act') constants.RELU = Number(relu);
  return { shader: matmulShaders[f16 ? 'f16' : 'f32'], entry: tiles ? `${entry}_tiled` : entry, constants, params: dims, buffers, workgroups: dispatch.workgroups };
}

const matmulOp: OpDef<Flags> = {
  name: 'matmul',
  acceptsF16: true,
  outputs([a, b], flags) {
    const { M, N } = gemmDims('matmul', a!, b!, flags);
    return [{ shape: [M, N], dtype: 'f32' }];
  },
  kernels({ inputs: [a, b], outputs: [c] }, flags, ctx) {
    return [gemmCall('matmul', 'gemm', gemmDims('matmul', a!, b!, flags), flags, false, { a: a!, b: b!, b4: b!, c: c! }, ctx)];
  },
  grad([dcIn], [a, b], _outputs, { transA, transB }) {
    const dc = castLike(dcIn!, a!);
    // C = X·Y with X = op(A), Y = op(B): dX = dC·Yᵀ, dY = Xᵀ·dC, transposed back where stored so.
    const da = transA ? matmul(b!, dc!, { transA: transB, transB: true }) : matmul(dc!, b!, { transB: !transB });
    const db = transB ? matmul(dc!, a!, { transA: true, transB: transA }) : matmul(a!, dc!, { transA: !transA });
    return [da, db];
  },
};

/**
 * Matrix product op(A)·op(B) of 2-D tensors; transposes are read in place, never copied.
 * A and B are both f32, or both f16 (castF16; needs the device's 'shader-f16', ctx.hasF16):
 * f16 operands are multiplied and summed in f32, and C is f32 either way.
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
  acceptsF16: true,
  outputs([x, w, bias]) {
    const { M, N } = gemmDims('linear', x!, w!, { transA: false, transB: false });
    expectRank('linear', 'bias', bias!, 1);
    if (bias!.dtype !== 'f32') throw new Error(`linear: bias must be f32, got ${bias!.dtype} ${formatShape(bias!.shape)}`);
    if (bias!.shape[0] !== N) throw new Error(`linear: bias ${formatShape(bias!.shape)} must have ${N} entries to match weight ${formatShape(w!.shape)}`);
    return [{ shape: [M, N], dtype: 'f32' }];
  },
  kernels({ inputs: [x, w, bias], outputs: [y] }, { relu }, ctx) {
    const flags = { transA: false, transB: false };
    return [gemmCall('linear', 'gemm_bias_act', gemmDims('linear', x!, w!, flags), flags, relu, { a: x!, b: w!, b4: w!, bias: bias!, c: y! }, ctx)];
  },
  grad([dy], [x, w], [y], { relu }) {
    const dz = relu ? reluBackward(dy!, y!) : dy!;
    const dzOperand = castLike(dz, x!);
    return [matmul(dzOperand, w!, { transB: true }), matmul(x!, dzOperand, { transA: true }), columnSum(dz)];
  },
};

export interface LinearOptions {
  /** Apply ReLU in the GEMM's epilogue. */
  relu?: boolean;
  /**
   * 'f16': round x and W to f16 first (castF16, unless they are f16 already) and multiply
   * those, summing in f32; bias, sums and y stay f32, and so does the gradient of W (for
   * f32 master weights). Needs the device's 'shader-f16' (ctx.hasF16). Default 'f32'.
   */
  precision?: Precision;
}

/**
 * Dense layer in one kernel: x·W + b, then ReLU when `relu` is set (the GEMM's epilogue).
 * x is [batch, in], W is [in, out], b is [out].
 * @example const h = linear(x, w1, b1, { relu: true });
 * @example const h = linear(x, w1, b1, { relu: true, precision: 'f16' });
 */
export function linear<T extends AnyTensor>(x: T, w: T, bias: T, options: LinearOptions = {}): T {
  const precision = options.precision ?? 'f32';
  if (precision !== 'f32' && precision !== 'f16') throw new Error(`linear: precision must be 'f32' or 'f16', got ${String(precision)}`);
  const [xIn, wIn, biasIn] = bindAll([x, w, bias]);
  const operand = (t: T) => (precision === 'f16' && t.dtype !== 'f16' ? castF16(t) : t);
  return apply(linearOp, [operand(xIn!), operand(wIn!), biasIn!], { relu: options.relu ?? false })[0]!;
}
