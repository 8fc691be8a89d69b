// Checks of the numbers every distillation loss takes (a softmax temperature, a weight in
// [0, 1]), in one place, so that the losses, the distillation objectives and the CLI reject
// the same values with the same words.

/** Throws unless `temperature` is a finite number > 0. */
export function checkTemperature(who: string, temperature: number, name = 'temperature'): void {
  if (!(typeof temperature === 'number' && Number.isFinite(temperature) && temperature > 0)) {
    throw new Error(`${who}: ${name} must be a finite number > 0, got ${String(temperature)}`);
  }
}

/** Throws unless `value` (named `name`, weighting `what`) is a number in [0, 1]. */
export function checkUnitWeight(who: string, name: string, value: number, what: string): void {
  if (!(typeof value === 'number' && value >= 0 && value <= 1)) {
    throw new Error(`${who}: ${name} weights ${what} and must be in [0, 1], got ${String(value)}`);
  }
}

/** Throws unless `value` (named `name`) is a finite number ≥ 0. */
export function checkNonNegativeWeight(who: string, name: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw new Error(`${who}: ${name} must be a finite number ≥ 0, got ${String(value)}`);
  }
}

/**
 * Throws when `options` still carries a renamed key. `renamed` maps each old key to its new
 * one and what it weights; the message gives both, so an old call is fixed in one edit.
 */
export function refuseRenamedOptions(who: string, options: object, renamed: Readonly<Record<string, string>>): void {
  for (const [old, now] of Object.entries(renamed)) {
    if (old in options) throw new Error(`${who}: option '${old}' was renamed; pass ${now} instead`);
  }
}

/** `alpha` (the hard loss's weight) is `hardWeight` everywhere since 2026-12-04. */
export const HARD_WEIGHT_RENAMED = { alpha: "'hardWeight' (the same weight of the hard cross-entropy; kdgpu calls it hardWeight everywhere)" } as const;
