import layoutCode from '../../shaders/layout.wgsl';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { formatShape, type Shape, sizeOf } from '../graph/tensor.js';
import { expectDtype, expectRank } from './shape-errors.js';

const layoutShader = shader('layout', layoutCode);

/** Pixels added on each side of the last two axes. */
export interface Pads2d {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

interface PadAttrs extends Pads2d {
  value: number;
}

function padParams(small: Shape, large: Shape, { top, left }: Pads2d, value = 0) {
  const [n, c, h, w] = small as [number, number, number, number];
  return { planes: n * c, in_h: h, in_w: w, out_h: large[2]!, out_w: large[3]!, top, left, value };
}

const pad2dOp: OpDef<PadAttrs> = {
  name: 'pad2d',
  outputs([x], { top, left, bottom, right }) {
    expectRank('pad2d', 'x (NCHW)', x!, 4);
    expectDtype('pad2d', 'x', x!, 'f32');
    for (const [what, v] of [['top', top], ['left', left], ['bottom', bottom], ['right', right]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`pad2d: ${what} must be a non-negative integer, got ${v}`);
    }
    const [n, c, h, w] = x!.shape as [number, number, number, number];
    return [{ shape: [n, c, h + top + bottom, w + left + right], dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }, attrs) => [
    { shader: layoutShader, entry: 'pad2d', params: padParams(x!.shape, y!.shape, attrs, attrs.value), buffers: { x: x!, out: y! }, workgroups: grid1d(sizeOf(y!.shape), 256) },
  ],
  grad: ([dy], _inputs, _outputs, attrs) => [apply(crop2dOp, [dy!], attrs)[0]!],
};

/** Inputs: dy (padded). Output: the centre, as pad2d's input. */
const crop2dOp: OpDef<PadAttrs> = {
  name: 'crop2d',
  grad: null,
  outputs([dy], { top, left, bottom, right }) {
    const [n, c, h, w] = dy!.shape as [number, number, number, number];
    return [{ shape: [n, c, h - top - bottom, w - left - right], dtype: 'f32' }];
  },
  kernels: ({ inputs: [dy], outputs: [dx] }, attrs) => [
    { shader: layoutShader, entry: 'crop2d', params: padParams(dx!.shape, dy!.shape, attrs), buffers: { x: dy!, out: dx! }, workgroups: grid1d(sizeOf(dx!.shape), 256) },
  ],
};

/**
 * Pads the last two axes of an NCHW tensor with `value` (ONNX Pad in constant mode on H and
 * W; also used for padded pooling and asymmetric convolution padding). Its gradient crops.
 * @example pad2d(x, { top: 1, left: 1, bottom: 2, right: 2 })
 */
export function pad2d<T extends AnyTensor>(x: T, pads: Pads2d, value = 0): T {
  return apply(pad2dOp, [x], { ...pads, value })[0]! as T;
}

interface AxisAttrs {
  axis: number;
  offset: number;
  length: number;
}

function axisParts(shape: Shape, axis: number): { outer: number; total: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), total: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}

const concatOp: OpDef<{ axis: number }> = {
  name: 'concat',
  outputs(inputs, { axis }) {
    if (inputs.length === 0) throw new Error('concat: needs at least one input');
    const first = inputs[0]!;
    if (!Number.isInteger(axis) || axis < 0 || axis >= first.shape.length) throw new Error(`concat: axis ${axis} is not an axis of ${formatShape(first.shape)}`);
    for (const t of inputs) {
      expectDtype('concat', 'input', t, 'f32');
      const same = t.shape.length === first.shape.length && t.shape.every((d, i) => i === axis || d === first.shape[i]);
      if (!same) throw new Error(`concat: ${formatShape(t.shape)} and ${formatShape(first.shape)} differ outside axis ${axis}`);
    }
    const shape = [...first.shape];
    shape[axis] = inputs.reduce((sum, t) => sum + t.shape[axis]!, 0);
    return [{ shape, dtype: 'f32' }];
  },
  kernels({ inputs, outputs: [y] }, { axis }) {
    let offset = 0;
    return inputs.map((x) => {
      const { outer, inner } = axisParts(x.shape, axis);
      const length = x.shape[axis]!;
      const call = { shader: layoutShader, entry: 'place_axis', params: { outer, length, inner, total: y!.shape[axis]!, offset }, buffers: { x, out: y! }, workgroups: grid1d(sizeOf(x.shape), 256) };
      offset += length;
      return call;
    });
  },
  grad([dy], inputs, _outputs, { axis }) {
    let offset = 0;
    return inputs.map((x) => {
      const length = x.shape[axis]!;
      const slice = apply(sliceAxisOp, [dy!], { axis, offset, length })[0]!;
      offset += length;
      return slice;
    });
  },
};

/** A block of `length` entries along `axis` from `offset` (also concat's gradient). */
const sliceAxisOp: OpDef<AxisAttrs> = {
  name: 'slice_axis',
  grad: ([dy], [x], _outputs, attrs) => [apply(embedAxisOp, [dy!], { ...attrs, total: x!.shape[attrs.axis]! })[0]!],
  outputs([x], { axis, offset, length }) {
    if (!Number.isInteger(axis) || axis < 0 || axis >= x!.shape.length) throw new Error(`slice_axis: axis ${axis} is not an axis of ${formatShape(x!.shape)}`);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 1 || offset + length > x!.shape[axis]!) {
      throw new Error(`slice_axis: entries ${offset} to ${offset + length - 1} are not inside axis ${axis} of ${formatShape(x!.shape)}`);
    }
    const shape = [...x!.shape];
    shape[axis] = length;
    return [{ shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }, { axis, offset, length }) => {
    const { outer, inner, total } = axisParts(x!.shape, axis);
    return [{ shader: layoutShader, entry: 'slice_axis', params: { outer, length, inner, total, offset }, buffers: { x: x!, out: y! }, workgroups: grid1d(sizeOf(y!.shape), 256) }];
  },
};

/** Inputs: dy (the slice). Output: zeros of the sliced tensor's shape with dy in its block. */
const embedAxisOp: OpDef<AxisAttrs & { total: number }> = {
  name: 'embed_axis',
  grad: null,
  outputs([dy], { axis, total }) {
    const shape = [...dy!.shape];
    shape[axis] = total;
    return [{ shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [dy], outputs: [dx] }, { axis, offset, length, total }) => {
    const { outer, inner } = axisParts(dx!.shape, axis);
    return [{ shader: layoutShader, entry: 'embed_axis', params: { outer, length, inner, total, offset }, buffers: { x: dy!, out: dx! }, workgroups: grid1d(sizeOf(dx!.shape), 256) }];
  },
};

/**
 * Entries `offset .. offset + length − 1` along `axis` (e.g. one group's channels of a
 * grouped convolution). The gradient puts dy back in place, zeros elsewhere.
 * @example sliceAxis(x, 1, 0, 16) // the first 16 channels of NCHW x
 */
export function sliceAxis<T extends AnyTensor>(x: T, axis: number, offset: number, length: number): T {
  return apply(sliceAxisOp, [x], { axis, offset, length })[0]! as T;
}

/**
 * Joins tensors along `axis` (ONNX Concat; e.g. channels of Inception and SqueezeNet
 * branches). Every other dimension must agree. The gradient slices dy back apart.
 * @example concat([a, b], 1) // [N, Ca + Cb, H, W]
 */
export function concat<T extends AnyTensor>(inputs: readonly T[], axis: number): T {
  return apply(concatOp, [...inputs], { axis })[0]! as T;
}

const transposeOp: OpDef<{ perm: readonly number[] }> = {
  name: 'transpose',
  outputs([x], { perm }) {
    expectDtype('transpose', 'x', x!, 'f32');
    const rank = x!.shape.length;
    if (rank > 6) throw new Error(`transpose: x ${formatShape(x!.shape)} has rank ${rank}; at most 6 is supported`);
    if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((v, i) => v !== i)) throw new Error(`transpose: perm [${perm}] is not a permutation of the ${rank} axes of ${formatShape(x!.shape)}`);
    return [{ shape: perm.map((p) => x!.shape[p]!), dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }, { perm }) => {
    const rank = x!.shape.length;
    const stride = (axis: number) => sizeOf(x!.shape.slice(axis + 1));
    const params: Record<string, number> = { size: sizeOf(y!.shape) };
    for (let k = 0; k < 6; k++) {
      // Leading unused axes: dim 1, stride 0 (the kernel walks all six).
      const axis = k - (6 - rank);
      params[`out_dim_${k}`] = axis >= 0 ? y!.shape[axis]! : 1;
      params[`in_stride_${k}`] = axis >= 0 ? stride(perm[axis]!) : 0;
    }
    return [{ shader: layoutShader, entry: 'transpose', params, buffers: { x: x!, out: y! }, workgroups: grid1d(sizeOf(y!.shape), 256) }];
  },
  grad: ([dy], _inputs, _outputs, { perm }) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [apply(transposeOp, [dy!], { perm: inverse })[0]!];
  },
};

/**
 * Permutes the axes of x (ONNX Transpose; ShuffleNet's channel shuffle): output axis k is
 * input axis perm[k]. Rank ≤ 6. The gradient applies the inverse permutation.
 * @example transpose(x, [0, 2, 1, 3])
 */
export function transpose<T extends AnyTensor>(x: T, perm: readonly number[]): T {
  return apply(transposeOp, [x], { perm })[0]! as T;
}
