// Numpy-style broadcasting binary ops, repeats (broadcast copies and tiles), their
// reductions and strided slices (shaders/broadcast.wgsl). Each op merges adjacent axes that
// move together and drops extent-1 axes before dispatch, so the kernels' six axes cover
// tensors of higher rank in the common cases; one that still needs more than six fails
// naming its shapes.
import broadcastCode from '../../shaders/broadcast.wgsl';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { formatShape, type Shape, sizeOf, type TensorSpec } from '../graph/tensor.js';
import { add, mul } from './elementwise.js';
import { expectDtype, expectSameShape } from './shape-errors.js';

const broadcastShader = shader('broadcast', broadcastCode);

/** Axes the kernels walk (shaders/broadcast.wgsl's RANK). */
const KERNEL_RANK = 6;

/** The binary functions of broadcast.wgsl, by their kind number there. */
export const BINARY_KINDS = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, max: 5, min: 6, prelu: 7 } as const;
export type BinaryKind = keyof typeof BINARY_KINDS;

/**
 * The numpy broadcast of two shapes: right-aligned, each pair of extents equal or one of
 * them 1. Throws naming `op`, both shapes and the first axis that does not fit.
 * @example broadcastShapes('add', [2, 3, 1], [4]) // [2, 3, 4]
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    const da = a[k - (rank - a.length)] ?? 1;
    const db = b[k - (rank - b.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (axis ${k - rank} has ${da} and ${db}; extents must be equal or 1)`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Row-major strides of `shape`. */
function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k]!;
  }
  return strides;
}

/** Strides of `shape` read as `out` (right-aligned): 0 on the axes it broadcasts along. */
function broadcastStrides(shape: Shape, out: Shape): number[] {
  const own = stridesOf(shape);
  return out.map((d, k) => {
    const j = k - (out.length - shape.length);
    return j < 0 || shape[j] !== d ? 0 : own[j]!;
  });
}

/**
 * Drops extent-1 axes and merges axis k into k + 1 where `mergeable(k)` (every operand's
 * addressing of the pair is the same as of one longer axis). Returns the kept axes' groups.
 */
function coalesce(dims: Shape, mergeable: (outer: number, inner: number) => boolean): number[][] {
  const groups: number[][] = [];
  for (let k = 0; k < dims.length; k++) {
    if (dims[k] === 1) continue;
    const last = groups[groups.length - 1];
    if (last && mergeable(last[last.length - 1]!, k)) last.push(k);
    else groups.push([k]);
  }
  return groups;
}

/** `values` right-aligned into the kernels' six axes, `fill` before them. */
function padded(values: readonly number[], fill: number, op: string, shapes: string): number[] {
  if (values.length > KERNEL_RANK) throw new Error(`${op}: ${shapes} needs ${values.length} axes after merging; the kernel walks at most ${KERNEL_RANK}`);
  return [...new Array<number>(KERNEL_RANK - values.length).fill(fill), ...values];
}

function fields(prefix: string, values: readonly number[]): Record<string, number> {
  return Object.fromEntries(values.map((v, k) => [`${prefix}_${k}`, v]));
}

/** The binary kernel's geometry: merged output extents and both operands' strides. */
function binaryGeometry(op: string, a: Shape, b: Shape, out: Shape): Record<string, number> {
  const sa = broadcastStrides(a, out);
  const sb = broadcastStrides(b, out);
  const groups = coalesce(out, (k, j) => sa[k] === sa[j]! * out[j]! && sb[k] === sb[j]! * out[j]!);
  const dims = groups.map((g) => sizeOf(g.map((k) => out[k]!)));
  const inner = (s: number[]) => groups.map((g) => s[g[g.length - 1]!]!);
  const shapes = `${formatShape(a)} with ${formatShape(b)}`;
  return { rank: dims.length, ...fields('dim', padded(dims, 1, op, shapes)), ...fields('a_stride', padded(inner(sa), 0, op, shapes)), ...fields('b_stride', padded(inner(sb), 0, op, shapes)) };
}

