// Calibration of a classifier from its logits: expected calibration error with the data for
// a reliability diagram, negative log-likelihood, Brier score, and temperature scaling
// (Guo et al. 2017, "On Calibration of Modern Neural Networks"). Everything is computed in
// float64 from max-subtracted logits, so huge logits neither overflow nor give log(0).
// Logits are row-major [n, classes]; `classes` is logits.length / labels.length.

/** Logits of n samples, row-major [n, classes]. */
export type Logits = Float32Array | Float64Array | readonly number[];
/** n class indices, each in 0..classes−1. */
export type Labels = ArrayLike<number>;

export interface TemperatureOption {
  /** Divide the logits by T > 0 before the softmax; default 1. */
  temperature?: number;
}

export interface EceOptions extends TemperatureOption {
  /** Number of equal-width confidence bins over [0, 1]; default 15. */
  bins?: number;
}

/** One confidence bin of a reliability diagram: samples whose confidence is in (lower, upper]. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean confidence (top probability) of the bin's samples; 0 when count is 0. */
  confidence: number;
  /** Fraction of the bin's samples whose top class is the label; 0 when count is 0. */
  accuracy: number;
}

export interface CalibrationError {
  /** Σ over bins of (count/n)·|accuracy − confidence|, in [0, 1]. */
  ece: number;
  bins: ReliabilityBin[];
}

/**
 * softmax(logits/T) of each row, in float64, with the row maximum subtracted first.
 *
 * @example softmaxWithTemperature(new Float32Array([0, Math.log(3)]), 2); // [0.25, 0.75]
 */
export function softmaxWithTemperature(logits: Logits, classes: number, temperature = 1): Float64Array {
  if (!Number.isInteger(classes) || classes < 1 || logits.length % classes !== 0) {
    throw new Error(`softmaxWithTemperature: ${logits.length} logits do not form rows of ${classes} classes`);
  }
  checkTemperature(temperature, 'softmaxWithTemperature');
  const out = new Float64Array(logits.length);
  const row = new Float64Array(classes);
  for (let offset = 0; offset < logits.length; offset += classes) {
    logSoftmaxRow(logits, offset, classes, 1 / temperature, row);
    for (let k = 0; k < classes; k++) out[offset + k] = Math.exp(row[k]!);
  }
  return out;
}

/**
 * Expected calibration error with `bins` equal-width confidence bins (each (b/B, (b+1)/B]),
 * where a sample's confidence is its top softmax probability and it counts as correct when
 * that top class (the first, on ties) is its label. Also returns every bin's count, mean
 * confidence and accuracy, for a reliability diagram.
 *
 * @example const { ece, bins } = expectedCalibrationError(logits, labels, { bins: 15 });
 */
export function expectedCalibrationError(logits: Logits, labels: Labels, { bins = 15, temperature = 1 }: EceOptions = {}): CalibrationError {
  const who = 'expectedCalibrationError';
  const classes = checkInputs(logits, labels, who);
  checkTemperature(temperature, who);
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`${who}: bins ${bins} must be an integer ≥ 1`);
  const counts = new Float64Array(bins);
  const confidenceSums = new Float64Array(bins);
  const correctCounts = new Float64Array(bins);
  const row = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) {
    logSoftmaxRow(logits, i * classes, classes, 1 / temperature, row);
    let top = 0;
    for (let k = 1; k < classes; k++) if (row[k]! > row[top]!) top = k;
    const confidence = Math.exp(row[top]!);
    const bin = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
    counts[bin]!++;
    confidenceSums[bin]! += confidence;
    if (top === labels[i]) correctCounts[bin]!++;
  }
  let ece = 0;
  const binData: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const count = counts[b]!;
    const confidence = count > 0 ? confidenceSums[b]! / count : 0;
    const accuracy = count > 0 ? correctCounts[b]! / count : 0;
    ece += (count / labels.length) * Math.abs(accuracy - confidence);
    binData.push({ lower: b / bins, upper: (b + 1) / bins, count, confidence, accuracy });
  }
  return { ece, bins: binData };
}

