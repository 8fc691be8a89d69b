import { describe, expect, it } from 'vitest';
import { mcnemarExactPValue, pairedComparison } from '../../src/train/paired-test.js';

// Exact references: 2·Σ_{i≤k} C(n, i)/2^n computed with BigInt, independent of the log-space sum.
function exactReference(b: number, c: number): number {
  const n = b + c;
  const k = Math.min(b, c);
  let choose = 1n;
  let sum = 1n;
  for (let i = 1; i <= k; i++) {
    choose = (choose * BigInt(n - i + 1)) / BigInt(i);
    sum += choose;
  }
  const scale = 10n ** 30n;
  return Math.min(1, (Number((2n * sum * scale) / 2n ** BigInt(n)) / 1e30));
}

describe('pairedComparison (exact McNemar)', () => {
  it('counts discordant pairs and ignores images both get right or both get wrong', () => {
    const labels = [0, 1, 2, 3, 4, 5];
    const a = [0, 1, 9, 3, 9, 9];
    const b = [0, 9, 2, 9, 9, 9];
    expect(pairedComparison(a, b, labels)).toMatchObject({ count: 6, onlyA: 2, onlyB: 1 });
  });

  it('matches the exact binomial tail for small and large counts (relative 1e-9)', () => {
    for (const [b, c] of [[0, 0], [1, 0], [5, 5], [3, 12], [40, 70], [300, 350], [900, 1000]] as const) {
      const expected = b + c === 0 ? 1 : exactReference(b, c);
      expect(mcnemarExactPValue(b, c)).toBeCloseTo(expected, 9);
      expect(mcnemarExactPValue(c, b)).toBe(mcnemarExactPValue(b, c));
    }
    // Known value: b = 3, c = 12 → 2·(1 + 15 + 105 + 455)/2^15 = 0.03515625.
    expect(mcnemarExactPValue(3, 12)).toBeCloseTo(0.03515625, 12);
  });

  it('rejects predictions that do not cover every label', () => {
    expect(() => pairedComparison([1, 2], [1, 2, 3], [1, 2, 3])).toThrow(/2 and 3 predictions for 3 labels/);
  });
});
