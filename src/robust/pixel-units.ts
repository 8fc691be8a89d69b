import type { Dataset } from '../data/dataset.js';

/**
 * Attacks (and training against them) take ε and clip to [0, 1] in pixel units, so a
 * `normalize()`d dataset would make both silently wrong: refuse it and say what to do.
 * `worker` says who works in pixels ("attacks work", "the inner attack works"); `action` what
 * to do with the raw dataset instead ("attack", "train on").
 */
export function requirePixelUnits(data: Dataset, who: string, worker: string, action: string): void {
  if (!data.normalization) return;
  const { mean, std } = data.normalization;
  throw new Error(
    `${who}: the dataset was normalised (mean ${mean}, std ${std}), but ${worker} on pixels in [0, 1]; ` +
      `${action} the raw dataset and put the normalisation inside the model (a Standardize(${mean}, ${std}) first layer)`,
  );
}