/**
 * Mean over samples of −log p(label), natural log (nats), with p = softmax(logits/T).
 *
 * @example negativeLogLikelihood(new Float32Array([0, Math.log(3)]), [1]); // −log 0.75 ≈ 0.2877
 */
export function negativeLogLikelihood(logits: Logits, labels: Labels, { temperature = 1 }: TemperatureOption = {}): number {
  const classes = checkInputs(logits, labels, 'negativeLogLikelihood');
  checkTemperature(temperature, 'negativeLogLikelihood');
  return meanNll(logits, labels, classes, 1 / temperature, new Float64Array(classes));
}

/**
 * Brier score, multi-class convention (Brier 1950): for each sample the sum over classes of
 * (p_k − 1[k = label])², then the mean over samples. It ranges from 0 (certain and right) to
 * 2 (certain and wrong); halve it to compare with the binary, top-class-only convention.
 *
 * @example brierScore(new Float32Array([0, Math.log(3)]), [1]); // 0.25² + 0.25² = 0.125
 */
export function brierScore(logits: Logits, labels: Labels, { temperature = 1 }: TemperatureOption = {}): number {
  const classes = checkInputs(logits, labels, 'brierScore');
  checkTemperature(temperature, 'brierScore');
  const row = new Float64Array(classes);
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    logSoftmaxRow(logits, i * classes, classes, 1 / temperature, row);
    for (let k = 0; k < classes; k++) {
      const error = Math.exp(row[k]!) - (k === labels[i] ? 1 : 0);
      total += error * error;
    }
  }
  return total / labels.length;
}

export interface FitTemperatureOptions {
  /** Search range for T; defaults 0.01 and 100. The result is clamped to it. */
  minTemperature?: number;
  maxTemperature?: number;
}

/** Golden-section iterations stop when the bracket in log T is narrower than this. */
const LOG_TEMPERATURE_TOLERANCE = 1e-7;

/**
 * The temperature T > 0 that minimises the negative log-likelihood of softmax(logits/T) on
 * these (held-out) samples: temperature scaling. NLL is convex in 1/T, hence unimodal in
 * log T, so a golden-section search over log T in [minTemperature, maxTemperature] finds
 * the minimum (to ~1e-7 relative) deterministically; T at a bound means the optimum lies
 * beyond it (e.g. perfectly separated logits want T → 0).
 *
 * @example const t = fitTemperature(validationLogits, validationLabels); // then divide logits by t
 */
export function fitTemperature(logits: Logits, labels: Labels, { minTemperature = 0.01, maxTemperature = 100 }: FitTemperatureOptions = {}): number {
  const who = 'fitTemperature';
  const classes = checkInputs(logits, labels, who);
  checkTemperature(minTemperature, who);
  checkTemperature(maxTemperature, who);
  if (!(minTemperature < maxTemperature)) throw new Error(`${who}: minTemperature ${minTemperature} must be below maxTemperature ${maxTemperature}`);
  const row = new Float64Array(classes);
  const nllAt = (logT: number) => meanNll(logits, labels, classes, Math.exp(-logT), row);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let low = Math.log(minTemperature);
  let high = Math.log(maxTemperature);
  let a = high - ratio * (high - low);
  let b = low + ratio * (high - low);
  let fa = nllAt(a);
  let fb = nllAt(b);
  while (high - low > LOG_TEMPERATURE_TOLERANCE) {
    if (fa <= fb) {
      high = b;
      b = a;
      fb = fa;
      a = high - ratio * (high - low);
      fa = nllAt(a);
    } else {
      low = a;
      a = b;
      fa = fb;
      b = low + ratio * (high - low);
      fb = nllAt(b);
    }
  }
  return Math.exp((low + high) / 2);
}

export interface CalibrationMetrics {
  /** Fraction of samples whose top class is the label (temperature does not change it). */
  accuracy: number;
  ece: number;
  nll: number;
  brier: number;
  bins: ReliabilityBin[];
}

export interface CalibrationReport {
  /** The temperature fitted on the held-out samples. */
  temperature: number;
  /** Metrics of the evaluated samples with their raw logits (T = 1). */
  before: CalibrationMetrics;
  /** The same metrics after dividing the logits by `temperature`. */
  after: CalibrationMetrics;
}

