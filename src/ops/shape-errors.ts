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
