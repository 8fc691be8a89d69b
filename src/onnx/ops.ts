// ONNX operators kdgpu maps onto its own ops (each with a gradient rule, so attacks and
// distillation work through imported teachers). Every check runs at load time: a node kdgpu
// cannot run exactly fails there, naming the node, never at run time.
import type { AnyTensor } from '../graph/apply.js';
import type { Shape } from '../graph/tensor.js';
import { clip, elu, hardSigmoid, hardSwish, leakyRelu, selu, sigmoid, softplus, softsign, tanh } from '../ops/activations.js';
import { relu, reshape } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { concat, transpose } from '../ops/layout.js';
import { globalAvgPool } from '../ops/pooling.js';
import { logSoftmax, softmax } from '../ops/softmax.js';
import type { AttributeValue, OnnxNode, OnnxTensor } from './decode.js';
import { ONNX_ELEMENTWISE_OPS } from './ops-elementwise.js';
import { blockedLinear, WINDOW_OPS } from './ops-window.js';

/** What an op sees: per-sample shapes of activations (batch excluded), constants by name. */
export interface OpContext {
  constant(name: string): OnnxTensor | undefined;
  /** The model's default-domain opset. */
  opset: number;
}

/** What an op gets when it runs. */
export interface RunContext<T extends AnyTensor> {
  /** The GPU tensor made at build time for the node's constant input `index`. */
  weight(index: number): T;
  /**
   * Rows `start .. start + count − 1` (along axis 0) of the node's constant input `index` as
   * their own GPU tensor, made once and kept (a grouped convolution's per-group weights).
   */
  weightRows(index: number, start: number, count: number): T;
  /**
   * The node's constant input `index` as column blocks [rows, width] in order, when it was
   * too large for one GPU tensor (a Gemm weight over the binding limit); otherwise undefined.
   */
  weightColumns(index: number): T[] | undefined;
  /** A GPU vector of `length` zeros (a missing bias). */
  zeros(length: number): T;
  /** Whether the node's input `index` is a constant. */
  isConstant(index: number): boolean;
  /** A constant of the graph by name (initializers and Constant nodes). */
  constant(name: string): OnnxTensor | undefined;
  batch: number;
  opset: number;
  /** The node's per-sample output shape, inferred at load. */
  outputShape: Shape;
  /** Apply ReLU to the output in the same kernel (a Conv/Gemm/MatMul whose only reader is a Relu). */
  relu?: boolean;
}

export interface OnnxOp {
  /** Why this node cannot run here (unsupported attribute values), or undefined. */
  check(node: OnnxNode, c: OpContext): string | undefined;
  /** Per-sample output shape from the activations' per-sample shapes (constants are not activations). */
  shape(node: OnnxNode, inputs: Shape[], c: OpContext): Shape;
  /** The output for a batch: `x` holds the node's activation inputs in order. */
  apply<T extends AnyTensor>(node: OnnxNode, x: T[], run: RunContext<T>): T;
  /** Transforms constant input i before it goes to the GPU (e.g. transposed Gemm weights). */
  prepare?(node: OnnxNode, input: number, tensor: OnnxTensor): { dims: number[]; floats: Float32Array };
}

const ints = (node: OnnxNode, name: string): number[] | undefined => node.attributes.get(name) as number[] | undefined;
const int = (node: OnnxNode, name: string, fallback: number): number => (node.attributes.get(name) as number | undefined) ?? fallback;
const float = (node: OnnxNode, name: string, fallback: number): number => (node.attributes.get(name) as number | undefined) ?? fallback;
const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// Conv, MaxPool and AveragePool (1-D and 2-D windows) live in ops-window.ts.

const gemm: OnnxOp = {
  check(node, c) {
    if (int(node, 'transA', 0) !== 0) return 'transA 1 (A is the batch of activations: transposing it would move the batch axis)';
    const b = c.constant(node.inputs[1]!);
    if (!b?.floats || b.dims.length !== 2) return 'a B input that is not a constant 2-D float tensor';
    const bias = node.inputs[2] ? c.constant(node.inputs[2]) : undefined;
    if (node.inputs[2] && !bias?.floats) return 'a C input that is not a constant';
    return undefined;
  },
  shape(node, [x], c) {
    if (x!.length !== 1) throw new Error(`input of rank ${x!.length + 1}; Gemm needs a matrix [batch, features]`);
    const b = c.constant(node.inputs[1]!)!;
    return [int(node, 'transB', 0) ? b.dims[0]! : b.dims[1]!];
  },
  prepare(node, input, tensor) {
    // kdgpu's linear takes W as [in, out]: transpose a transB weight, fold alpha and beta in.
    const alpha = float(node, 'alpha', 1);
    if (input === 2) {
      const beta = float(node, 'beta', 1);
      return { dims: tensor.dims, floats: tensor.floats!.map((v) => v * beta) };
    }
    const [rows, cols] = tensor.dims as [number, number];
    if (!int(node, 'transB', 0)) return { dims: [rows, cols], floats: tensor.floats!.map((v) => v * alpha) };
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = tensor.floats![r * cols + k]! * alpha;
    return { dims: [cols, rows], floats: out };
  },
  apply(node, [x], run) {
    const bias = node.inputs[2] ? run.weight(2) : run.zeros(run.outputShape[0]!);
    const blocks = run.weightColumns(1);
    return blocks ? blockedLinear(x!, blocks, bias, run.relu) : linear(x!, run.weight(1), bias, { relu: run.relu });
  },
};