export interface CalibrationReportOptions extends FitTemperatureOptions {
  /** Samples to fit the temperature on, disjoint from the evaluated ones (e.g. a validation split). */
  heldOut: { logits: Logits; labels: Labels };
  /** ECE bins; default 15. */
  bins?: number;
}

/**
 * ECE, NLL, Brier score and accuracy of (logits, labels) before and after temperature
 * scaling, with T fitted on `heldOut` (never on the evaluated samples themselves).
 *
 * @example const report = calibrationReport(testLogits, testLabels, { heldOut: { logits: valLogits, labels: valLabels } });
 */
export function calibrationReport(logits: Logits, labels: Labels, { heldOut, bins = 15, ...range }: CalibrationReportOptions): CalibrationReport {
  const classes = checkInputs(logits, labels, 'calibrationReport');
  const heldOutClasses = checkInputs(heldOut.logits, heldOut.labels, 'calibrationReport (heldOut)');
  if (heldOutClasses !== classes) throw new Error(`calibrationReport: held-out logits have ${heldOutClasses} classes but the evaluated ones have ${classes}`);
  const temperature = fitTemperature(heldOut.logits, heldOut.labels, range);
  const metrics = (t: number): CalibrationMetrics => {
    const { ece, bins: binData } = expectedCalibrationError(logits, labels, { bins, temperature: t });
    return { accuracy: accuracyOf(binData, labels.length), ece, nll: negativeLogLikelihood(logits, labels, { temperature: t }), brier: brierScore(logits, labels, { temperature: t }), bins: binData };
  };
  return { temperature, before: metrics(1), after: metrics(temperature) };
}

/** Overall accuracy from the reliability bins (every sample falls in exactly one). */
function accuracyOf(bins: ReliabilityBin[], n: number): number {
  let correct = 0;
  for (const bin of bins) correct += bin.accuracy * bin.count;
  return correct / n;
}

/** Mean −log p(label) of softmax(logits·inverseTemperature); `row` is scratch of length classes. */
function meanNll(logits: Logits, labels: Labels, classes: number, inverseTemperature: number, row: Float64Array): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    logSoftmaxRow(logits, i * classes, classes, inverseTemperature, row);
    total -= row[labels[i]!]!;
  }
  return total / labels.length;
}

/**
 * Writes log softmax(z·s) of the row starting at `offset` into `out`: (z_k − max)·s −
 * log Σ exp((z_j − max)·s). Every exponent is ≤ 0, so nothing overflows, and the largest
 * term is 1, so the log never sees 0.
 */
function logSoftmaxRow(logits: Logits, offset: number, classes: number, inverseTemperature: number, out: Float64Array): void {
  let max = -Infinity;
  for (let k = 0; k < classes; k++) max = Math.max(max, logits[offset + k]!);
  let sum = 0;
  for (let k = 0; k < classes; k++) {
    out[k] = (logits[offset + k]! - max) * inverseTemperature;
    sum += Math.exp(out[k]!);
  }
  const logSum = Math.log(sum);
  for (let k = 0; k < classes; k++) out[k]! -= logSum;
}

/**
 * Throws unless logits form n rows of at least 2 finite values and every label is an
 * integer class index; returns the number of classes.
 */
function checkInputs(logits: Logits, labels: Labels, who: string): number {
  const n = labels.length;
  if (n < 1) throw new Error(`${who}: no samples (labels is empty)`);
  const classes = logits.length / n;
  if (!Number.isInteger(classes) || classes < 2) {
    throw new Error(`${who}: ${logits.length} logits for ${n} labels; expected n × classes values, row-major [n, classes], with at least 2 classes`);
  }
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw new Error(`${who}: label ${label} at index ${i} is not a class index in 0..${classes - 1}`);
  }
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i]!)) throw new Error(`${who}: logit ${logits[i]} at row ${Math.floor(i / classes)}, class ${i % classes} is not finite`);
  }
  return classes;
}

function checkTemperature(temperature: number, who: string): void {
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`${who}: temperature ${temperature} must be a finite number > 0`);
}
