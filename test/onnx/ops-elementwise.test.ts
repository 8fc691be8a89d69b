// ONNX import of the elementwise, broadcasting, reduction and shape ops
// (src/onnx/ops-elementwise.ts): small models built here with the ONNX schema must give
// onnxruntime's outputs (max |Δ| ≤ 1e-5 + 1e-5·|expected|: f32 kernels against onnxruntime's
// f32 CPU kernels, a few roundings apart), pass input gradients (finite differences, atol and
// rtol 1e-2 as elsewhere), and unsupported attribute values fail at load naming node, op and
// opset.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadOnnx, onnxTypes, Random, type SymbolicTensor, Tensor } from '../../src/index.js';
import { ONNX_ATTRIBUTE, ONNX_DTYPE } from '../../src/onnx/schema.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { randomArray } from '../support/reference.js';

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

/** An ONNX model: one input [batch, ...inputShape] named 'x' (float unless `inputType`), output 'y'. */
function onnxModel(opset: number, nodes: NodeSpec[], constants: Record<string, ConstSpec>, inputShape: number[], inputType: number = ONNX_DTYPE.FLOAT): Uint8Array {
  const initializer = Object.entries(constants).map(([name, c]) =>
    c.ints
      ? { name, dims: c.dims, data_type: ONNX_DTYPE.INT64, int64_data: c.ints }
      : { name, dims: c.dims, data_type: ONNX_DTYPE.FLOAT, raw_data: new Uint8Array(Float32Array.from(c.floats!).buffer) },
  );
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: inputType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
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
      input: [valueInfo('x', ['batch', ...inputShape])],
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

// Gather of computed data at constant indices: a scalar index (drops the axis), an even
// progression (one strided slice) and a 2-D index tensor (one slice per index).
const GATHER = onnxModel(
  13,
  [
    { op: 'Gather', inputs: ['x', 'two'], attrs: { axis: 1 } }, // t0 [N,5]
    { op: 'Gather', inputs: ['x', 'pairs'], attrs: { axis: 2 } }, // t1 [N,4,2,2]
    { op: 'Gather', inputs: ['t0', 'backwards'], attrs: { axis: -1 } }, // t2 [N,2]
    { op: 'ReduceSum', inputs: ['t1', 'axes23'], attrs: { keepdims: 0 } }, // [N,4]
    { op: 'Concat', inputs: ['t3', 't2'], attrs: { axis: 1 } }, // [N,6]
  ],
  {
    two: { dims: [], ints: [2] },
    pairs: { dims: [2, 2], ints: [0, 3, -1, 1] },
    backwards: { dims: [2], ints: [3, 1] },
    axes23: { dims: [2], ints: [2, 3] },
  },
  [4, 5],
);

describe('loadOnnx: Gather at constant indices', () => {
  it("gives onnxruntime's outputs and input gradients that match finite differences", async () => {
    const { model, ours, theirs, ourShape } = await bothRuns(GATHER, [3, 4, 5]);
    expect([...ourShape]).toEqual([3, 6]);
    expectMatch(ours, theirs);
    await checkGradients(gpu(), ([x]) => model.call(x as SymbolicTensor, { training: false }), [{ name: 'x', shape: [3, 4, 5], data: randomArray(random, 60) }], { samples: 12 });
    model.dispose();
  });

  it("of a constant table at computed indices (an embedding lookup) gives onnxruntime's outputs", async () => {
    const table = floats(20);
    const bytes = onnxModel(13, [{ op: 'Gather', inputs: ['table', 'x'] }], { table: { dims: [5, 2, 2], floats: table } }, [3], ONNX_DTYPE.INT64);
    const ids = [4, 0, -1, 2, 2, 1];
    const model = await loadOnnx(gpu(), bytes, { inputShape: [3] });
    const x = Tensor.from(gpu(), Float32Array.from(ids), [2, 3]);
    const y = model.call(x, { training: false });
    expect(y.shape).toEqual([2, 3, 2, 2]);
    const session = await ort.InferenceSession.create(bytes);
    const theirs = (await session.run({ x: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [2, 3]) })).y!.data as Float32Array;
    expectMatch(await y.read(), theirs);
    for (const t of [x, y]) t.dispose();
    model.dispose();
    const axis1 = onnxModel(13, [{ op: 'Gather', inputs: ['table', 'x'], attrs: { axis: 1 } }], { table: { dims: [5, 4], floats: floats(20) } }, [3]);
    await expect(loadOnnx(gpu(), axis1, { inputShape: [3] })).rejects.toThrow("node 'gather0' (Gather, opset 13) has axis 1 on a constant table (only 0: an embedding lookup)");
  });

  it('refuses the batch axis and indices out of range, naming node, op and opset', async () => {
    const batch = onnxModel(13, [{ op: 'Gather', inputs: ['x', 'i'] }], { i: { dims: [1], ints: [0] } }, [2]);
    await expect(loadOnnx(gpu(), batch, { inputShape: [2] })).rejects.toThrow("node 'gather0' (Gather, opset 13) on input [2]: axis 0 is the batch axis");
    const outside = onnxModel(13, [{ op: 'Gather', inputs: ['x', 'i'], attrs: { axis: 1 } }], { i: { dims: [1], ints: [-3] } }, [2]);
    await expect(loadOnnx(gpu(), outside, { inputShape: [2] })).rejects.toThrow('index -3 is outside axis 1 of extent 2');
  });
});

