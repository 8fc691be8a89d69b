// ONNX elementwise, broadcasting, reduction and shape ops, mapped onto kdgpu ops with
// gradient rules (src/ops/broadcast.ts, activations.ts, layout.ts). ops.ts merges this table
// into ONNX_OPS.
//
// Batch rule: activations are [batch, ...sample] and kdgpu runs any batch size, so no op may
// move, grow or reduce the batch axis. A constant with as many axes as the activations lines
// its first axis up with the batch: it must be 1 there, or the batch size the model is run
// with (a model exported with its batch baked into a constant runs at that batch only).
import type { AnyTensor } from '../graph/apply.js';
import { formatShape, type Shape } from '../graph/tensor.js';
import { abs, exp, floor, log, neg, reciprocal, sign, sqrt } from '../ops/activations.js';
import { addBroadcast, type BinaryKind, broadcastShapes, div, gatherRows, maximum, minimum, mulBroadcast, pow, prelu, repeat, slice, sub, sumRepeats } from '../ops/broadcast.js';
import { reshape } from '../ops/elementwise.js';
import { concat, sliceAxis } from '../ops/layout.js';
import type { OnnxNode, OnnxTensor } from './decode.js';
import type { OnnxOp, OpContext, RunContext } from './ops.js';

/**
 * An op that can run at load when every input is a constant (BatchNorm folded into
 * Unsqueeze + Mul + Add by some exporters): the output constant, or why not.
 */
export interface FoldingOnnxOp extends OnnxOp {
  fold(node: OnnxNode, c: OpContext): Omit<OnnxTensor, 'name'> | string;
}

/** An op with several outputs (Split): shapes and tensors for every output, in order. */
export interface MultiOutputOnnxOp extends OnnxOp {
  outputShapes(node: OnnxNode, inputs: Shape[], c: OpContext): Shape[];
  applyOutputs<T extends AnyTensor>(node: OnnxNode, x: T[], run: RunContext<T>): T[];
}

const ints = (node: OnnxNode, name: string): number[] | undefined => node.attributes.get(name) as number[] | undefined;
const int = (node: OnnxNode, name: string, fallback: number): number => (node.attributes.get(name) as number | undefined) ?? fallback;
const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const ones = (n: number) => new Array<number>(Math.max(0, n)).fill(1);
/** Slice ends at or past this mean "to the end" (exporters write INT32_MAX or INT64_MAX). */
const TO_THE_END = 2 ** 31 - 1;

/** The node's non-empty inputs: an activation (its per-sample shape) or a constant. */
type Operand = { index: number; sample: Shape; constant?: undefined } | { index: number; constant: OnnxTensor; sample?: undefined };

function operandsOf(node: OnnxNode, activations: Shape[], c: { constant(name: string): OnnxTensor | undefined }): Operand[] {
  let k = 0;
  const out: Operand[] = [];
  node.inputs.forEach((name, index) => {
    if (name === '') return;
    const constant = c.constant(name);
    out.push(constant ? { index, constant } : { index, sample: activations[k++]! });
  });
  return out;
}

/** Fails naming the axis when it is the batch axis or outside a rank-`rank` tensor; returns it ≥ 0. */
function axisOf(axis: number, rank: number, what = 'axis'): number {
  const positive = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || positive < 0 || positive >= rank) throw new Error(`${what} ${axis} is outside a rank-${rank} tensor`);
  if (positive === 0) throw new Error(`${what} ${axis} is the batch axis (kdgpu runs any batch size: only per-sample axes)`);
  return positive;
}

/**
 * Opset < 7 Add/Sub/Mul/Div/Pow with broadcast = 1 and an axis: B's axes line up with A's
 * from `axis` on, i.e. B gets trailing extent-1 axes. Returns B's dims so read.
 */
function legacyDims(node: OnnxNode, opset: number, dims: readonly number[], rankA: number): number[] {
  const axis = node.attributes.get('axis') as number | undefined;
  if (opset >= 7 || int(node, 'broadcast', 0) !== 1 || axis === undefined) return [...dims];
  const start = axis < 0 ? axis + rankA : axis;
  return [...dims, ...ones(rankA - start - dims.length)];
}

