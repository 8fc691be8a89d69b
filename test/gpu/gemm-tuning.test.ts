// checkGemmTuning (src/gpu/gemm-tuning.ts): the GEMM tuning table as a user or a cache file
// gives it. Each bad field is refused with a message naming it; a table without `kernel` (a
// cache written before that field existed) means the register core. No GPU needed.
import { describe, expect, it } from 'vitest';
import { checkGemmTuning, DEFAULT_GEMM_TUNING, GEMM_KERNELS, GEMM_NEVER_WIDE } from '../../src/gpu/gemm-tuning.js';

describe('checkGemmTuning', () => {
  it('accepts both kernels and reads a table without kernel as the register core', () => {
    expect(GEMM_KERNELS).toEqual(['registers', 'workgroup-tiles']);
    expect(DEFAULT_GEMM_TUNING.kernel).toBe('registers');
    for (const kernel of GEMM_KERNELS) expect(checkGemmTuning({ ...DEFAULT_GEMM_TUNING, kernel })).toEqual({ ...DEFAULT_GEMM_TUNING, kernel });
    const { kernel: _kernel, ...old } = DEFAULT_GEMM_TUNING;
    expect(checkGemmTuning(old)).toEqual(DEFAULT_GEMM_TUNING);
    expect(checkGemmTuning({ ...old, wideBlockProducts: 1e300 }).wideBlockProducts).toBe(GEMM_NEVER_WIDE);
  });

  it('names the bad field and the value', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ kernel: 'shared-memory' }, /gemm tuning: kernel must be 'registers' or 'workgroup-tiles', got "shared-memory"/],
      [{ kernel: 1 }, /gemm tuning: kernel must be .*, got 1/],
      [{ kernel: null }, /gemm tuning: kernel must be .*, got null/],
      [{ wideBlockProducts: -1 }, /gemm tuning: wideBlockProducts must be a number ≥ 0, got -1/],
      [{ wideBlockProducts: Number.NaN }, /wideBlockProducts .* got NaN/],
      [{ invocations: 48 }, /gemm tuning: invocations must be a power of two from 16 to 256, got 48/],
      [{ invocations: 512 }, /invocations .* got 512/],
      [{ minWorkgroups: 0 }, /gemm tuning: minWorkgroups must be a positive integer, got 0/],
    ];
    for (const [change, message] of bad) expect(() => checkGemmTuning({ ...DEFAULT_GEMM_TUNING, ...change })).toThrow(message);
    expect(() => checkGemmTuning({ invocations: 64 })).toThrow(/wideBlockProducts/);
    expect(() => checkGemmTuning('fast')).toThrow(/gemm tuning: expected an object, got fast/);
    expect(() => checkGemmTuning(null)).toThrow(/expected an object/);
  });
});