function expectF32(op: string, inputs: readonly TensorSpec[], names: readonly string[]): void {
  inputs.forEach((t, k) => expectDtype(op, names[k]!, t, 'f32'));
}

interface BinaryAttrs {
  kind: BinaryKind;
}

const binaryOp: OpDef<BinaryAttrs> = {
  name: 'binary',
  outputs([a, b], { kind }) {
    expectF32(kind, [a!, b!], ['a', 'b']);
    return [{ shape: broadcastShapes(kind, a!.shape, b!.shape), dtype: 'f32' }];
  },
  kernels: ({ inputs: [a, b], outputs: [c] }, { kind }) => [
    {
      shader: broadcastShader,
      entry: 'binary',
      params: { size: sizeOf(c!.shape), kind: BINARY_KINDS[kind], which: 0, ...binaryGeometry(kind, a!.shape, b!.shape, c!.shape) },
      buffers: { a: a!, b: b!, out: c! },
      workgroups: grid1d(sizeOf(c!.shape), 256),
    },
  ],
  grad: ([dc], [a, b], _outputs, { kind }) =>
    [a!, b!].map((operand, which) => {
      // d(a + b) is dc itself; every other rule scales dc elementwise first.
      const full = kind === 'add' ? dc! : apply(binaryBackwardOp, [dc!, a!, b!], { kind, which })[0]!;
      return sumRepeats(full, operand.shape);
    }),
};

