// The options every distillation trainer shares (the teacher, the temperature T and the
// hard loss's weight), checked and defaulted in one place: `distill`, the robust objectives
// (ARD, RSLAD, defensive distillation) and the CLI all call these, so one value is accepted
// or refused the same way, with the same words, everywhere.
import { checkTemperature, checkUnitWeight, HARD_WEIGHT_RENAMED, refuseRenamedOptions } from '../losses/loss-options.js';
import type { Sequential } from '../nn/sequential.js';

/** Defaults of the shared options: T = 4 and a hard-loss weight of 0.1 (so 0.9 on the soft term). */
export const DISTILLATION_DEFAULTS = { temperature: 4, hardWeight: 0.1 } as const;

/** What a distillation trainer takes besides its teacher (both optional; see DISTILLATION_DEFAULTS). */
export interface DistillationWeights {
  /** Softmax temperature T > 0 of the soft term, which is scaled by T². */
  temperature?: number;
  /**
   * Weight of the hard loss (cross-entropy with the labels), in [0, 1]; the soft term gets
   * 1 − hardWeight. The same meaning in distill, ARD, the CLI's --hard-weight and temperatureKl.
   */
  hardWeight?: number;
}

/** Throws unless the teacher is another model with the student's input and output shapes. */
export function checkTeacher(who: string, student: Sequential, teacher: Sequential): void {
  if (teacher === student) throw new Error(`${who}: the teacher and the student must be different models`);
  for (const [what, t, s] of [['takes', teacher.inputShape, student.inputShape], ['outputs', teacher.outputShape, student.outputShape]] as const) {
    if (t.join() !== s.join()) throw new Error(`${who}: teacher '${teacher.name}' ${what} [${t}] but student '${student.name}' ${what} [${s}]`);
  }
}

/**
 * The checked temperature and hard-loss weight, defaults filled in. Refuses the former name
 * `alpha` with its replacement. `names` are what messages call the two (the CLI's flags).
 * @example const { temperature, hardWeight } = distillationWeights('distill', options);
 */
export function distillationWeights(who: string, options: DistillationWeights, names = { temperature: 'temperature', hardWeight: 'hardWeight' }): Required<DistillationWeights> {
  refuseRenamedOptions(who, options, HARD_WEIGHT_RENAMED);
  const temperature = options.temperature ?? DISTILLATION_DEFAULTS.temperature;
  const hardWeight = options.hardWeight ?? DISTILLATION_DEFAULTS.hardWeight;
  checkTemperature(who, temperature, names.temperature);
  checkUnitWeight(who, names.hardWeight, hardWeight, 'the hard loss');
  return { temperature, hardWeight };
}
