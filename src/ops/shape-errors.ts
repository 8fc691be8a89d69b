import { type DType, formatShape, type TensorSpec } from '../graph/tensor.js';

export function expectRank(op: string, what: string, t: TensorSpec, rank: number): void {
  if (t.shape.length !== rank) throw new Error(`${op}: ${what} must have rank ${rank}, got shape ${formatShape(t.shape)}`);
}

export function expectDtype(op: string, what: string, t: TensorSpec, dtype: DType): void {
  if (t.dtype !== dtype) throw new Error(`${op}: ${what} must be ${dtype}, got ${t.dtype} (shape ${formatShape(t.shape)})`);
}

export function expectSameShape(op: string, a: TensorSpec, b: TensorSpec): void {
  if (a.shape.join() !== b.shape.join()) {
    throw new Error(`${op}: shapes must match, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
}

/**
 * The two operands of a GEMM-like op (matmul, linear, the conv2d passes) must be both f32 or
 * both f16 (f16: see castF16 and ctx.hasF16).
 */
export function expectOperands(op: string, [aName, a]: [string, TensorSpec], [bName, b]: [string, TensorSpec]): void {
  if ((a.dtype !== 'f32' && a.dtype !== 'f16') || b.dtype !== a.dtype) {
    throw new Error(`${op}: ${aName} and ${bName} must both be f32 or both f16, got ${aName} ${a.dtype} ${formatShape(a.shape)} and ${bName} ${b.dtype} ${formatShape(b.shape)}; cast with castF16`);
  }
}