const matMul: OnnxOp = {
  check(node, c) {
    const b = c.constant(node.inputs[1]!);
    return b?.floats && b.dims.length === 2 ? undefined : 'a second input that is not a constant 2-D float tensor';
  },
  shape(_node, [x], c) {
    if (x!.length !== 1) throw new Error(`input of rank ${x!.length + 1}; MatMul is supported for matrices [batch, features]`);
    return [c.constant(_node.inputs[1]!)!.dims[1]!];
  },
  apply(_node, [x], run) {
    return linear(x!, run.weight(1), run.zeros(run.outputShape[0]!), { relu: run.relu });
  },
};


const passThrough: OnnxOp = {
  check: () => undefined,
  shape: (_node, [x]) => x!,
  apply: (_node, [x]) => x!,
};


function reshapeTarget(node: OnnxNode, input: Shape, c: OpContext): Shape {
  const spec = c.constant(node.inputs[1]!)!.ints!;
  const sample = product(input);
  // The first entry is the batch (0 = copy, -1 or the exported batch size); the rest are per sample.
  const rest = spec.slice(1).map((d, i) => (d === 0 ? input[i]! : d));
  const known = product(rest.filter((d) => d !== -1));
  const resolved = rest.map((d) => (d === -1 ? sample / known : d));
  if (product(resolved) !== sample || resolved.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new Error(`Reshape to [${spec}] does not fit a sample of shape [${input}]`);
  }
  return resolved;
}

/** A pointwise op: same shape out, nothing to check unless `check` says so. */
function pointwise(run: <T extends AnyTensor>(x: T, node: OnnxNode, c: RunContext<T>) => T, check: OnnxOp['check'] = () => undefined): OnnxOp {
  return { check, shape: (_n, [x]) => x!, apply: (node, [x], c) => run(x!, node, c) };
}

/** Clip's bounds: attributes before opset 11, optional constant inputs 1 and 2 after. */
function clipBounds(node: OnnxNode, constant: (name: string) => OnnxTensor | undefined): [number, number] {
  const bound = (index: number, attribute: string, fallback: number) => {
    const name = node.inputs[index];
    if (name) return constant(name)?.floats?.[0] ?? NaN;
    return float(node, attribute, fallback);
  };
  return [bound(1, 'min', -Infinity), bound(2, 'max', Infinity)];
}

/**
 * Softmax/LogSoftmax rows: opset ≥ 13 normalises along `axis` (default −1), which kdgpu runs
 * when it is the last axis; before 13 the input is coerced to 2-D at `axis` (default 1), so a
 * row is every element from `axis` on. Returns the row length for a per-sample shape.
 */
function softmaxRow(node: OnnxNode, sample: Shape, opset: number): number {
  const rank = sample.length + 1;
  const axis = int(node, 'axis', opset >= 13 ? -1 : 1);
  const positive = axis < 0 ? axis + rank : axis;
  if (positive <= 0 || positive >= rank) throw new Error(`axis ${axis} on a rank-${rank} input (the batch axis cannot be normalised)`);
  if (opset >= 13 && positive !== rank - 1) throw new Error(`axis ${axis} on a rank-${rank} input (opset ${opset}: only the last axis)`);
  return product(sample.slice(positive - 1));
}

function softmaxOp(log: boolean): OnnxOp {
  return {
    check: () => undefined,
    shape(node, [x], c) {
      softmaxRow(node, x!, c.opset);
      return x!;
    },
    apply: (node, [x], run) => (log ? logSoftmax : softmax)(x!, softmaxRow(node, run.outputShape, run.opset)),
  };
}