/** A constant's per-sample dims against rank-`rank` activations (see the batch rule above). */
function constantSample(dims: readonly number[], rank: number): number[] {
  if (dims.length > rank) throw new Error(`a constant of shape ${formatShape(dims)} has more axes than the rank-${rank} activations (it would move the batch axis)`);
  return dims.length === rank ? dims.slice(1) : [...dims];
}

function batchRank(operands: Operand[]): number {
  const acts = operands.filter((o) => o.sample);
  const rank = acts[0]!.sample!.length + 1;
  if (acts.some((o) => o.sample!.length + 1 !== rank)) {
    throw new Error(`activations of ranks ${acts.map((o) => o.sample!.length + 1).join(' and ')} (only equal ranks: each has its batch axis first)`);
  }
  return rank;
}

/** The dims an operand enters the op with (legacy broadcast applies to input 1 only). */
function effectiveDims(node: OnnxNode, o: Operand, opset: number, rank: number): number[] | undefined {
  if (!o.constant) return undefined;
  return o.index === 1 ? legacyDims(node, opset, o.constant.dims, rank) : o.constant.dims;
}

function broadcastSample(node: OnnxNode, operands: Operand[], opset: number): Shape {
  const rank = batchRank(operands);
  const samples = operands.map((o) => o.sample ?? constantSample(effectiveDims(node, o, opset, rank)!, rank));
  return samples.reduce((s, t) => broadcastShapes(node.opType, s, t));
}

/** GPU tensors of the operands in order; constants as their (legacy-broadcast) dims. */
function operandTensors<T extends AnyTensor>(node: OnnxNode, x: T[], run: RunContext<T>): T[] {
  const rank = run.outputShape.length + 1;
  let k = 0;
  const out: T[] = [];
  node.inputs.forEach((name, index) => {
    if (name === '') return;
    if (!run.isConstant(index)) {
      out.push(x[k++]!);
      return;
    }
    const constant = run.constant(name)!;
    const dims = index === 1 ? legacyDims(node, run.opset, constant.dims, rank) : constant.dims;
    if (dims.length === rank && dims[0] !== 1 && dims[0] !== run.batch) {
      throw new Error(`node '${node.name}' (${node.opType}): constant '${name}' ${formatShape(dims)} has ${dims[0]} entries along the batch axis, so the model runs with batch ${dims[0]} only (got ${run.batch})`);
    }
    const w = run.weight(index);
    out.push(dims.length > 0 && dims.join() !== w.shape.join() ? reshape(w, dims) : w);
  });
  return out;
}

/** Constant operands of an op on computed tensors must be float tensors (all-constant ones fold at load). */
function checkOperands(node: OnnxNode, c: OpContext): string | undefined {
  const constants = node.inputs.map((name) => c.constant(name)).filter((t): t is OnnxTensor => t !== undefined);
  const integer = constants.find((t) => !t.floats);
  return integer ? `an integer constant operand '${integer.name}' (only float constants)` : undefined;
}

/** Float64 functions of the binary kinds, for folding constants (rounded to f32 after). */
const BINARY_VALUES: Record<BinaryKind, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  max: Math.max,
  min: Math.min,
  prelu: (a, b) => (a >= 0 ? a : a * b),
};

/** Values of a constant at row-major index `i` of `out` (numpy broadcast, right-aligned). */
function broadcastRead(dims: readonly number[], values: ArrayLike<number>, out: readonly number[], i: number): number {
  let index = 0;
  let rest = i;
  let stride = 1;
  for (let k = out.length - 1; k >= 0; k--) {
    const c = rest % out[k]!;
    rest = Math.floor(rest / out[k]!);
    const j = k - (out.length - dims.length);
    if (j >= 0) {
      index += (dims[j] === 1 ? 0 : c) * stride;
      stride *= dims[j]!;
    }
  }
  return values[index]!;
}