describe('loadOnnx: gradients through the imported ops', () => {
  it('input gradients of the arithmetic model match central finite differences', async () => {
    const model = await loadOnnx(gpu(), ARITHMETIC, { inputShape: [3, 4, 5] });
    await checkGradients(gpu(), ([x]) => model.call(x as SymbolicTensor, { training: false }), [{ name: 'x', shape: [2, 3, 4, 5], data: randomArray(random, 120) }], { samples: 12, eps: 1e-3 });
    model.dispose();
  });

  it('input gradients of the shape model (PRelu … Slice) match central finite differences', async () => {
    const model = await loadOnnx(gpu(), SHAPES, { inputShape: [6, 4] });
    await checkGradients(gpu(), ([x]) => model.call(x as SymbolicTensor, { training: false }), [{ name: 'x', shape: [3, 6, 4], data: randomArray(random, 72) }], { samples: 12, eps: 1e-3 });
    model.dispose();
  });
});

describe('loadOnnx: ops on constants run at load', () => {
  it("a batch norm decomposed into Unsqueeze, Add, Sqrt, Div, Mul on constants, and integer shape arithmetic, give onnxruntime's outputs", async () => {
    const variance = floats(3, 0.5, 2);
    const bytes = onnxModel(
      13,
      [
        { op: 'Add', inputs: ['variance', 'eps'] }, // t0, folded
        { op: 'Sqrt', inputs: ['t0'] }, // t1
        { op: 'Div', inputs: ['gamma', 't1'] }, // t2
        { op: 'Unsqueeze', inputs: ['t2', 'axes12'] }, // t3 [3,1,1]
        { op: 'Neg', inputs: ['t3'] }, // t4
        { op: 'Mul', inputs: ['x', 't4'] }, // t5: the first computed node
        { op: 'Add', inputs: ['t5', 'beta'] }, // [3,1,1]
        { op: 'Mul', inputs: ['shapeA', 'shapeB'] }, // t7 [-1, 12] (int64)
        { op: 'Reshape', inputs: ['t6', 't7'] },
      ],
      {
        variance: { dims: [3], floats: variance },
        eps: { dims: [], floats: [1e-5] },
        gamma: { dims: [3], floats: floats(3) },
        axes12: { dims: [2], ints: [1, 2] },
        beta: { dims: [3, 1, 1], floats: floats(3) },
        shapeA: { dims: [2], ints: [1, 3] },
        shapeB: { dims: [2], ints: [-1, 4] },
      },
      [3, 2, 2],
    );
    const { model, ours, theirs, ourShape } = await bothRuns(bytes, [2, 3, 2, 2]);
    expect([...ourShape]).toEqual([2, 12]);
    expectMatch(ours, theirs);
    // Folded nodes leave no kernels: the model's weights are the folded constants.
    expect(Object.keys(model.layers[0]!.parameters()).sort()).toEqual(['beta', 't4']);
    model.dispose();
  });
});

