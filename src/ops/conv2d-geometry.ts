import { formatShape, type Shape, type TensorSpec } from '../graph/tensor.js';
import { expectDtype, expectRank } from './shape-errors.js';

/** [top, left, bottom, right] zero padding of the input. */
export type ConvPads = readonly [number, number, number, number];

/**
 * Stride, zero padding and dilation of a convolution. A number means the same along both
 * spatial axes (padding: on all four sides); pairs are [along H, along W].
 */
export interface ConvSpacing {
  stride: number | readonly [number, number];
  padding: number | ConvPads;
  dilation?: number | readonly [number, number];
}

/**
 * Sizes of one 2-D convolution of x [batch, inChannels, inHeight, inWidth] with
 * w [outChannels, inChannels, kernelHeight, kernelWidth]: output pixel (oy, ox) sees input
 * pixel (oy·strideH − padTop + ky·dilationH, ox·strideW − padLeft + kx·dilationW) through
 * tap (ky, kx). The kernels receive it through geometryConstants and geometryParams.
 */
export interface ConvGeometry {
  batch: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  kernelHeight: number;
  kernelWidth: number;
  outHeight: number;
  outWidth: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  dilationH: number;
  dilationW: number;
}

/** Checks a 4-D f32 operand (x, w, dy) of op; `layout` names its axes for the message. */
/** A rank-4 tensor; f32, unless it is a GEMM operand (f32 or f16, which expectOperands checks pairwise). */
export function expectImage(op: string, what: string, t: TensorSpec, layout: string, kind: 'f32' | 'operand' = 'f32'): void {
  if (t.shape.length !== 4) throw new Error(`${op}: ${what} must have rank 4 (${layout}), got shape ${formatShape(t.shape)}`);
  if (kind === 'f32') expectDtype(op, what, t, 'f32');
}

export function expectBias(op: string, bias: TensorSpec, w: TensorSpec): void {
  expectRank(op, 'bias', bias, 1);
  expectDtype(op, 'bias', bias, 'f32');
  if (bias.shape[0] !== w.shape[0]) {
    throw new Error(`${op}: bias ${formatShape(bias.shape)} must have ${w.shape[0]} entries, one per output channel of w ${formatShape(w.shape)}`);
  }
}

/** The spacing as full tuples, checked: strides and dilations ≥ 1, pads ≥ 0, all integers. */
export function normalizeSpacing(op: string, { stride, padding, dilation = 1 }: ConvSpacing): { stride: [number, number]; padding: [number, number, number, number]; dilation: [number, number] } {
  const pair = (v: number | readonly number[]) => (typeof v === 'number' ? [v, v] : [...v]) as [number, number];
  const s = pair(stride);
  const d = pair(dilation);
  const p = (typeof padding === 'number' ? [padding, padding, padding, padding] : [...padding]) as [number, number, number, number];
  const show = (v: number | readonly number[]) => (typeof v === 'number' ? String(v) : `[${v.join(', ')}]`);
  if (s.length !== 2 || s.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${op}: stride must be a positive integer, got ${show(stride)} (one for both axes or [along H, along W])`);
  if (d.length !== 2 || d.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${op}: dilation must be a positive integer, got ${show(dilation)} (one for both axes or [along H, along W])`);
  if (p.length !== 4 || p.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`${op}: padding must be a non-negative integer, got ${show(padding)} (one for all sides or [top, left, bottom, right])`);
  return { stride: s, padding: p, dilation: d };
}

/** How a geometry's spacing reads in messages: "stride 2, padding 1", pairs only where they differ. */
export function describeSpacing(g: ConvGeometry): string {
  const stride = g.strideH === g.strideW ? `${g.strideH}` : `[${g.strideH}, ${g.strideW}]`;
  const pads = [g.padTop, g.padLeft, g.padBottom, g.padRight];
  const padding = pads.every((v) => v === pads[0]) ? `${pads[0]}` : `[${pads.join(', ')}]`;
  const dilation = g.dilationH === 1 && g.dilationW === 1 ? '' : `, dilation ${g.dilationH === g.dilationW ? g.dilationH : `[${g.dilationH}, ${g.dilationW}]`}`;
  return `stride ${stride}, padding ${padding}${dilation}`;
}

