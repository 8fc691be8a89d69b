// Calibration metrics (src/robust/calibration.ts): hand-computed small cases for ECE, NLL
// and Brier; large synthetic models whose calibration is known by construction (perfectly
// calibrated: ECE < 0.01 at n = 200k; logits × 5: over-confident, fitted T within 10% of 5);
// numerical stability; clear errors. Tolerances: 1e-12 for hand cases (float64 throughout).
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/nn/random.js';
import { brierScore, calibrationReport, expectedCalibrationError, fitTemperature, negativeLogLikelihood, softmaxWithTemperature } from '../../src/robust/calibration.js';

const CLASSES = 10;

/**
 * A model calibrated by construction: each sample's top class t gets probability c (uniform
 * in [0.1, 1)), the other nine (1 − c)/9 each, and the label is drawn from exactly that
 * distribution. Logits are log-probabilities up to a constant, times `sharpen`.
 */
function calibratedModel(n: number, seed: number, sharpen = 1): { logits: Float32Array; labels: Uint32Array } {
  const random = new Random(seed);
  const logits = new Float32Array(n * CLASSES);
  const labels = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const c = 0.1 + 0.9 * random.uniform();
    const top = Math.floor(random.uniform() * CLASSES);
    logits[i * CLASSES + top] = sharpen * Math.log((9 * c) / (1 - c));
    const other = (top + 1 + Math.floor(random.uniform() * (CLASSES - 1))) % CLASSES;
    labels[i] = random.uniform() < c ? top : other;
  }
  return { logits, labels };
}

// Two classes. Sample A: p = [1/4, 3/4], label 1 (right, confidence 0.75). Sample B:
// p = [4/5, 1/5], label 1 (wrong, confidence 0.8). Sample C: p = [1/2, 1/2], label 0 (right:
// ties go to the first class, confidence 0.5).
const small = {
  logits: new Float32Array([0, Math.log(3), Math.log(4), 0, 0, 0]),
  labels: new Uint32Array([1, 1, 0]),
};

describe('hand-computed cases', () => {
  it('negative log-likelihood is the mean of −log p(label)', () => {
    const expected = -(Math.log(0.75) + Math.log(0.2) + Math.log(0.5)) / 3;
    expect(negativeLogLikelihood(small.logits, small.labels)).toBeCloseTo(expected, 6);
    // Temperature 2 on doubled logits is the same model (f32 logits: 1e-6).
    expect(negativeLogLikelihood([0, 2 * Math.log(3)], [1], { temperature: 2 })).toBeCloseTo(-Math.log(0.75), 12);
  });

  it('Brier score sums squared errors over classes and averages over samples', () => {
    // A: 0.25² + 0.25²; B: 0.8² + 0.8²; C: 0.5² + 0.5².
    const expected = (0.125 + 1.28 + 0.5) / 3;
    expect(brierScore(small.logits, small.labels)).toBeCloseTo(expected, 6);
    expect(brierScore([0, Math.log(3)], [1])).toBeCloseTo(0.125, 12);
  });

  it('ECE weights |accuracy − confidence| by bin size and reports the bins', () => {
    // 3 bins: C alone in (1/3, 2/3] (confidence 0.5, accuracy 1); A and B in (2/3, 1]
    // (confidence 0.775, accuracy 0.5). ECE = (1/3)·0.5 + (2/3)·0.275 = 0.35.
    const { ece, bins } = expectedCalibrationError(small.logits, small.labels, { bins: 3 });
    expect(ece).toBeCloseTo(0.35, 6);
    expect(bins.map((b) => b.count)).toEqual([0, 1, 2]);
    expect(bins[0]).toEqual({ lower: 0, upper: 1 / 3, count: 0, confidence: 0, accuracy: 0 });
    expect(bins[1]!.confidence).toBeCloseTo(0.5, 6);
    expect(bins[1]!.accuracy).toBe(1);
    expect(bins[2]!.confidence).toBeCloseTo(0.775, 6);
    expect(bins[2]!.accuracy).toBe(0.5);
    // One bin: |mean accuracy − mean confidence| = |2/3 − 0.6833|.
    expect(expectedCalibrationError(small.logits, small.labels, { bins: 1 }).ece).toBeCloseTo(Math.abs(2 / 3 - (0.75 + 0.8 + 0.5) / 3), 6);
  });

  it('softmax with temperature divides logits by T and sums to 1', () => {
    const p = softmaxWithTemperature([0, Math.log(3), 0, 2 * Math.log(3)], 2, 2);
    expect(p[0]! + p[1]!).toBeCloseTo(1, 12);
    expect(p[1]).toBeCloseTo(Math.sqrt(3) / (1 + Math.sqrt(3)), 12);
    expect(p[3]).toBeCloseTo(0.75, 12);
  });

  it('stays finite for huge logits (max-subtracted, float64)', () => {
    const logits = new Float32Array([1000, -1000, 3e38, -3e38]);
    expect(negativeLogLikelihood(logits, [1, 0])).toBeCloseTo(1000, 6); // (2000 + 0) / 2
    expect(brierScore(logits, [1, 0])).toBeCloseTo(1, 12); // (2 + 0) / 2
    expect(expectedCalibrationError(logits, [1, 0]).ece).toBeCloseTo(0.5, 12);
    expect(Number.isFinite(negativeLogLikelihood([-3e38, 3e38], [0]))).toBe(true);
  });
});