describe('loadOnnx: older opsets', () => {
  it("axes and split as attributes (opset 11) give onnxruntime's outputs; activations broadcast against each other", async () => {
    const bytes = onnxModel(
      11,
      [
        { op: 'Unsqueeze', inputs: ['x'], attrs: { axes: [1] } }, // [N,1,4,5]
        { op: 'ReduceSum', inputs: ['t0'], attrs: { axes: [-1], keepdims: 1 } }, // [N,1,4,1]
        { op: 'Squeeze', inputs: ['t1'], attrs: { axes: [1, 3] } }, // [N,4]
        { op: 'Split', inputs: ['t2'], outputs: ['s1', 's2'], attrs: { axis: -1, split: [1, 3] } }, // [N,1], [N,3]
        { op: 'Mul', inputs: ['s1', 's2'] }, // [N,1] · [N,3]
        { op: 'ReduceMean', inputs: ['x'], attrs: { axes: [1, 2], keepdims: 0 } }, // t5 [N]… rank 1
        { op: 'Unsqueeze', inputs: ['t5'], attrs: { axes: [-1] } }, // [N,1]
        { op: 'Sub', inputs: ['t4', 't6'] },
      ],
      {},
      [4, 5],
    );
    const { model, ours, theirs, ourShape } = await bothRuns(bytes, [2, 4, 5]);
    expect([...ourShape]).toEqual([2, 3]);
    expectMatch(ours, theirs);
    model.dispose();
  });

  it("Slice with attributes (opset 9) gives onnxruntime's outputs", async () => {
    const bytes = onnxModel(9, [{ op: 'Slice', inputs: ['x'], attrs: { starts: [0, 1, -3], ends: [2147483647, 3, 1000], axes: [0, 1, 2] } }], {}, [4, 5]);
    const { model, ours, theirs, ourShape } = await bothRuns(bytes, [2, 4, 5]);
    expect([...ourShape]).toEqual([2, 2, 3]);
    expectMatch(ours, theirs);
    model.dispose();
  });

  it('opset 6: Add with broadcast = 1 and axis lines a constant up from that axis; PRelu takes a [C] slope per channel', async () => {
    const bias = [0.5, -1, 2];
    const slope = [0.1, 0.2, 0.3];
    const bytes = onnxModel(
      6,
      [
        { op: 'Add', inputs: ['x', 'bias'], attrs: { broadcast: 1, axis: 1 } },
        { op: 'PRelu', inputs: ['t0', 'slope'] },
      ],
      { bias: { dims: [3], floats: bias }, slope: { dims: [3], floats: slope } },
      [3, 2],
    );
    const model = await loadOnnx(gpu(), bytes, { inputShape: [3, 2] });
    const input = randomArray(random, 12, -3, 3);
    const x = Tensor.from(gpu(), input, [2, 3, 2]);
    const y = model.call(x, { training: false });
    const channel = (i: number) => Math.floor(i / 2) % 3;
    const expected = Array.from(input, (v, i) => {
      const z = Math.fround(v + bias[channel(i)]!);
      return z >= 0 ? z : z * slope[channel(i)]!;
    });
    expectMatch(await y.read(), expected);
    for (const t of [x, y]) t.dispose();
    model.dispose();
  });
});

