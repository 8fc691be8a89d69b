import elementwiseCode from '../../shaders/elementwise.wgsl';
import type { AdapterKind } from '../gpu/adapter-kind.js';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type KernelCall, type OpDef } from '../graph/op.js';
import { SymbolicTensor } from '../graph/symbolic.js';
import { sizeOf, type TensorSpec } from '../graph/tensor.js';
import { reduceSum } from './reduce.js';
import { expectDtype, expectRank, expectSameShape } from './shape-errors.js';

export { add } from '../graph/add.js';

const elementwiseShader = shader('elementwise', elementwiseCode);

function sameAs(op: string, inputs: readonly TensorSpec[]): TensorSpec[] {
  for (const t of inputs) expectDtype(op, 'input', t, 'f32');
  for (const t of inputs.slice(1)) expectSameShape(op, inputs[0]!, t);
  return [{ shape: inputs[0]!.shape, dtype: 'f32' }];
}

const reluOp: OpDef = {
  name: 'relu',
  outputs: (inputs) => sameAs('relu', inputs),
  kernels: ({ inputs: [x], outputs: [y] }) => [
    { shader: elementwiseShader, entry: 'relu', params: { size: sizeOf(x!.shape) }, buffers: { x: x!, out: y! }, workgroups: grid1d(sizeOf(x!.shape), 256) },
  ],
  grad: ([dy], _inputs, [y]) => [reluBackward(dy!, y!)],
};

const reluBackwardOp: OpDef = {
  name: 'relu_backward',
  grad: null,
  outputs: (inputs) => sameAs('relu_backward', inputs),
  kernels: ({ inputs: [dy, y], outputs: [dx] }) => [
    {
      shader: elementwiseShader,
      entry: 'relu_backward',
      params: { size: sizeOf(dy!.shape) },
      buffers: { x: dy!, y: y!, out: dx! },
      workgroups: grid1d(sizeOf(dy!.shape), 256),
    },
  ],
};

const reshapeOp: OpDef<{ shape: readonly number[] }> = {
  name: 'reshape',
  outputs([x], { shape }) {
    // The copy goes through f32 registers, which may flush u32 bit patterns (denormals).
    expectDtype('reshape', 'x', x!, 'f32');
    if (sizeOf(shape) !== sizeOf(x!.shape)) {
      throw new Error(`reshape: cannot reshape [${x!.shape}] (${sizeOf(x!.shape)} values) to [${shape}] (${sizeOf(shape)} values)`);
    }
    return [{ shape, dtype: x!.dtype }];
  },
  // Eager: a copy keeps buffer ownership simple. Compiled plans alias x's buffer instead.
  view: true,
  kernels: ({ inputs: [x], outputs: [y] }) => [
    { shader: elementwiseShader, entry: 'copy', params: { size: sizeOf(x!.shape) }, buffers: { x: x!, out: y! }, workgroups: grid1d(sizeOf(x!.shape), 256) },
  ],
  grad: ([dy], [x]) => [reshape(dy!, x!.shape)],
};

const mulOp: OpDef = {
  name: 'mul',
  outputs: (inputs) => sameAs('mul', inputs),
  kernels: ({ inputs: [a, b], outputs: [c] }) => [
    { shader: elementwiseShader, entry: 'mul', params: { size: sizeOf(a!.shape) }, buffers: { x: a!, y: b!, out: c! }, workgroups: grid1d(sizeOf(a!.shape), 256) },
  ],
  grad: ([dc], [a, b]) => [mul(dc!, b!), mul(dc!, a!)],
};

const scaleOp: OpDef<{ factor: number }> = {
  name: 'scale',
  outputs: (inputs) => sameAs('scale', inputs),
  kernels: ({ inputs: [x], outputs: [y] }, { factor }) => [
    { shader: elementwiseShader, entry: 'scale', params: { size: sizeOf(x!.shape), factor }, buffers: { x: x!, out: y! }, workgroups: grid1d(sizeOf(x!.shape), 256) },
  ],
  grad: ([dy], _inputs, _outputs, { factor }) => [scale(dy!, factor)],
};

const scaleRowsOp: OpDef = {
  name: 'scale_rows',
  outputs([x, s]) {
    expectRank('scale_rows', 'x', x!, 2);
    expectRank('scale_rows', 's', s!, 1);
    if (s!.shape[0] !== x!.shape[0]) throw new Error(`scale_rows: s [${s!.shape}] needs one entry per row of x [${x!.shape}]`);
    return [{ shape: x!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x, s], outputs: [y] }, _attrs, ctx) => [scaleRowsCall(x!, s!, y!, ctx.profile.adapterKind)],
  // Only x is differentiable: s carries upstream gradients (see softmaxCrossEntropy).
  grad: ([dy], [, s]) => [scaleRows(dy!, s!), undefined],
};

/** Rows up to this long: one invocation per element (the row is i / cols). */
const SHORT_ROW = 64;
// elementwise.wgsl's ROW_CHUNK · ROW_ITEMS: elements (or quads) of a row per workgroup.
const ROW_CHUNK_ITEMS = 64 * 8;
const MAX_GROUPS_PER_DIMENSION = 65535;

