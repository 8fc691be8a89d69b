// ONNX import of the elementwise, broadcasting, reduction and shape ops
// (src/onnx/ops-elementwise.ts): small models built here with the ONNX schema must give
// onnxruntime's outputs (max |Δ| ≤ 1e-5 + 1e-5·|expected|: f32 kernels against onnxruntime's
// f32 CPU kernels, a few roundings apart), pass input gradients (finite differences, atol and
// rtol 1e-2 as elsewhere), and unsupported attribute values fail at load naming node, op and
// opset.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadOnnx, onnxTypes, Random, type SymbolicTensor, Tensor } from '../src/index.js';
import { ONNX_ATTRIBUTE, ONNX_DTYPE } from '../src/onnx/schema.js';
import { checkGradients } from './support/finite-difference.js';
import { useGpu } from './support/gpu.js';
import { randomArray } from './support/reference.js';

const gpu = useGpu();
const random = new Random(5);

type Attr = number | number[];
interface NodeSpec {
  op: string;
  inputs: string[];
  outputs?: string[];
  attrs?: Record<string, Attr>;
}
interface ConstSpec {
  dims: number[];
  floats?: ArrayLike<number>;
  ints?: number[];
}

const attribute = (name: string, value: Attr) =>
  Array.isArray(value)
    ? { name, type: ONNX_ATTRIBUTE.INTS, ints: value }
    : Number.isInteger(value) && !name.startsWith('f_')
      ? { name, type: ONNX_ATTRIBUTE.INT, i: value }
      : { name: name.replace(/^f_/, ''), type: ONNX_ATTRIBUTE.FLOAT, f: value };

/** An ONNX model: one float input [batch, ...inputShape] named 'x', output 'y'. */
function onnxModel(opset: number, nodes: NodeSpec[], constants: Record<string, ConstSpec>, inputShape: number[], batch: number | string = 'batch'): Uint8Array {
  const initializer = Object.entries(constants).map(([name, c]) =>
    c.ints
      ? { name, dims: c.dims, data_type: ONNX_DTYPE.INT64, int64_data: c.ints }
      : { name, dims: c.dims, data_type: ONNX_DTYPE.FLOAT, raw_data: new Uint8Array(Float32Array.from(c.floats!).buffer) },
  );
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: ONNX_DTYPE.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  });
  const message = onnxTypes.ModelProto.fromObject({
    ir_version: 7,
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: 'test',
      node: nodes.map((n, i) => ({
        op_type: n.op,
        name: `${n.op.toLowerCase()}${i}`,
        input: n.inputs,
        output: n.outputs ?? [i === nodes.length - 1 ? 'y' : `t${i}`],
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer,
      input: [valueInfo('x', [batch, ...inputShape])],
      output: [{ name: 'y' }],
    },
  });
  return onnxTypes.ModelProto.encode(message).finish();
}

const floats = (n: number, lo = -1, hi = 1) => Array.from(randomArray(random, n, lo, hi));

/** Runs the model through kdgpu and onnxruntime on the same random batch; returns both. */
async function bothRuns(bytes: Uint8Array, shape: number[], data?: Float32Array) {
  const input = data ?? randomArray(random, shape.reduce((a, b) => a * b, 1));
  const model = await loadOnnx(gpu(), bytes, { inputShape: shape.slice(1) });
  const x = Tensor.from(gpu(), input, shape);
  const y = model.call(x, { training: false });
  const ours = await y.read();
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ x: new ort.Tensor('float32', input, shape) });
  const theirs = result.y!.data as Float32Array;
  x.dispose();
  y.dispose();
  return { model, ours, theirs, ourShape: y.shape, theirShape: result.y!.dims, input };
}

function expectMatch(ours: ArrayLike<number>, theirs: ArrayLike<number>): void {
  expect(ours.length).toBe(theirs.length);
  for (let i = 0; i < theirs.length; i++) {
    const [a, b] = [ours[i]!, theirs[i]!];
    if (!(Math.abs(a - b) <= 1e-5 + 1e-5 * Math.abs(b))) throw new Error(`output[${i}] = ${a}, onnxruntime ${b}`);
  }
}