describe('loadOnnx: what the elementwise ops refuse, at load', () => {
  const refusal = async (bytes: Uint8Array, inputShape: number[], message: string) => {
    await expect(loadOnnx(gpu(), bytes, { inputShape, source: 'm.onnx' })).rejects.toThrow(message);
  };

  it('names node, op and opset for attribute values it cannot run', async () => {
    await refusal(onnxModel(13, [{ op: 'Add', inputs: ['x', 'k'] }], { k: { dims: [3], ints: [1, 2, 3] } }, [3]), [3], "m.onnx: cannot import 1 node(s):\n  node 'add0' (Add, opset 13) has an integer constant operand 'k' (only float constants)");
    await refusal(onnxModel(13, [{ op: 'ReduceSum', inputs: ['x', 'a'], attrs: { keepdims: 2 } }], { a: { dims: [1], ints: [1] } }, [3]), [3], "node 'reducesum0' (ReduceSum, opset 13) has keepdims 2");
    await refusal(onnxModel(13, [{ op: 'Slice', inputs: ['x', 'x', 'e'] }], { e: { dims: [1], ints: [2] } }, [3]), [3], "node 'slice0' (Slice, opset 13) has starts, ends, axes or steps that are not constants");
    await refusal(onnxModel(13, [{ op: 'Unsqueeze', inputs: ['x'] }], {}, [3]), [3], "node 'unsqueeze0' (Unsqueeze, opset 13) has no axes");
    await refusal(onnxModel(13, [{ op: 'Sqrt', inputs: ['k'] }, { op: 'Add', inputs: ['x', 't0'] }], { k: { dims: [1], ints: [4] } }, [3]), [3], "node 'sqrt0' (Sqrt, opset 13) has an integer constant input (only float constants)");
    await refusal(onnxModel(13, [{ op: 'Unsqueeze', inputs: ['k', 'a'] }, { op: 'Add', inputs: ['x', 't0'] }], { k: { dims: [3], floats: [1, 2, 3] }, a: { dims: [1], ints: [3] } }, [3]), [3], "node 'unsqueeze0' (Unsqueeze, opset 13) has axes [3] outside a rank-2 constant");
  });

  it('names node, op, opset and shapes for shapes it cannot run, batch axis included', async () => {
    const cases: [Uint8Array, number[], string][] = [
      [onnxModel(13, [{ op: 'Mul', inputs: ['x', 'k'] }], { k: { dims: [4], floats: floats(4) } }, [3]), [3], "node 'mul0' (Mul, opset 13) on input [3]: Mul: shapes [3] and [4] do not broadcast (axis -1 has 3 and 4; extents must be equal or 1)"],
      [onnxModel(13, [{ op: 'Sub', inputs: ['x', 'k'] }], { k: { dims: [1, 1, 3], floats: floats(3) } }, [3]), [3], 'a constant of shape [1, 1, 3] has more axes than the rank-2 activations (it would move the batch axis)'],
      [onnxModel(13, [{ op: 'Squeeze', inputs: ['x', 'a'] }], { a: { dims: [1], ints: [0] } }, [1, 3]), [1, 3], "node 'squeeze0' (Squeeze, opset 13) on input [1, 3]: axis 0 is the batch axis (kdgpu runs any batch size: only per-sample axes)"],
      [onnxModel(13, [{ op: 'Squeeze', inputs: ['x', 'a'] }], { a: { dims: [1], ints: [2] } }, [1, 3]), [1, 3], 'axis 2 has extent 3 (only extent-1 axes can be squeezed)'],
      [onnxModel(13, [{ op: 'ReduceSum', inputs: ['x'] }], {}, [3]), [3], 'no axes, so every axis is reduced, the batch axis too (only per-sample axes)'],
      [onnxModel(11, [{ op: 'ReduceMean', inputs: ['x'], attrs: { axes: [3] } }], {}, [3, 2]), [3, 2], 'axis 3 is outside a rank-3 tensor'],
      [onnxModel(13, [{ op: 'Tile', inputs: ['x', 'r'] }], { r: { dims: [2], ints: [2, 1] } }, [3]), [3], 'repeats [2,1] repeat the batch axis (only per-sample axes)'],
      [onnxModel(13, [{ op: 'Expand', inputs: ['x', 's'] }], { s: { dims: [3], ints: [2, 1, 3] } }, [3]), [3], 'a constant of shape [2, 1, 3] has more axes than the rank-2 activations'],
      [onnxModel(13, [{ op: 'Slice', inputs: ['x', 's', 'e', 'a'] }], { s: { dims: [1], ints: [1] }, e: { dims: [1], ints: [2] }, a: { dims: [1], ints: [0] } }, [3]), [3], 'starts 1, ends 2, steps 1 on the batch axis (only the whole batch)'],
      [onnxModel(13, [{ op: 'Slice', inputs: ['x', 's', 'e'] }], { s: { dims: [1], ints: [2] }, e: { dims: [1], ints: [1] } }, [3]), [3], 'starts 2, ends 1, steps 1 on the batch axis (only the whole batch)'],
      [onnxModel(11, [{ op: 'Split', inputs: ['x'], outputs: ['a', 'y'], attrs: { axis: 1, split: [1, 1] } }], {}, [3]), [3], 'split [1,1] into 2 outputs does not cut an axis of 3 into non-empty parts'],
      [onnxModel(13, [{ op: 'PRelu', inputs: ['x', 'k'] }], { k: { dims: [2, 3], floats: floats(6) } }, [1, 3]), [1, 3], 'a slope of shape [2, 3] that does not broadcast to the input without growing it'],
    ];
    for (const [bytes, shape, message] of cases) await refusal(bytes, shape, message);
  });

  it('a constant with the batch size baked into its first axis runs at that batch only', async () => {
    const bytes = onnxModel(13, [{ op: 'Add', inputs: ['x', 'k'] }], { k: { dims: [2, 3], floats: floats(6) } }, [3]);
    const model = await loadOnnx(gpu(), bytes, { inputShape: [3] });
    const x2 = Tensor.from(gpu(), randomArray(random, 6), [2, 3]);
    const y2 = model.call(x2, { training: false });
    expect(y2.shape).toEqual([2, 3]);
    const x4 = Tensor.from(gpu(), randomArray(random, 12), [4, 3]);
    expect(() => model.call(x4, { training: false })).toThrow("node 'add0' (Add): constant 'k' [2, 3] has 2 entries along the batch axis, so the model runs with batch 2 only (got 4)");
    for (const t of [x2, y2, x4]) t.dispose();
    model.dispose();
  });
});