/** Binary ops on constants: float results (f32), or integer ones when every operand is an integer tensor. */
function foldBinary(kind: BinaryKind, node: OnnxNode, c: OpContext): Omit<OnnxTensor, 'name'> | string {
  const operands = node.inputs.filter((name) => name !== '').map((name) => c.constant(name)!);
  const integer = operands.every((t) => t.ints);
  const rankA = operands[0]!.dims.length;
  const dims = operands.map((t, k) => (k === 1 ? legacyDims(node, c.opset, t.dims, rankA) : t.dims));
  const out = dims.reduce<number[]>((s, d) => broadcastShapes(node.opType, s, d), []);
  const values = operands.map((t) => (t.ints ?? t.floats!) as ArrayLike<number>);
  const f = integer && kind === 'div' ? (a: number, b: number) => Math.trunc(a / b) : BINARY_VALUES[kind];
  const result = Array.from({ length: product(out) }, (_, i) => values.slice(1).reduce((acc, v, k) => f(acc, broadcastRead(dims[k + 1]!, v, out, i)), broadcastRead(dims[0]!, values[0]!, out, i)));
  return integer ? { dims: out, ints: result } : { dims: out, floats: Float32Array.from(result) };
}

const BINARY: Record<BinaryKind, <T extends AnyTensor>(a: T, b: T) => T> = { add: addBroadcast, sub, mul: mulBroadcast, div, pow, max: maximum, min: minimum, prelu };

/** Add, Sub, …: two operands; Max, Min, Sum: one or more, folded left to right. */
function broadcasting(kind: BinaryKind, variadic: boolean): FoldingOnnxOp {
  return {
    fold: (node, c) => foldBinary(kind, node, c),
    check(node, c) {
      const count = node.inputs.filter((name) => name !== '').length;
      if (variadic ? count < 1 : count !== 2) return `${count} inputs (${variadic ? 'at least 1' : 'exactly 2'})`;
      return checkOperands(node, c);
    },
    shape: (node, inputs, c) => broadcastSample(node, operandsOf(node, inputs, c), c.opset),
    apply(node, x, run) {
      const tensors = operandTensors(node, x, run);
      return tensors.slice(1).reduce((acc, t) => BINARY[kind](acc, t), tensors[0]!);
    },
  };
}

const unary = (f: <T extends AnyTensor>(x: T) => T, value: (v: number) => number): FoldingOnnxOp => ({
  check: () => undefined,
  shape: (_n, [x]) => x!,
  apply: (_n, [x]) => f(x!),
  fold(node, c) {
    const t = c.constant(node.inputs[0]!)!;
    return t.floats ? { dims: t.dims, floats: t.floats.map(value) } : 'an integer constant input (only float constants)';
  },
});

/** PRelu's slope dims: before opset 7 a [C] slope is per channel (axis 1), later numpy rules. */
function slopeDims(dims: readonly number[], sample: Shape, opset: number): number[] {
  if (opset < 7 && dims.length === 1 && dims[0]! > 1 && sample.length > 1 && dims[0] === sample[0]) return [dims[0]!, ...ones(sample.length - 1)];
  return [...dims];
}

const preluOp: OnnxOp = {
  check(node, c) {
    const slope = c.constant(node.inputs[1] ?? '');
    if (!slope) return 'a slope that is not a constant';
    return slope.floats ? undefined : 'an integer slope';
  },
  shape(node, [x], c) {
    const dims = slopeDims(c.constant(node.inputs[1]!)!.dims, x!, c.opset);
    const out = broadcastShapes('PRelu', x!, constantSample(dims, x!.length + 1));
    if (out.join() !== x!.join()) throw new Error(`a slope of shape ${formatShape(dims)} that does not broadcast to the input without growing it`);
    return x!;
  },
  apply(node, [x], run) {
    const dims = slopeDims(run.constant(node.inputs[1]!)!.dims, run.outputShape, run.opset);
    const w = run.weight(1);
    return prelu(x!, dims.length > 0 && dims.join() !== w.shape.join() ? reshape(w, dims) : w);
  },
};

/**
 * Axes from the attribute `axes` before `inputFrom`, from constant input 1 from then on.
 * undefined: none given; null: given but not a constant.
 */
function axesOf(node: OnnxNode, opset: number, inputFrom: number, constant: (name: string) => OnnxTensor | undefined): number[] | undefined | null {
  if (opset < inputFrom) return ints(node, 'axes');
  const name = node.inputs[1];
  if (!name) return undefined;
  return constant(name)?.ints ?? null;
}

const reshapeTo = <T extends AnyTensor>(x: T, run: RunContext<T>): T => reshape(x, [run.batch, ...run.outputShape]);