// Every broadcasting binary op and unary op, constants of several shapes, opset 13.
const ARITHMETIC = onnxModel(
  13,
  [
    { op: 'Add', inputs: ['x', 'bias'] }, // t0 [N,3,4,5] + [3,1,1]
    { op: 'Mul', inputs: ['t0', 'scale'] }, // × [5]
    { op: 'Sub', inputs: ['shift', 't1'] }, // [1,4,1] − …
    { op: 'Div', inputs: ['t2', 'denominator'] }, // / [3,4,5]
    { op: 'Max', inputs: ['t3', 'x', 'floor'] }, // variadic, [1]
    { op: 'Min', inputs: ['t4', 'ceiling'] }, // [4,1]
    { op: 'Sum', inputs: ['t5', 'x', 't0'] },
    { op: 'Abs', inputs: ['t6'] },
    { op: 'Add', inputs: ['t7', 'half'] }, // scalar constant (dims [])
    { op: 'Pow', inputs: ['t8', 'exponent'] }, // ^1.5
    { op: 'Sqrt', inputs: ['t9'] },
    { op: 'Log', inputs: ['t10'] },
    { op: 'Neg', inputs: ['t11'] },
    { op: 'Exp', inputs: ['t12'] },
    { op: 'Reciprocal', inputs: ['t13'] },
    { op: 'Pow', inputs: ['t3', 'two'] }, // t15: a square of a signed value
    { op: 'Mul', inputs: ['t14', 't15'] }, // t16: two activations of equal shape
    { op: 'Sub', inputs: ['t16', 't0'] },
  ],
  {
    bias: { dims: [3, 1, 1], floats: floats(3) },
    scale: { dims: [5], floats: floats(5) },
    shift: { dims: [1, 4, 1], floats: floats(4) },
    denominator: { dims: [3, 4, 5], floats: floats(60, 0.5, 2) },
    floor: { dims: [1], floats: [-0.5] },
    ceiling: { dims: [4, 1], floats: floats(4, 0.2, 1) },
    half: { dims: [], floats: [0.5] },
    exponent: { dims: [1], floats: [1.5] },
    two: { dims: [], floats: [2] },
  },
  [3, 4, 5],
);

// PRelu, Unsqueeze, ReduceMean, Expand, ReduceSum, Squeeze, Split, Tile, Slice (negative
// step), Concat: opset 13 (axes and split as constant inputs).
const SHAPES = onnxModel(
  13,
  [
    { op: 'PRelu', inputs: ['x', 'slope'] }, // t0 [N,6,4]
    { op: 'Unsqueeze', inputs: ['t0', 'axis1'] }, // [N,1,6,4]
    { op: 'ReduceMean', inputs: ['t1'], attrs: { axes: [-1], keepdims: 0 } }, // [N,1,6]
    { op: 'Expand', inputs: ['t2', 'expandTo'] }, // [N,3,6]
    { op: 'Mul', inputs: ['t3', 'rows'] }, // × [3,1]
    { op: 'ReduceSum', inputs: ['t4', 'axis1'], attrs: { keepdims: 1 } }, // [N,1,6]
    { op: 'Squeeze', inputs: ['t5', 'axis1'] }, // [N,6]
    { op: 'Split', inputs: ['t6', 'sizes'], outputs: ['s1', 's2'], attrs: { axis: 1 } }, // [N,2], [N,4]
    { op: 'Tile', inputs: ['s1', 'reps'] }, // [N,4]
    { op: 'Mul', inputs: ['t8', 's2'] },
    { op: 'Slice', inputs: ['t9', 'starts', 'ends', 'axis1', 'steps'] }, // indices 3, 1
    { op: 'Concat', inputs: ['t10', 's1', 't10'], attrs: { axis: 1 } }, // [N,6]
  ],
  {
    slope: { dims: [6, 1], floats: floats(6, 0.05, 0.5) },
    axis1: { dims: [1], ints: [1] },
    expandTo: { dims: [3], ints: [1, 3, 1] },
    rows: { dims: [3, 1], floats: floats(3) },
    sizes: { dims: [2], ints: [2, 4] },
    reps: { dims: [2], ints: [1, 2] },
    starts: { dims: [1], ints: [3] },
    ends: { dims: [1], ints: [-10] },
    steps: { dims: [1], ints: [-2] },
  },
  [6, 4],
);

describe('loadOnnx: elementwise and shape ops', () => {
  it("Add, Sub, Mul, Div, Pow, Max, Min, Sum (broadcast constants) and Neg, Exp, Log, Sqrt, Abs, Reciprocal give onnxruntime's outputs", async () => {
    const { model, ours, theirs, ourShape, theirShape } = await bothRuns(ARITHMETIC, [2, 3, 4, 5]);
    expect([...ourShape]).toEqual([...theirShape]);
    expectMatch(ours, theirs);
    model.dispose();
  });

  it("PRelu, Unsqueeze, ReduceMean, Expand, ReduceSum, Squeeze, Split, Tile, Slice give onnxruntime's outputs", async () => {
    const { model, ours, theirs, ourShape, theirShape } = await bothRuns(SHAPES, [3, 6, 4]);
    expect([...ourShape]).toEqual([3, 6]);
    expect([...theirShape]).toEqual([3, 6]);
    expectMatch(ours, theirs);
    model.dispose();
  });
});