/** Inputs: dc (the output's gradient), a, b. Output: dc · ∂f/∂(a or b), the output's shape. */
const binaryBackwardOp: OpDef<BinaryAttrs & { which: number }> = {
  name: 'binary_backward',
  grad: null,
  outputs([dc, a, b], { kind }) {
    expectF32(`${kind} backward`, [dc!, a!, b!], ['dc', 'a', 'b']);
    expectSameShape(`${kind} backward`, dc!, { shape: broadcastShapes(kind, a!.shape, b!.shape), dtype: 'f32' });
    return [{ shape: dc!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [dc, a, b], outputs: [d] }, { kind, which }) => [
    {
      shader: broadcastShader,
      entry: 'binary_backward',
      params: { size: sizeOf(d!.shape), kind: BINARY_KINDS[kind], which, ...binaryGeometry(kind, a!.shape, b!.shape, d!.shape) },
      buffers: { dc: dc!, a: a!, b: b!, out: d! },
      workgroups: grid1d(sizeOf(d!.shape), 256),
    },
  ],
};

/** `small` right-aligned to the rank of `large`, leading extents 1. */
function aligned(small: Shape, large: Shape): number[] {
  return [...new Array<number>(Math.max(0, large.length - small.length)).fill(1), ...small];
}

/** Checks that every extent of `large` is a multiple of `small`'s (right-aligned). */
function expectRepeats(op: string, small: Shape, large: Shape): number[] {
  const s = aligned(small, large);
  if (small.length > large.length || s.some((d, k) => !Number.isInteger(large[k]! / d))) {
    throw new Error(`${op}: ${formatShape(large)} is not ${formatShape(small)} repeated a whole number of times along each axis (right-aligned)`);
  }
  return s;
}

/**
 * The repeat/sum_repeats geometry of a small tensor repeated into a large one: merged axes
 * with the small extents, the large extents and the large tensor's strides.
 */
function repeatGroups(small: Shape, large: Shape): { inDims: number[]; outDims: number[]; outStrides: number[] } {
  const s = aligned(small, large);
  // Axis k joins the inner axis j when j is not repeated, or when both are pure broadcasts.
  const groups = coalesce(large, (k, j) => s[j] === large[j] || (s[k] === 1 && s[j] === 1));
  const strides = stridesOf(large);
  return {
    inDims: groups.map((g) => sizeOf(g.map((k) => s[k]!))),
    outDims: groups.map((g) => sizeOf(g.map((k) => large[k]!))),
    outStrides: groups.map((g) => strides[g[g.length - 1]!]!),
  };
}

interface RepeatAttrs {
  shape: Shape;
  factor: number;
}

const repeatOp: OpDef<RepeatAttrs> = {
  name: 'repeat',
  outputs([x], { shape }) {
    expectDtype('repeat', 'x', x!, 'f32');
    expectRepeats('repeat', x!.shape, shape);
    return [{ shape, dtype: 'f32' }];
  },
  kernels({ inputs: [x], outputs: [y] }, { factor }) {
    const { inDims, outDims } = repeatGroups(x!.shape, y!.shape);
    const what = `${formatShape(x!.shape)} repeated to ${formatShape(y!.shape)}`;
    const inStrides = stridesOf(inDims);
    return [
      {
        shader: broadcastShader,
        entry: 'repeat',
        params: { size: sizeOf(y!.shape), factor, ...fields('dim', padded(outDims, 1, 'repeat', what)), ...fields('in_dim', padded(inDims, 1, 'repeat', what)), ...fields('in_stride', padded(inStrides, 0, 'repeat', what)) },
        buffers: { x: x!, out: y! },
        workgroups: grid1d(sizeOf(y!.shape), 256),
      },
    ];
  },
  grad: ([dy], [x], _outputs, { factor }) => [sumRepeats(dy!, x!.shape, factor)],
};

const sumRepeatsOp: OpDef<RepeatAttrs> = {
  name: 'sum_repeats',
  outputs([x], { shape }) {
    expectDtype('sum_repeats', 'x', x!, 'f32');
    expectRepeats('sum_repeats', shape, x!.shape);
    return [{ shape, dtype: 'f32' }];
  },
  kernels({ inputs: [x], outputs: [y] }, { factor }) {
    const { inDims, outDims, outStrides } = repeatGroups(y!.shape, x!.shape);
    const what = `${formatShape(x!.shape)} summed to ${formatShape(y!.shape)}`;
    const reps = outDims.map((d, k) => d / inDims[k]!);
    return [
      {
        shader: broadcastShader,
        entry: 'sum_repeats',
        params: {
          size: sizeOf(y!.shape),
          count: sizeOf(reps),
          factor,
          ...fields('kept', padded(inDims, 1, 'sum_repeats', what)),
          ...fields('kept_stride', padded(outStrides, 0, 'sum_repeats', what)),
          ...fields('rep', padded(reps, 1, 'sum_repeats', what)),
          ...fields('rep_stride', padded(outStrides.map((s, k) => s * inDims[k]!), 0, 'sum_repeats', what)),
        },
        buffers: { x: x!, out: y! },
        workgroups: grid1d(sizeOf(y!.shape), 64),
      },
    ];
  },
  grad: ([dy], [x], _outputs, { factor }) => [repeat(dy!, x!.shape, factor)],
};

/** Per-axis start and step of a strided slice (steps ≠ 0, may be negative). */
interface SliceAttrs {
  starts: readonly number[];
  steps: readonly number[];
  shape: Shape;
}

function sliceParams(op: string, full: Shape, part: Shape, { starts, steps }: SliceAttrs, other: readonly number[]): Record<string, number> {
  const what = `a slice ${formatShape(part)} of ${formatShape(full)}`;
  if (full.length > KERNEL_RANK) throw new Error(`${op}: ${what} has rank ${full.length}; at most ${KERNEL_RANK}`);
  return {
    ...fields('start', padded(starts, 0, op, what)),
    ...fields('step', padded(steps, 1, op, what)),
    ...fields('other', padded(other, op === 'slice' ? 0 : 1, op, what)),
  };
}

const sliceOp: OpDef<SliceAttrs> = {
  name: 'slice',
  outputs([x], { starts, steps, shape }) {
    expectDtype('slice', 'x', x!, 'f32');
    const rank = x!.shape.length;
    if (starts.length !== rank || steps.length !== rank || shape.length !== rank) throw new Error(`slice: needs a start, step and length per axis of ${formatShape(x!.shape)}`);
    x!.shape.forEach((d, k) => {
      const [s, t, n] = [starts[k]!, steps[k]!, shape[k]!];
      const last = s + (n - 1) * t;
      if (![s, t, n].every(Number.isInteger) || t === 0 || n < 1 || s < 0 || s >= d || last < 0 || last >= d) {
        throw new Error(`slice: ${n} entries from ${s} in steps of ${t} do not fit axis ${k} of ${formatShape(x!.shape)}`);
      }
    });
    return [{ shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }, attrs) => [
    {
      shader: broadcastShader,
      entry: 'slice',
      params: { size: sizeOf(y!.shape), ...fields('dim', padded(y!.shape, 1, 'slice', '')), ...sliceParams('slice', x!.shape, y!.shape, attrs, stridesOf(x!.shape)) },
      buffers: { x: x!, out: y! },
      workgroups: grid1d(sizeOf(y!.shape), 256),
    },
  ],
  grad: ([dy], [x], _outputs, attrs) => [apply(unsliceOp, [dy!], { ...attrs, shape: x!.shape })[0]!],
};

/** Inputs: dy (a slice). Output: the sliced tensor's shape (`shape`), dy in place, 0 elsewhere. */
const unsliceOp: OpDef<SliceAttrs> = {
  name: 'unslice',
  outputs([dy], { shape }) {
    expectDtype('unslice', 'dy', dy!, 'f32');
    return [{ shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [dy], outputs: [dx] }, attrs) => [
    {
      shader: broadcastShader,
      entry: 'unslice',
      params: { size: sizeOf(dx!.shape), ...fields('dim', padded(dx!.shape, 1, 'unslice', '')), ...sliceParams('unslice', dx!.shape, dy!.shape, attrs, dy!.shape) },
      buffers: { dc: dy!, out: dx! },
      workgroups: grid1d(sizeOf(dx!.shape), 256),
    },
  ],
  grad: ([ddx], [dy], _outputs, attrs) => [apply(sliceOp, [ddx!], { ...attrs, shape: dy!.shape })[0]!],
};

function binary<T extends AnyTensor>(kind: BinaryKind, a: T, b: T): T {
  return apply(binaryOp, [a, b], { kind })[0]! as T;
}

const sameShape = (a: AnyTensor, b: AnyTensor) => a.shape.join() === b.shape.join();

/**
 * a + b with numpy broadcasting (equal shapes take elementwise.wgsl's plain add).
 * @example addBroadcast(x, bias) // [N, C, H, W] + [C, 1, 1]
 */
export const addBroadcast = <T extends AnyTensor>(a: T, b: T): T => (sameShape(a, b) ? add(a, b) : binary('add', a, b));
/** a − b with numpy broadcasting. */
export const sub = <T extends AnyTensor>(a: T, b: T): T => binary('sub', a, b);
/** a · b with numpy broadcasting (equal shapes take the plain mul). @example mulBroadcast(x, gate) */
export const mulBroadcast = <T extends AnyTensor>(a: T, b: T): T => (sameShape(a, b) ? mul(a, b) : binary('mul', a, b));
/** a / b with numpy broadcasting. */
export const div = <T extends AnyTensor>(a: T, b: T): T => binary('div', a, b);
/**
 * a^b with numpy broadcasting; integer exponents are exact products and defined for
 * negative a (x² of a centred value), others are NaN there.
 */
export const pow = <T extends AnyTensor>(a: T, b: T): T => binary('pow', a, b);
/** max(a, b) with numpy broadcasting; on ties each operand gets half the gradient. */
export const maximum = <T extends AnyTensor>(a: T, b: T): T => binary('max', a, b);
/** min(a, b) with numpy broadcasting; on ties each operand gets half the gradient. */
export const minimum = <T extends AnyTensor>(a: T, b: T): T => binary('min', a, b);
/**
 * x ≥ 0 ? x : slope·x, slope broadcast to x (ONNX PRelu: per channel as [C, 1, 1], or one
 * value). The output has x's shape.
 */
export function prelu<T extends AnyTensor>(x: T, slope: T): T {
  const shape = broadcastShapes('prelu', x.shape, slope.shape);
  if (shape.join() !== x.shape.join()) throw new Error(`prelu: slope ${formatShape(slope.shape)} must broadcast to x ${formatShape(x.shape)} without growing it`);
  return binary('prelu', x, slope);
}

/**
 * factor · x repeated to `shape`: a numpy broadcast where x has extent 1 (or is missing, on
 * the left), a tile where `shape` is a whole multiple of x's extent (ONNX Expand, Tile).
 * The gradient sums the repeats.
 * @example repeat(x, [2, 3, 4]) // x [3, 1] → [2, 3, 4]
 */
export function repeat<T extends AnyTensor>(x: T, shape: Shape, factor = 1): T {
  if (shape.join() === x.shape.join() && factor === 1) return x;
  return apply(repeatOp, [x], { shape: [...shape], factor })[0]! as T;
}

/**
 * factor · the sum of x's repeats of `shape` (repeat's adjoint): with extent-1 axes in
 * `shape`, the sum over them, e.g. a broadcast operand's gradient or ONNX ReduceSum with
 * keepdims; `shape` may have fewer axes (the missing leading ones are summed away).
 * @example sumRepeats(x, [1, 5, 1]) // x [4, 5, 6] → the sums over axes 0 and 2
 */
export function sumRepeats<T extends AnyTensor>(x: T, shape: Shape, factor = 1): T {
  if (shape.join() === x.shape.join() && factor === 1) return x;
  return apply(sumRepeatsOp, [x], { shape: [...shape], factor })[0]! as T;
}

/**
 * Entries start_k, start_k + step_k, … (lengths[k] of them) along every axis k; steps may
 * be negative. The gradient puts dy back in place, zeros elsewhere.
 * @example slice(x, [0, 4], [1, -1], [3, 5]) // x[0:3, 4::-1]
 */
export function slice<T extends AnyTensor>(x: T, starts: readonly number[], steps: readonly number[], lengths: readonly number[]): T {
  return apply(sliceOp, [x], { starts: [...starts], steps: [...steps], shape: [...lengths] })[0]! as T;
}

const gatherRowsOp: OpDef = {
  name: 'gather_rows',
  outputs([indices, table]) {
    expectF32('gather_rows', [indices!, table!], ['indices', 'table']);
    if (table!.shape.length < 2) throw new Error(`gather_rows: the table ${formatShape(table!.shape)} needs rows of at least one value ([rows, ...row])`);
    return [{ shape: [...indices!.shape, ...table!.shape.slice(1)], dtype: 'f32' }];
  },
  kernels: ({ inputs: [indices, table], outputs: [y] }) => [
    {
      shader: broadcastShader,
      entry: 'gather_rows',
      params: { size: sizeOf(y!.shape), rows: table!.shape[0]!, row: sizeOf(table!.shape.slice(1)) },
      buffers: { indices: indices!, table: table!, out: y! },
      workgroups: grid1d(sizeOf(y!.shape), 256),
    },
  ],
  // Indices are discrete (no gradient); a table gradient would need a scatter-add, and an
  // imported table is a constant: no gradient rule.
  grad: null,
};

/**
 * Rows of `table` [rows, ...row] at `indices` (f32 holding integers; negative ones count
 * from the end, one outside the table gives zeros): an embedding lookup, output
 * [...indices.shape, ...row]. Not differentiable in either input.
 * @example gatherRows(tokenIds, embeddingTable) // [N, T] ids, [V, D] table → [N, T, D]
 */
export function gatherRows<T extends AnyTensor>(indices: T, table: T): T {
  return apply(gatherRowsOp, [indices, table], {})[0]! as T;
}