/** Squeeze or Unsqueeze of a constant: the same values under new dims (its own axes: no batch). */
function foldDims(node: OnnxNode, c: OpContext, squeeze: boolean): Omit<OnnxTensor, 'name'> | string {
  const t = c.constant(node.inputs[0]!)!;
  const axes = axesOf(node, c.opset, 13, c.constant);
  if (axes === null || (!squeeze && !axes)) return axes === null ? 'axes that are not a constant' : 'no axes';
  const rank = t.dims.length + (squeeze ? 0 : axes!.length);
  const normal = axes?.map((a) => (a < 0 ? a + rank : a));
  if (normal?.some((a) => a < 0 || a >= rank)) return `axes [${axes}] outside a rank-${rank} constant`;
  let dims: number[];
  if (squeeze) {
    dims = t.dims.filter((d, k) => (normal ? !normal.includes(k) : d !== 1));
    if (normal?.some((a) => t.dims[a] !== 1)) return `axes [${axes}] that are not of extent 1 in the constant ${formatShape(t.dims)}`;
  } else {
    const rest = [...t.dims];
    dims = Array.from({ length: rank }, (_, k) => (normal!.includes(k) ? 1 : rest.shift()!));
  }
  return t.ints ? { dims, ints: t.ints } : { dims, floats: t.floats! };
}

const squeezeOp: FoldingOnnxOp = {
  fold: (node, c) => foldDims(node, c, true),
  check: (node, c) => (axesOf(node, c.opset, 13, c.constant) === null ? 'axes that are not a constant' : undefined),
  shape(node, [x], c) {
    const rank = x!.length + 1;
    const axes = axesOf(node, c.opset, 13, c.constant);
    const drop = axes ? axes.map((a) => axisOf(a, rank)) : x!.map((d, k) => (d === 1 ? k + 1 : -1)).filter((k) => k > 0);
    for (const a of drop) if (x![a - 1] !== 1) throw new Error(`axis ${a} has extent ${x![a - 1]} (only extent-1 axes can be squeezed)`);
    return x!.filter((_, k) => !drop.includes(k + 1));
  },
  apply: (_n, [x], run) => reshapeTo(x!, run),
};

const unsqueezeOp: FoldingOnnxOp = {
  fold: (node, c) => foldDims(node, c, false),
  check(node, c) {
    const axes = axesOf(node, c.opset, 13, c.constant);
    return axes ? undefined : axes === null ? 'axes that are not a constant' : 'no axes';
  },
  shape(node, [x], c) {
    const axes = axesOf(node, c.opset, 13, c.constant)!;
    const rank = x!.length + 1 + axes.length;
    const added = axes.map((a) => axisOf(a, rank));
    if (new Set(added).size !== added.length) throw new Error(`axes [${axes}] repeat an axis`);
    const out: number[] = [];
    let k = 0;
    for (let axis = 1; axis < rank; axis++) out.push(added.includes(axis) ? 1 : x![k++]!);
    return out;
  },
  apply: (_n, [x], run) => reshapeTo(x!, run),
};

/** ReduceSum takes axes as an input from opset 13, ReduceMean from 18. */
function reduceOp(mean: boolean): OnnxOp {
  const inputFrom = mean ? 18 : 13;
  const plan = (node: OnnxNode, sample: Shape, c: OpContext) => {
    const axes = axesOf(node, c.opset, inputFrom, c.constant);
    const rank = sample.length + 1;
    if (!axes || axes.length === 0) {
      if (c.opset >= inputFrom && int(node, 'noop_with_empty_axes', 0) === 1) return { kept: [...sample], count: 1 };
      throw new Error('no axes, so every axis is reduced, the batch axis too (only per-sample axes)');
    }
    const reduced = axes.map((a) => axisOf(a, rank));
    const kept = sample.map((d, k) => (reduced.includes(k + 1) ? 1 : d));
    return { kept, count: product(reduced.filter((a, i) => reduced.indexOf(a) === i).map((a) => sample[a - 1]!)) };
  };
  return {
    check(node, c) {
      if (axesOf(node, c.opset, inputFrom, c.constant) === null) return 'axes that are not a constant';
      const keepdims = int(node, 'keepdims', 1);
      return keepdims === 0 || keepdims === 1 ? undefined : `keepdims ${keepdims}`;
    },
    shape(node, [x], c) {
      const { kept } = plan(node, x!, c);
      if (int(node, 'keepdims', 1) === 1) return kept;
      const axes = axesOf(node, c.opset, inputFrom, c.constant) ?? [];
      const dropped = axes.map((a) => (a < 0 ? a + x!.length + 1 : a));
      return kept.filter((_, k) => !dropped.includes(k + 1));
    },
    apply(node, [x], run) {
      const sample = x!.shape.slice(1);
      const { kept, count } = plan(node, sample, run);
      const summed = sumRepeats(x!, [run.batch, ...kept], mean ? 1 / count : 1);
      return kept.join() === run.outputShape.join() ? summed : reshapeTo(summed, run);
    },
  };
}

