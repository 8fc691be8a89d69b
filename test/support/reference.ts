import { expect } from 'vitest';
import { Random } from '../../src/index.js';

/** Random values in [lo, hi), never exactly zero, as float64 and their f32 rounding. */
export function randomArray(random: Random, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    while (v === 0) v = lo + (hi - lo) * random.uniform();
    out[i] = v;
  }
  return out;
}

/** Float64 reference for C = op(A)·op(B), row-major. */
export function gemmReference(a: Float32Array, b: Float32Array, M: number, N: number, K: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a[k * M + m]! : a[m * K + k]!;
        const bv = transB ? b[n * K + k]! : b[k * N + n]!;
        acc += av * bv;
      }
      c[m * N + n] = acc;
    }
  }
  return c;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| for every element and that nothing
 * is NaN (poisoned outputs that were never written are NaN).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { atol: number; rtol: number }, what = 'value'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let worstIndex = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) && !Number.isNaN(e)) throw new Error(`${what}[${i}] is NaN (never written?), expected ${e}`);
    const excess = Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (excess > worst) {
      worst = excess;
      worstIndex = i;
    }
  }
  if (worstIndex >= 0) {
    throw new Error(`${what}[${worstIndex}] = ${actual[worstIndex]} but expected ${expected[worstIndex]} (atol ${tol.atol}, rtol ${tol.rtol})`);
  }
}