describe('loadOnnx: fixedInputs', () => {
  it('gives a second graph input a value fixed at load; unknown names and missing values fail naming them', async () => {
    const message = onnxTypes.ModelProto.fromObject({
      ir_version: 7,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'two-inputs',
        node: [{ op_type: 'Div', name: 'div', input: ['x', 'd'], output: ['y'] }],
        input: ['x', 'd'].map((name, k) => ({ name, type: { tensor_type: { elem_type: ONNX_DTYPE.FLOAT, shape: { dim: (k === 0 ? [2, 3] : [3]).map((d) => ({ dim_value: d })) } } } })),
        output: [{ name: 'y' }],
      },
    });
    const bytes = onnxTypes.ModelProto.encode(message).finish();
    const d = Float32Array.from([2, -4, 8]);
    const model = await loadOnnx(gpu(), bytes, { fixedInputs: { d: { dims: [3], floats: d } } });
    const x = Tensor.from(gpu(), Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const y = model.call(x, { training: false });
    expect(Array.from(await y.read())).toEqual([0.5, -0.5, 0.375, 2, -1.25, 0.75]);
    for (const t of [x, y]) t.dispose();
    model.dispose();
    await expect(loadOnnx(gpu(), bytes, { source: 'two.onnx' })).rejects.toThrow('two.onnx: the graph has 2 inputs (x, d); kdgpu imports models with one image input (give the others values with fixedInputs)');
    await expect(loadOnnx(gpu(), bytes, { source: 'two.onnx', fixedInputs: { e: { dims: [1], floats: d } } })).rejects.toThrow("two.onnx: fixedInputs names 'e', which is not an input of the graph (inputs: x, d)");
  });
});