/** Split sizes: attribute `split` before 13, constant input 1 from 13, else equal parts. */
function splitSizes(node: OnnxNode, extent: number, c: { opset: number; constant(name: string): OnnxTensor | undefined }): number[] {
  const given = c.opset < 13 ? ints(node, 'split') : node.inputs[1] ? c.constant(node.inputs[1])?.ints : undefined;
  const parts = node.outputs.length;
  const sizes = given ?? new Array<number>(parts).fill(Math.ceil(extent / parts)).map((s, i) => (i < parts - 1 ? s : extent - s * (parts - 1)));
  if (sizes.length !== parts || sizes.some((s) => !Number.isInteger(s) || s < 1) || sizes.reduce((a, b) => a + b, 0) !== extent) {
    throw new Error(`split [${sizes}] into ${parts} outputs does not cut an axis of ${extent} into non-empty parts`);
  }
  return sizes;
}

const splitOp: MultiOutputOnnxOp = {
  check(node, c) {
    if (c.opset >= 13 && node.inputs[1] && !c.constant(node.inputs[1])?.ints) return 'split sizes that are not a constant';
    return undefined;
  },
  outputShapes(node, [x], c) {
    const axis = axisOf(int(node, 'axis', 0), x!.length + 1);
    return splitSizes(node, x![axis - 1]!, c).map((s) => x!.map((d, k) => (k === axis - 1 ? s : d)));
  },
  shape(node, inputs, c) {
    return this.outputShapes(node, inputs, c)[0]!;
  },
  applyOutputs(node, [x], run) {
    const axis = axisOf(int(node, 'axis', 0), x!.shape.length);
    let offset = 0;
    return splitSizes(node, x!.shape[axis]!, run).map((size) => {
      const part = sliceAxis(x!, axis, offset, size);
      offset += size;
      return part;
    });
  },
  apply(node, x, run) {
    return this.applyOutputs(node, x, run)[0]!;
  },
};

/** Slice's starts, ends, axes, steps: attributes before opset 10, constant inputs from 10. */
function sliceSpec(node: OnnxNode, c: { opset: number; constant(name: string): OnnxTensor | undefined }) {
  if (c.opset < 10) return { starts: ints(node, 'starts'), ends: ints(node, 'ends'), axes: ints(node, 'axes'), steps: undefined as number[] | undefined, missing: false };
  const read = (i: number) => (node.inputs[i] ? c.constant(node.inputs[i]!)?.ints : undefined);
  const missing = [1, 2, 3, 4].some((i) => node.inputs[i] && !read(i));
  return { starts: read(1), ends: read(2), axes: read(3), steps: read(4), missing };
}

/** Per axis of the full tensor (batch included): start, step and length. */
function slicePlan(node: OnnxNode, sample: Shape, c: { opset: number; constant(name: string): OnnxTensor | undefined }) {
  const spec = sliceSpec(node, c);
  const rank = sample.length + 1;
  const starts = new Array<number>(rank).fill(0);
  const steps = new Array<number>(rank).fill(1);
  const lengths = [0, ...sample];
  if (rank > 6) throw new Error(`a rank-${rank} input (Slice runs on at most 6 axes)`);
  const axes = spec.axes ?? spec.starts!.map((_, i) => i);
  axes.forEach((a, i) => {
    const axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank) throw new Error(`axis ${a} is outside a rank-${rank} tensor`);
    const step = spec.steps?.[i] ?? 1;
    let start = spec.starts![i]!;
    let end = spec.ends![i]!;
    if (axis === 0) {
      if (start !== 0 || step !== 1 || end < TO_THE_END) throw new Error(`starts ${start}, ends ${end}, steps ${step} on the batch axis (only the whole batch)`);
      return;
    }
    const d = sample[axis - 1]!;
    if (step === 0) throw new Error('a step of 0');
    if (start < 0) start += d;
    if (end < 0) end += d;
    start = step > 0 ? Math.min(Math.max(start, 0), d) : Math.min(Math.max(start, 0), d - 1);
    end = step > 0 ? Math.min(Math.max(end, 0), d) : Math.min(Math.max(end, -1), d - 1);
    const length = Math.max(0, Math.ceil((end - start) / step));
    if (length === 0) throw new Error(`axis ${a}: starts ${spec.starts![i]}, ends ${spec.ends![i]}, steps ${step} select nothing (empty tensors are not supported)`);
    starts[axis] = start;
    steps[axis] = step;
    lengths[axis] = length;
  });
  return { starts, steps, lengths };
}