/**
 * The geometry of convolving an input of shape `xShape` with weights of shape `wShape`;
 * throws, naming both shapes, when they do not fit together.
 */
export function convGeometry(op: string, xShape: Shape, wShape: Shape, spacing: ConvSpacing): ConvGeometry {
  const { stride, padding, dilation } = normalizeSpacing(op, spacing);
  const [batch, inChannels, inHeight, inWidth] = xShape as [number, number, number, number];
  const [outChannels, filterChannels, kernelHeight, kernelWidth] = wShape as [number, number, number, number];
  const x = `x ${formatShape(xShape)}`;
  const w = `w ${formatShape(wShape)}`;
  if (filterChannels !== inChannels) {
    throw new Error(`${op}: ${x} has ${inChannels} channels but ${w} expects ${filterChannels} (w is [outChannels, inChannels, kH, kW])`);
  }
  const [padTop, padLeft, padBottom, padRight] = padding;
  const paddedHeight = inHeight + padTop + padBottom;
  const paddedWidth = inWidth + padLeft + padRight;
  // The extent of the dilated kernel.
  const spanHeight = (kernelHeight - 1) * dilation[0] + 1;
  const spanWidth = (kernelWidth - 1) * dilation[1] + 1;
  if (spanHeight > paddedHeight || spanWidth > paddedWidth) {
    const symmetric = padding.every((v) => v === padTop);
    const dilated = dilation[0] === 1 && dilation[1] === 1 ? '' : ` (${spanHeight}×${spanWidth} dilated by [${dilation.join(', ')}])`;
    throw new Error(
      `${op}: the ${kernelHeight}×${kernelWidth} kernel${dilated} of ${w} is larger than the ${inHeight}×${inWidth} input of ${x} ` +
        `padded by ${symmetric ? padTop : `[${padding.join(', ')}]`} (${paddedHeight}×${paddedWidth}); use smaller kernels or more padding`,
    );
  }
  const outHeight = Math.floor((paddedHeight - spanHeight) / stride[0]) + 1;
  const outWidth = Math.floor((paddedWidth - spanWidth) / stride[1]) + 1;
  return {
    batch, inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth, outHeight, outWidth,
    strideH: stride[0], strideW: stride[1], padTop, padLeft, padBottom, padRight, dilationH: dilation[0], dilationW: dilation[1],
  };
}

/** Override constants of shaders/conv2d_geometry.wgsl: kernel size, strides and dilations. */
export function geometryConstants(g: ConvGeometry): Record<string, number> {
  return { KERNEL_HEIGHT: g.kernelHeight, KERNEL_WIDTH: g.kernelWidth, STRIDE_H: g.strideH, STRIDE_W: g.strideW, DILATION_H: g.dilationH, DILATION_W: g.dilationW };
}

/** One axis of one phase of the backward input pass (see InputPhase). */
export interface PhaseAxis {
  /** Input coordinate modulo the stride. */
  phase: number;
  /** Input pixels of the phase along this axis. */
  size: number;
  /** The smallest tap index reaching this phase, its step to the next one, and how many there are. */
  firstTap: number;
  tapStep: number;
  taps: number;
  /** Distance in dy between the output pixels that successive taps read. */
  dyDilation: number;
  /** The padding of the stride-1 window over dy (may be negative). */
  dyPad: number;
}

/**
 * The input pixels of one phase of the backward input pass: those with
 * row % strideH = row.phase and column % strideW = column.phase.
 */
