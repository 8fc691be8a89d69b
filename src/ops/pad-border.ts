import padBorderCode from '../../shaders/pad_border.wgsl';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { formatShape, type Shape, sizeOf } from '../graph/tensor.js';
import type { Pads2d } from './layout.js';
import { expectDtype, expectRank } from './shape-errors.js';

const padBorderShader = shader('pad_border', padBorderCode);

/** How pad2dBorder fills the border: mirrored without repeating the edge, or the edge repeated. */
export type BorderMode = 'reflect' | 'edge';

interface BorderAttrs extends Pads2d {
  mode: BorderMode;
}

function borderParams(small: Shape, large: Shape, { top, left, bottom, right }: Pads2d) {
  const [n, c, h, w] = small as [number, number, number, number];
  return { planes: n * c, in_h: h, in_w: w, out_h: large[2]!, out_w: large[3]!, top, left, bottom, right };
}

function paddedShape(op: string, shape: Shape, { top, left, bottom, right, mode }: BorderAttrs): Shape {
  for (const [what, v] of [['top', top], ['left', left], ['bottom', bottom], ['right', right]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: ${what} must be a non-negative integer, got ${v}`);
  }
  if (mode !== 'reflect' && mode !== 'edge') throw new Error(`${op}: mode must be 'reflect' or 'edge', got '${mode}'`);
  const [n, c, h, w] = shape as [number, number, number, number];
  if (mode === 'reflect' && (Math.max(top, bottom) > h - 1 || Math.max(left, right) > w - 1)) {
    throw new Error(`${op}: reflect pads [${top}, ${left}, ${bottom}, ${right}] need an input larger than each pad, got ${formatShape(shape)} (at most H − 1 rows and W − 1 columns)`);
  }
  return [n, c, h + top + bottom, w + left + right];
}

const padBorderOp: OpDef<BorderAttrs> = {
  name: 'pad2d_border',
  outputs([x], attrs) {
    expectRank('pad2d_border', 'x (NCHW)', x!, 4);
    expectDtype('pad2d_border', 'x', x!, 'f32');
    return [{ shape: paddedShape('pad2d_border', x!.shape, attrs), dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }, attrs) => [
    {
      shader: padBorderShader,
      entry: 'pad_border',
      constants: { REFLECT: Number(attrs.mode === 'reflect') },
      params: borderParams(x!.shape, y!.shape, attrs),
      buffers: { x: x!, out: y! },
      workgroups: grid1d(sizeOf(y!.shape), 256),
    },
  ],
  grad: ([dy], [x], _outputs, attrs) => [apply(padBorderBackwardOp, [dy!], { ...attrs, inputShape: x!.shape })[0]!],
};

const padBorderBackwardOp: OpDef<BorderAttrs & { inputShape: Shape }> = {
  name: 'pad2d_border_backward',
  grad: null,
  outputs([dy], attrs) {
    expectDtype('pad2d_border_backward', 'dy', dy!, 'f32');
    const expected = paddedShape('pad2d_border_backward', attrs.inputShape, attrs);
    if (dy!.shape.join() !== expected.join()) throw new Error(`pad2d_border_backward: dy ${formatShape(dy!.shape)} must be the padded shape ${formatShape(expected)}`);
    return [{ shape: attrs.inputShape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [dy], outputs: [dx] }, attrs) => [
    {
      shader: padBorderShader,
      entry: 'pad_border_backward',
      constants: { REFLECT: Number(attrs.mode === 'reflect') },
      params: borderParams(dx!.shape, dy!.shape, attrs),
      buffers: { dy: dy!, dx: dx! },
      workgroups: grid1d(sizeOf(dx!.shape), 256),
    },
  ],
};

/**
 * Pads the last two axes of an NCHW tensor from its own values (ONNX Pad modes 'reflect'
 * and 'edge'): 'reflect' mirrors about the border without repeating it (pads at most H − 1
 * and W − 1), 'edge' repeats the border row or column. Its gradient sums each padded
 * position's gradient back into the value it copies.
 * @example pad2dBorder(x, { top: 1, left: 1, bottom: 1, right: 1 }, 'reflect')
 */
export function pad2dBorder<T extends AnyTensor>(x: T, pads: Pads2d, mode: BorderMode): T {
  return apply(padBorderOp, [x], { ...pads, mode })[0]!;
}

/** dx of pad2dBorder: each padded position's dy summed into the value it copies; `inputShape` is x's shape. */
export function pad2dBorderBackward<T extends AnyTensor>(dy: T, inputShape: Shape, pads: Pads2d, mode: BorderMode): T {
  return apply(padBorderBackwardOp, [dy], { ...pads, mode, inputShape })[0]!;
}