const sliceOp: OnnxOp = {
  check(node, c) {
    const spec = sliceSpec(node, c);
    if (spec.missing || !spec.starts || !spec.ends) return 'starts, ends, axes or steps that are not constants';
    const n = spec.starts.length;
    if (spec.ends.length !== n || (spec.axes && spec.axes.length !== n) || (spec.steps && spec.steps.length !== n)) return 'starts, ends, axes and steps of different lengths';
    return undefined;
  },
  shape: (node, [x], c) => slicePlan(node, x!, c).lengths.slice(1),
  apply(node, [x], run) {
    const { starts, steps, lengths } = slicePlan(node, x!.shape.slice(1), run);
    lengths[0] = run.batch;
    return slice(x!, starts, steps, lengths);
  },
};

/** Expand's or Tile's constant input 1 (a shape or repeats). */
const intInput = (node: OnnxNode, c: { constant(name: string): OnnxTensor | undefined }) => (node.inputs[1] ? c.constant(node.inputs[1])?.ints : undefined);

const expandOp: OnnxOp = {
  check: (node, c) => (intInput(node, c) ? undefined : 'a shape that is not a constant'),
  shape(node, [x], c) {
    const shape = intInput(node, c)!;
    return broadcastShapes('Expand', x!, constantSample(shape, x!.length + 1));
  },
  apply(node, [x], run) {
    const shape = intInput(node, run)!;
    const rank = run.outputShape.length + 1;
    if (shape.length === rank && shape[0] !== 1 && shape[0] !== run.batch) {
      throw new Error(`node '${node.name}' (Expand): shape [${shape}] has ${shape[0]} along the batch axis, so the model runs with batch ${shape[0]} only (got ${run.batch})`);
    }
    return repeat(x!, [run.batch, ...run.outputShape]);
  },
};

const tileOp: OnnxOp = {
  check: (node, c) => (c.opset < 6 ? 'tiles and axis inputs (opset < 6; only repeats)' : intInput(node, c) ? undefined : 'repeats that are not a constant'),
  shape(node, [x], c) {
    const repeats = intInput(node, c)!;
    if (repeats.length !== x!.length + 1) throw new Error(`repeats [${repeats}] for a rank-${x!.length + 1} input (one per axis)`);
    if (repeats[0] !== 1) throw new Error(`repeats [${repeats}] repeat the batch axis (only per-sample axes)`);
    if (repeats.some((r) => !Number.isInteger(r) || r < 1)) throw new Error(`repeats [${repeats}] (only positive counts)`);
    return x!.map((d, k) => d * repeats[k + 1]!);
  },
  apply: (_node, [x], run) => repeat(x!, [run.batch, ...run.outputShape]),
};

/** Gather's constant indices along a per-sample axis, made non-negative and checked. */
function gatherPlan(node: OnnxNode, sample: Shape, c: { constant(name: string): OnnxTensor | undefined }) {
  const rank = sample.length + 1;
  const axis = axisOf(int(node, 'axis', 0), rank);
  const extent = sample[axis - 1]!;
  const indices = c.constant(node.inputs[1]!)!;
  const picks = indices.ints!.map((i) => (i < 0 ? i + extent : i));
  const bad = picks.findIndex((i) => i < 0 || i >= extent);
  if (bad >= 0) throw new Error(`index ${indices.ints![bad]} is outside axis ${axis} of extent ${extent}`);
  return { axis, picks, shape: [...sample.slice(0, axis - 1), ...indices.dims, ...sample.slice(axis)] };
}

