import { formatShape, type Shape, type TensorSpec } from '../graph/tensor.js';
import { expectDtype, expectRank } from './shape-errors.js';

/** Stride and zero padding, the same along both spatial axes. */
export interface ConvSpacing {
  stride: number;
  padding: number;
}

/**
 * Sizes of one 2-D convolution of x [batch, inChannels, inHeight, inWidth] with
 * w [outChannels, inChannels, kernelHeight, kernelWidth]; the kernels receive it through
 * geometryConstants and geometryParams.
 */
export interface ConvGeometry extends ConvSpacing {
  batch: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  kernelHeight: number;
  kernelWidth: number;
  outHeight: number;
  outWidth: number;
}

/** Checks a 4-D f32 operand (x, w, dy) of op; `layout` names its axes for the message. */
export function expectImage(op: string, what: string, t: TensorSpec, layout: string): void {
  if (t.shape.length !== 4) throw new Error(`${op}: ${what} must have rank 4 (${layout}), got shape ${formatShape(t.shape)}`);
  expectDtype(op, what, t, 'f32');
}

export function expectBias(op: string, bias: TensorSpec, w: TensorSpec): void {
  expectRank(op, 'bias', bias, 1);
  expectDtype(op, 'bias', bias, 'f32');
  if (bias.shape[0] !== w.shape[0]) {
    throw new Error(`${op}: bias ${formatShape(bias.shape)} must have ${w.shape[0]} entries, one per output channel of w ${formatShape(w.shape)}`);
  }
}

/**
 * The geometry of convolving an input of shape `xShape` with weights of shape `wShape`;
 * throws, naming both shapes, when they do not fit together.
 */
export function convGeometry(op: string, xShape: Shape, wShape: Shape, { stride, padding }: ConvSpacing): ConvGeometry {
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`${op}: stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`${op}: padding must be a non-negative integer, got ${padding}`);
  const [batch, inChannels, inHeight, inWidth] = xShape as [number, number, number, number];
  const [outChannels, filterChannels, kernelHeight, kernelWidth] = wShape as [number, number, number, number];
  const x = `x ${formatShape(xShape)}`;
  const w = `w ${formatShape(wShape)}`;
  if (filterChannels !== inChannels) {
    throw new Error(`${op}: ${x} has ${inChannels} channels but ${w} expects ${filterChannels} (w is [outChannels, inChannels, kH, kW])`);
  }
  const paddedHeight = inHeight + 2 * padding;
  const paddedWidth = inWidth + 2 * padding;
  if (kernelHeight > paddedHeight || kernelWidth > paddedWidth) {
    throw new Error(
      `${op}: the ${kernelHeight}×${kernelWidth} kernel of ${w} is larger than the ${inHeight}×${inWidth} input of ${x} ` +
        `padded by ${padding} (${paddedHeight}×${paddedWidth}); use smaller kernels or more padding`,
    );
  }
  const outHeight = Math.floor((paddedHeight - kernelHeight) / stride) + 1;
  const outWidth = Math.floor((paddedWidth - kernelWidth) / stride) + 1;
  return { batch, inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth, outHeight, outWidth, stride, padding };
}

/** Override constants of shaders/conv2d_geometry.wgsl: kernel size and stride. */
export function geometryConstants(g: ConvGeometry): Record<string, number> {
  return { KERNEL_HEIGHT: g.kernelHeight, KERNEL_WIDTH: g.kernelWidth, STRIDE: g.stride };
}

/**
 * The ConvParams uniform of shaders/conv2d_geometry.wgsl: the sizes not in
 * geometryConstants, and the phase of conv2d_backward_input (0, 0 for the other passes).
 */
export function geometryParams(g: ConvGeometry, phase: { row: number; column: number } = { row: 0, column: 0 }): Record<string, number> {
  const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, padding } = g;
  return { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, padding, phaseRow: phase.row, phaseColumn: phase.column };
}

/**
 * The input pixels of one phase of the backward input pass: those with
 * row % stride = row and column % stride = column, a rows × columns grid per image.
 */
export interface InputPhase {
  row: number;
  column: number;
  rows: number;
  columns: number;
}

/**
 * The stride² phases of the input grid that have pixels; each is a dense stride-1
 * correlation of dy with a sub-filter (shaders/conv2d_backward_input.wgsl).
 */
export function inputPhases(g: ConvGeometry): InputPhase[] {
  const count = (size: number, first: number) => Math.ceil((size - first) / g.stride);
  const phases: InputPhase[] = [];
  for (let row = 0; row < g.stride; row++) {
    for (let column = 0; column < g.stride; column++) {
      const rows = count(g.inHeight, row);
      const columns = count(g.inWidth, column);
      if (rows > 0 && columns > 0) phases.push({ row, column, rows, columns });
    }
  }
  return phases;
}

export function outputShape(g: ConvGeometry): Shape {
  return [g.batch, g.outChannels, g.outHeight, g.outWidth];
}

/** Checks that dy has the shape of the convolution's output (for the backward passes). */
export function expectOutputGradient(op: string, dy: TensorSpec, g: ConvGeometry, operands: string): void {
  const expected = outputShape(g);
  if (dy.shape.join() !== expected.join()) {
    throw new Error(
      `${op}: dy ${formatShape(dy.shape)} must have the convolution's output shape ${formatShape(expected)} ` +
        `(${operands}, stride ${g.stride}, padding ${g.padding})`,
    );
  }
}