/**
 * scale_rows' dispatch. Short rows: one invocation per element. Long rows (the fused KL's
 * backward at thousands of classes): the workgroup grid carries the row, so no division per
 * element, vec4 loads when cols % 4 = 0, and on a software adapter one invocation per
 * workgroup with uniform addresses (bench/NOTES.md, "Fused KL rewrite": ~10 → 3.5–4 ms at
 * 64 × 32768 on lavapipe).
 */
function scaleRowsCall(x: TensorSpec, s: TensorSpec, y: TensorSpec, kind: AdapterKind): KernelCall {
  const [rows, cols] = x.shape as [number, number];
  const params = { rows, cols };
  if (cols <= SHORT_ROW) {
    return { shader: elementwiseShader, entry: 'scale_rows', params, buffers: { x, s, out: y }, workgroups: grid1d(sizeOf(x.shape), 256) };
  }
  const packed = cols % 4 === 0;
  const chunks = Math.ceil((packed ? cols / 4 : cols) / ROW_CHUNK_ITEMS);
  if (chunks > MAX_GROUPS_PER_DIMENSION) throw new Error(`scale_rows: rows of ${cols} elements are longer than its kernel's grid allows`);
  const rowsY = Math.min(rows, MAX_GROUPS_PER_DIMENSION);
  const entry = packed ? (kind === 'software' ? 'scale_rows_wide4_serial' : 'scale_rows_wide4') : 'scale_rows_wide';
  const buffers: Record<string, TensorSpec> = packed ? { x4: x, s, out4: y } : { x, s, out: y };
  return { shader: elementwiseShader, entry, params, buffers, workgroups: [chunks, rowsY, Math.ceil(rows / rowsY)] };
}

const broadcastScalarOp: OpDef<{ shape: readonly number[]; factor: number }> = {
  name: 'broadcast_scalar',
  outputs([s], { shape }) {
    if (sizeOf(s!.shape) !== 1) throw new Error(`broadcast_scalar: expects a single value, got shape [${s!.shape}]`);
    return [{ shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [s], outputs: [y] }, { factor }) => [
    {
      shader: elementwiseShader,
      entry: 'broadcast_scalar',
      params: { size: sizeOf(y!.shape), factor },
      buffers: { s: s!, out: y! },
      workgroups: grid1d(sizeOf(y!.shape), 256),
    },
  ],
  grad: ([dy], _inputs, _outputs, { factor }) => [reduceSum(dy!, factor)],
};

/** Inputs: target, x. Adds x into target in place (no outputs). */
const accumulateOp: OpDef = {
  name: 'accumulate',
  grad: null,
  mutates: [0],
  outputs([target, x]) {
    sameAs('accumulate', [target!, x!]);
    return [];
  },
  kernels: ({ inputs: [target, x] }) => [
    { shader: elementwiseShader, entry: 'accumulate', params: { size: sizeOf(x!.shape) }, buffers: { x: x!, out: target! }, workgroups: grid1d(sizeOf(x!.shape), 256) },
  ],
};

/**
 * target += x in place, every time the plan runs: sums (epoch loss, correct counts) stay on
 * the GPU and are read once, not every step.
 * @example accumulate(graph.bind(lossSum), loss);
 */
export function accumulate<T extends AnyTensor>(target: T, x: T): void {
  apply(accumulateOp, [target, x], {});
}

/** max(x, 0). @example const h = relu(z); */
export function relu<T extends AnyTensor>(x: T): T {
  return apply(reluOp, [x], {})[0]!;
}

/**
 * dy where the forward output y is positive, else 0: ReLU's backward pass. In a graph, the
 * op that made dy may fold the mask into its own kernel (OpDef.reluMasked; max-pool
 * backward does), saving a dispatch and a pass over dy.
 */
export function reluBackward<T extends AnyTensor>(dy: T, y: T): T {
  if (dy instanceof SymbolicTensor && y instanceof SymbolicTensor && dy.source.kind === 'op' && dy.source.index === 0) {
    const { node } = dy.source;
    const fused = node.op.reluMasked?.(node.inputs, node.attrs, y);
    if (fused) return fused as T;
  }
  return apply(reluBackwardOp, [dy, y], {})[0]!;
}

/**
 * The same values in a new shape (row-major order kept), e.g. NCHW features to [N, C·H·W].
 * @example const flat = reshape(features, [batch, 32 * 13 * 13]);
 */
export function reshape<T extends AnyTensor>(x: T, shape: readonly number[]): T {
  return apply(reshapeOp, [x], { shape })[0]!;
}

/** a · b elementwise, same shapes. @example const masked = mul(x, mask); */
export function mul<T extends AnyTensor>(a: T, b: T): T {
  return apply(mulOp, [a, b], {})[0]!;
}

/** x · factor. @example const half = scale(x, 0.5); */
export function scale<T extends AnyTensor>(x: T, factor: number): T {
  return apply(scaleOp, [x], { factor })[0]!;
}

/** x[r, c] · s[r] for a 2-D x and one scale per row (differentiable in x only). */
export function scaleRows<T extends AnyTensor>(x: T, s: T): T {
  return apply(scaleRowsOp, [x, s], {})[0]!;
}

/** A tensor of `shape` filled with s[0] · factor (s holds one value). */
export function broadcastScalar<T extends AnyTensor>(s: T, shape: readonly number[], factor = 1): T {
  return apply(broadcastScalarOp, [s], { shape, factor })[0]!;
}
