/** MNIST-C / ImageNet-C severity: 1 (mildest) to 5 (strongest). */
export type Severity = 1 | 2 | 3 | 4 | 5;

/**
 * The parameter for `severity` from a five-entry table, throwing a clear error for anything
 * but an integer 1..5.
 */
export function atSeverity<T>(table: readonly [T, T, T, T, T], severity: number, who: string): T {
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) throw new Error(`${who}: severity ${severity} must be an integer from 1 to 5`);
  return table[severity - 1]!;
}