export const ONNX_OPS: Record<string, OnnxOp> = {
  Transpose: {
    check: () => undefined,
    shape(node, [x]) {
      const rank = x!.length + 1;
      const perm = ints(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
      if (perm[0] !== 0) throw new Error(`perm [${perm}] moves the batch axis (only per-sample permutations)`);
      if (perm.length !== rank) throw new Error(`perm [${perm}] for a rank-${rank} input`);
      return perm.slice(1).map((p) => x![p - 1]!);
    },
    apply: (node, [x]) => transpose(x!, ints(node, 'perm') ?? []),
  },
  Concat: {
    check: (node, c) => (node.inputs.some((name) => c.constant(name)) ? 'constant operands (only computed tensors are joined)' : undefined),
    shape(node, inputs) {
      const rank = inputs[0]!.length + 1;
      const axis = int(node, 'axis', 1);
      const positive = axis < 0 ? axis + rank : axis;
      if (positive < 1 || positive >= rank) throw new Error(`axis ${axis} on rank-${rank} inputs (the batch axis cannot be joined)`);
      const out = [...inputs[0]!];
      for (const s of inputs.slice(1)) {
        if (s.length !== out.length || s.some((d, i) => i !== positive - 1 && d !== out[i])) throw new Error(`inputs [${inputs[0]}] and [${s}] differ outside axis ${axis}`);
        out[positive - 1]! += s[positive - 1]!;
      }
      return out;
    },
    apply(node, x, run) {
      const axis = int(node, 'axis', 1);
      return concat(x, axis < 0 ? axis + run.outputShape.length + 1 : axis);
    },
  },
  Softmax: softmaxOp(false),
  LogSoftmax: softmaxOp(true),
  Sigmoid: pointwise((x) => sigmoid(x)),
  Tanh: pointwise((x) => tanh(x)),
  LeakyRelu: pointwise((x, node) => leakyRelu(x, float(node, 'alpha', 0.01))),
  Elu: pointwise((x, node) => elu(x, float(node, 'alpha', 1))),
  Selu: pointwise(
    (x) => selu(x),
    (node) => (Math.abs(float(node, 'alpha', 1.67326319217681884765625) - 1.6732632) > 1e-6 || Math.abs(float(node, 'gamma', 1.05070102214813232421875) - 1.0507010) > 1e-6 ? 'alpha or gamma other than the defaults' : undefined),
  ),
  Softplus: pointwise((x) => softplus(x)),
  Softsign: pointwise((x) => softsign(x)),
  HardSigmoid: pointwise((x, node) => hardSigmoid(x, float(node, 'alpha', 0.2), float(node, 'beta', 0.5))),
  HardSwish: pointwise((x) => hardSwish(x)),
  Clip: {
    check(node, c) {
      const [min, max] = clipBounds(node, c.constant);
      if (Number.isNaN(min) || Number.isNaN(max)) return 'min or max inputs that are not constants';
      return min > max ? `min ${min} > max ${max}` : undefined;
    },
    shape: (_n, [x]) => x!,
    apply: (node, [x], run) => clip(x!, ...clipBounds(node, run.constant)),
  },
  Gemm: gemm,
  MatMul: matMul,
  Relu: { check: () => undefined, shape: (_n, [x]) => x!, apply: (_n, [x]) => relu(x!) },
  GlobalAveragePool: {
    check: () => undefined,
    shape: (_n, [x]) => [x![0]!, 1, 1],
    apply: (_n, [x], run) => reshape(globalAvgPool(x!), [run.batch, ...run.outputShape]),
  },
  Flatten: {
    check: (node) => (int(node, 'axis', 1) === 1 ? undefined : `axis ${int(node, 'axis', 1)} (only 1)`),
    shape: (_n, [x]) => [product(x!)],
    apply: (_n, [x], run) => reshape(x!, [run.batch, ...run.outputShape]),
  },
  Reshape: {
    check: (node, c) => (c.constant(node.inputs[1]!)?.ints ? undefined : 'a shape that is not a constant'),
    shape: (node, [x], c) => reshapeTarget(node, x!, c),
    apply: (_n, [x], run) => reshape(x!, [run.batch, ...run.outputShape]),
  },
  ...ONNX_ELEMENTWISE_OPS,
  // Inference: the identity. A node reading its mask output fails at load (nothing computes it).
  Dropout: passThrough,
  Identity: passThrough,
  // Window ops (ops-window.ts): Conv, ConvTranspose, MaxPool, AveragePool, Pad (constant,
  // reflect, edge), LRN, BatchNormalization (1-D to 3-D maps).
  ...WINDOW_OPS,
};

/** The op types the importer maps, for messages and the README. */
export const SUPPORTED_ONNX_OPS = [...Object.keys(ONNX_OPS), 'Constant', 'ConstantOfShape'].sort();

export type { AttributeValue };