export interface InputPhase {
  row: PhaseAxis;
  column: PhaseAxis;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Along one axis: input i = o·s − p + k·d. Pixels i ≡ r (mod s) are reached by the taps k
 * with k·d ≡ r + p (mod s): none unless gcd(s, d) divides r + p, else k = k0, k0 + s/g, …
 * (g = gcd(s, d)), from dy pixels d/g apart. Taken in reverse, they are a stride-1 window
 * with dilation d/g over dy.
 */
function phaseAxis(r: number, inSize: number, kernel: number, s: number, d: number, pad: number): PhaseAxis {
  const size = Math.ceil((inSize - r) / s);
  const g = gcd(s, d);
  const tapStep = s / g;
  const dyDilation = d / g;
  let firstTap = -1;
  for (let k = 0; k < Math.min(tapStep, kernel); k++) {
    if ((((k * d - r - pad) % s) + s) % s === 0) {
      firstTap = k;
      break;
    }
  }
  if (firstTap < 0) return { phase: r, size, firstTap: 0, tapStep, taps: 0, dyDilation, dyPad: 0 };
  const taps = Math.ceil((kernel - firstTap) / tapStep);
  // Phase pixel q reads dy at q + base − j·d/g for taps j < taps (k = firstTap + j·tapStep).
  const base = (r + pad - firstTap * d) / s;
  return { phase: r, size, firstTap, tapStep, taps, dyDilation, dyPad: (taps - 1) * dyDilation - base };
}

/**
 * The strideH·strideW phases of the input grid that have pixels; each is a dense stride-1
 * correlation of dy with a sub-filter (shaders/conv2d_backward_input.wgsl). A phase no tap
 * reaches has zero taps (its pixels get 0).
 */
export function inputPhases(g: ConvGeometry): InputPhase[] {
  const phases: InputPhase[] = [];
  for (let r = 0; r < g.strideH; r++) {
    for (let c = 0; c < g.strideW; c++) {
      const row = phaseAxis(r, g.inHeight, g.kernelHeight, g.strideH, g.dilationH, g.padTop);
      const column = phaseAxis(c, g.inWidth, g.kernelWidth, g.strideW, g.dilationW, g.padLeft);
      if (row.size > 0 && column.size > 0) phases.push({ row, column });
    }
  }
  return phases;
}

/**
 * The ConvParams uniform of shaders/conv2d_geometry.wgsl: the sizes not in
 * geometryConstants, and the phase of conv2d_backward_input (zeros for the other passes).
 */
export function geometryParams(g: ConvGeometry, phase?: InputPhase): Record<string, number> {
  const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, padTop, padLeft } = g;
  const axis = (a: PhaseAxis | undefined) => a ?? { phase: 0, size: 0, firstTap: 0, tapStep: 0, taps: 0, dyDilation: 0, dyPad: 0 };
  const row = axis(phase?.row);
  const column = axis(phase?.column);
  return {
    batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, padTop, padLeft,
    phaseRow: row.phase, phaseColumn: column.phase, phaseRows: row.size, phaseColumns: column.size,
    firstTapRow: row.firstTap, firstTapColumn: column.firstTap, tapStepRow: row.tapStep, tapStepColumn: column.tapStep,
    tapRows: row.taps, tapColumns: column.taps, dyDilationRow: row.dyDilation, dyDilationColumn: column.dyDilation,
    dyPadTop: row.dyPad, dyPadLeft: column.dyPad,
  };
}

export function outputShape(g: ConvGeometry): Shape {
  return [g.batch, g.outChannels, g.outHeight, g.outWidth];
}

/** Checks that dy has the shape of the convolution's output (for the backward passes). */
export function expectOutputGradient(op: string, dy: TensorSpec, g: ConvGeometry, operands: string): void {
  const expected = outputShape(g);
  if (dy.shape.join() !== expected.join()) {
    throw new Error(`${op}: dy ${formatShape(dy.shape)} must have the convolution's output shape ${formatShape(expected)} (${operands}, ${describeSpacing(g)})`);
  }
}
