import reduceAxisCode from '../../shaders/reduce_axis.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { formatShape, type Shape, sizeOf } from '../graph/tensor.js';
import { expectDtype } from './shape-errors.js';

const reduceAxisShader = shader('reduce_axis', reduceAxisCode, wgslLib.pairwiseSum, wgslLib.workgroupReduce, wgslLib.grid);

/** Axes at least this long with fewer outputs than this get a workgroup per output. */
const WIDE_MIN_EXTENT = 1024;
const WIDE_MAX_OUTPUTS = 1024;

interface AxisAttrs {
  axis: number;
  factor: number;
}

/** [outer, extent, inner]: the tensor seen as (axes before, the axis, axes after). */
function axisView(shape: Shape, axis: number) {
  return { outer: sizeOf(shape.slice(0, axis)), extent: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}

/** The shape without `axis`; a rank-1 tensor reduces to [1]. */
function reducedShape(shape: Shape, axis: number): number[] {
  const rest = shape.filter((_, k) => k !== axis);
  return rest.length > 0 ? rest : [1];
}

function normaliseAxis(op: string, shape: Shape, axis: number): number {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`${op}: axis ${axis} is out of range for shape ${formatShape(shape)} (rank ${rank}); use 0..${rank - 1} or −1 for the last`);
  }
  return axis < 0 ? axis + rank : axis;
}

const reduceAxisOp: OpDef<AxisAttrs> = {
  name: 'sum_axis',
  outputs([x], { axis }) {
    expectDtype('sum_axis', 'x', x!, 'f32');
    return [{ shape: reducedShape(x!.shape, axis), dtype: 'f32' }];
  },
  kernels({ inputs: [x], outputs: [y] }, { axis, factor }) {
    const view = axisView(x!.shape, axis);
    const outputs = view.outer * view.inner;
    const wide = view.extent >= WIDE_MIN_EXTENT && outputs < WIDE_MAX_OUTPUTS;
    return [
      {
        shader: reduceAxisShader,
        entry: wide ? 'sum_axis_wide' : 'sum_axis',
        params: { ...view, factor },
        buffers: { x: x!, out: y! },
        workgroups: wide ? grid1d(outputs, 1) : grid1d(outputs, 64),
      },
    ];
  },
  grad: ([dy], [x], _outputs, { axis, factor }) => [broadcastAxis(dy!, x!.shape, axis, factor)],
};

const broadcastAxisOp: OpDef<AxisAttrs & { shape: Shape }> = {
  name: 'broadcast_axis',
  outputs([x], { shape, axis }) {
    expectDtype('broadcast_axis', 'x', x!, 'f32');
    const expected = reducedShape(shape, axis);
    if (x!.shape.join() !== expected.join()) {
      throw new Error(`broadcast_axis: to broadcast along axis ${axis} to ${formatShape(shape)}, x must be ${formatShape(expected)}, got ${formatShape(x!.shape)}`);
    }
    return [{ shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }, { shape, axis, factor }) => [
    {
      shader: reduceAxisShader,
      entry: 'broadcast_axis',
      params: { ...axisView(shape, axis), factor },
      buffers: { x: x!, out: y! },
      workgroups: grid1d(sizeOf(shape), 256),
    },
  ],
  grad: ([dy], _inputs, _outputs, { axis, factor }) => [reduceAxis(dy!, axis, factor)],
};

function reduceAxis<T extends AnyTensor>(x: T, axis: number, factor: number): T {
  return apply(reduceAxisOp, [x], { axis, factor })[0]!;
}

/**
 * Sum over one axis (negative counts from the end); the axis is removed from the shape
 * (a rank-1 tensor gives [1]). Pairwise accumulation, so long axes stay accurate.
 * @example const perSample = sumAxis(x, 1); // [N, C] -> [N]
 */
export function sumAxis<T extends AnyTensor>(x: T, axis: number): T {
  return reduceAxis(x, normaliseAxis('sum_axis', x.shape, axis), 1);
}

/**
 * Mean over one axis (negative counts from the end); the axis is removed from the shape.
 * @example const channelMeans = meanAxis(meanAxis(features, 3), 2); // [N, C, H, W] -> [N, C]
 */
export function meanAxis<T extends AnyTensor>(x: T, axis: number): T {
  const a = normaliseAxis('mean_axis', x.shape, axis);
  return reduceAxis(x, a, 1 / x.shape[a]!);
}

/**
 * Repeats factor·x along a new `axis` so the result has `shape` (x has `shape` without that
 * axis): the gradient of sumAxis, and of meanAxis with factor 1/shape[axis].
 * @example const spread = broadcastAxis(rowTotals, [N, C], 1); // [N] -> [N, C]
 */
export function broadcastAxis<T extends AnyTensor>(x: T, shape: Shape, axis: number, factor = 1): T {
  return apply(broadcastAxisOp, [x], { shape, axis: normaliseAxis('broadcast_axis', shape, axis), factor })[0]!;
}