describe('synthetic models', () => {
  it('a perfectly calibrated model has ECE < 0.01 (n = 200k) and fitted T ≈ 1', () => {
    const { logits, labels } = calibratedModel(200_000, 1);
    const { ece, bins } = expectedCalibrationError(logits, labels);
    expect(ece).toBeLessThan(0.01);
    expect(bins).toHaveLength(15);
    expect(bins.reduce((acc, b) => acc + b.count, 0)).toBe(200_000);
    expect(Math.abs(fitTemperature(logits, labels) - 1)).toBeLessThan(0.03);
  });

  it('logits × 5 are over-confident; temperature scaling fitted on held-out data recovers T ≈ 5', () => {
    const heldOut = calibratedModel(50_000, 2, 5);
    const test = calibratedModel(50_000, 3, 5);
    const temperature = fitTemperature(heldOut.logits, heldOut.labels);
    expect(Math.abs(temperature / 5 - 1)).toBeLessThan(0.1);
    expect(fitTemperature(heldOut.logits, heldOut.labels)).toBe(temperature); // deterministic

    const report = calibrationReport(test.logits, test.labels, { heldOut });
    expect(report.temperature).toBe(temperature);
    expect(report.before.ece).toBeGreaterThan(0.2);
    expect(report.after.ece).toBeLessThan(0.02);
    expect(report.after.nll).toBeLessThan(report.before.nll);
    expect(report.after.brier).toBeLessThan(report.before.brier);
    expect(report.after.accuracy).toBe(report.before.accuracy); // T > 0 keeps the argmax
    expect(report.after.nll).toBeCloseTo(negativeLogLikelihood(test.logits, test.labels, { temperature }), 12);
  });

  it('separable logits push T to the lower bound of the search', () => {
    const logits = new Float32Array([3, 0, 0, 3, 2, 0]);
    const labels = [0, 1, 0];
    expect(fitTemperature(logits, labels)).toBeCloseTo(0.01, 6);
    expect(fitTemperature(logits, labels, { minTemperature: 0.5 })).toBeCloseTo(0.5, 6);
  });
});

describe('bad inputs', () => {
  it('throw clear errors', () => {
    expect(() => negativeLogLikelihood(new Float32Array(7), [0, 1])).toThrow('negativeLogLikelihood: 7 logits for 2 labels; expected n × classes values');
    expect(() => brierScore(new Float32Array(2), [0, 1])).toThrow('at least 2 classes');
    expect(() => expectedCalibrationError(new Float32Array(4), [0, 2])).toThrow('expectedCalibrationError: label 2 at index 1 is not a class index in 0..1');
    expect(() => expectedCalibrationError(new Float32Array(4), [-1, 0])).toThrow('label -1 at index 0');
    expect(() => expectedCalibrationError(new Float32Array(4), [0.5, 0])).toThrow('label 0.5 at index 0');
    expect(() => expectedCalibrationError(new Float32Array(4), [0, 1], { bins: 0 })).toThrow('expectedCalibrationError: bins 0 must be an integer ≥ 1');
    expect(() => negativeLogLikelihood(new Float32Array(4), [0, 1], { temperature: 0 })).toThrow('negativeLogLikelihood: temperature 0 must be a finite number > 0');
    expect(() => negativeLogLikelihood([0, NaN], [0])).toThrow('negativeLogLikelihood: logit NaN at row 0, class 1 is not finite');
    expect(() => fitTemperature([], [])).toThrow('fitTemperature: no samples (labels is empty)');
    expect(() => fitTemperature([0, 1], [0], { minTemperature: 2, maxTemperature: 1 })).toThrow('fitTemperature: minTemperature 2 must be below maxTemperature 1');
    expect(() => calibrationReport([0, 1], [0], { heldOut: { logits: [0, 1, 2], labels: [0] } })).toThrow(
      'calibrationReport: held-out logits have 3 classes but the evaluated ones have 2',
    );
    expect(() => softmaxWithTemperature([0, 1, 2], 2)).toThrow('softmaxWithTemperature: 3 logits do not form rows of 2 classes');
  });
});
