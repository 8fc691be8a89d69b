// Exact McNemar test: is one classifier better than another on the same test images?

export interface PairedComparison {
  /** Images compared (both models saw each one). */
  count: number;
  /** Images model A got right and model B got wrong. */
  onlyA: number;
  /** Images model B got right and model A got wrong. */
  onlyB: number;
  /** Two-sided exact p-value of "A and B are equally accurate" (binomial on the discordant pairs). */
  pValue: number;
}

/**
 * Compares two classifiers on the same images by their discordant pairs (McNemar's exact
 * test): under "equally accurate", each image that exactly one model gets right is equally
 * likely to favour either, so min(onlyA, onlyB) follows Binomial(onlyA + onlyB, 1/2).
 *
 * @example
 * const { onlyA, onlyB, pValue } = pairedComparison(kd.predictions, alone.predictions, test.labels);
 */
export function pairedComparison(predictionsA: ArrayLike<number>, predictionsB: ArrayLike<number>, labels: ArrayLike<number>): PairedComparison {
  if (predictionsA.length !== labels.length || predictionsB.length !== labels.length) {
    throw new Error(`pairedComparison: ${predictionsA.length} and ${predictionsB.length} predictions for ${labels.length} labels; both models must predict every image`);
  }
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < labels.length; i++) {
    const a = predictionsA[i] === labels[i];
    const b = predictionsB[i] === labels[i];
    if (a && !b) onlyA++;
    else if (b && !a) onlyB++;
  }
  return { count: labels.length, onlyA, onlyB, pValue: mcnemarExactPValue(onlyA, onlyB) };
}

/** Two-sided exact p-value: 2·P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1. */
export function mcnemarExactPValue(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // Sum in log space: n can be thousands, where 2^-n underflows.
  const logHalfN = -n * Math.LN2;
  let logTerm = logHalfN; // log C(n, 0) 2^-n
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}