/**
 * Gather of a computed tensor along a per-sample axis at constant indices (x[:, 2],
 * x[:, [0, 3]]): one strided slice when the indices step evenly, else one slice per index
 * joined by concat; both differentiable.
 */
/**
 * Gather of a constant table at computed indices along axis 0 (an embedding lookup; the
 * indices arrive as f32 holding integers). No gradient flows into the indices.
 */
const embeddingOp: OnnxOp = {
  check(node, c) {
    const table = c.constant(node.inputs[0]!)!;
    if (int(node, 'axis', 0) !== 0) return `axis ${int(node, 'axis', 0)} on a constant table (only 0: an embedding lookup)`;
    if (!table.floats || table.dims.length < 2) return 'a table that is not a float constant of rank ≥ 2';
    return c.constant(node.inputs[1]!) ? 'constant data and indices' : undefined;
  },
  shape: (node, [indices], c) => [...indices!, ...c.constant(node.inputs[0]!)!.dims.slice(1)],
  apply: (_node, [indices], run) => gatherRows(indices!, run.weight(0)),
};

const gatherOp: OnnxOp = {
  check(node, c) {
    if (c.constant(node.inputs[0]!)) return embeddingOp.check(node, c);
    const indices = c.constant(node.inputs[1]!);
    if (!indices?.ints) return 'indices that are not an integer constant';
    return indices.ints.length === 0 ? 'no indices (empty tensors are not supported)' : undefined;
  },
  shape: (node, [x], c) => {
    if (c.constant(node.inputs[0]!)) return embeddingOp.shape(node, [x!], c);
    const { shape } = gatherPlan(node, x!, c);
    if (shape.length === 0) throw new Error('a scalar sample (kdgpu tensors keep at least one axis besides the batch)');
    return shape;
  },
  apply(node, [x], run) {
    if (run.isConstant(0)) return embeddingOp.apply(node, [x!], run);
    const { axis, picks } = gatherPlan(node, x!.shape.slice(1), run);
    const step = picks.length > 1 ? picks[1]! - picks[0]! : 1;
    const even = step !== 0 && picks.every((p, k) => p === picks[0]! + k * step);
    const along = (value: number, other: (d: number) => number) => x!.shape.map((d, k) => (k === axis ? value : other(d)));
    const gathered = even
      ? slice(x!, along(picks[0]!, () => 0), along(step, () => 1), along(picks.length, (d) => d))
      : concat(picks.map((p) => sliceAxis(x!, axis, p, 1)), axis);
    return gathered.shape.slice(1).join() === run.outputShape.join() ? gathered : reshapeTo(gathered, run);
  },
};

export const ONNX_ELEMENTWISE_OPS: Record<string, OnnxOp> = {
  Add: broadcasting('add', false),
  Sub: broadcasting('sub', false),
  Mul: broadcasting('mul', false),
  Div: broadcasting('div', false),
  Pow: broadcasting('pow', false),
  Max: broadcasting('max', true),
  Min: broadcasting('min', true),
  Sum: broadcasting('add', true),
  Neg: unary(neg, (v) => -v),
  Exp: unary(exp, Math.exp),
  Log: unary(log, Math.log),
  Sqrt: unary(sqrt, Math.sqrt),
  Abs: unary(abs, Math.abs),
  Reciprocal: unary(reciprocal, (v) => 1 / v),
  Sign: unary(sign, Math.sign),
  Floor: unary(floor, Math.floor),
  PRelu: preluOp,
  Squeeze: squeezeOp,
  Unsqueeze: unsqueezeOp,
  ReduceSum: reduceOp(false),
  ReduceMean: reduceOp(true),
  Split: splitOp,
  Slice: sliceOp,
  Expand: expandOp,
  Tile: tileOp,
  Gather: gatherOp,
};

/** Whether an op can run at load on constant inputs. */
export function canFold(op: OnnxOp): op is FoldingOnnxOp {
  return 'fold' in op;
}

/** Whether an op computes several outputs (graph-layer asks for all of them). */
export function isMultiOutput(op: OnnxOp): op is MultiOutputOnnxOp {
  return 'outputShapes' in op;
}
