// An imported ONNX graph as one kdgpu layer: its DAG runs with kdgpu ops in topological
// order, so a Sequential wrapping it works wherever a kdgpu model does (teacher, attack
// target, evaluate), gradients included.
import type { GpuContext } from '../gpu/context.js';
import type { AnyTensor } from '../graph/apply.js';
import { formatShape, type Shape, Tensor } from '../graph/tensor.js';
import { Layer } from '../nn/layer.js';
import type { OnnxGraphData, OnnxNode, OnnxTensor } from './decode.js';
import { ONNX_OPS, type OpContext, SUPPORTED_ONNX_OPS } from './ops.js';
import { canFold, isMultiOutput } from './ops-elementwise.js';

interface PlannedNode {
  node: OnnxNode;
  /** Indices (into node.inputs) of the activation inputs, in order. */
  activations: number[];
  outputShape: Shape;
  /** A Relu that alone reads this Conv/Gemm/MatMul's output: fused into its kernel unless that output is tapped. */
  relu?: OnnxNode;
}

/** Ops whose kernels can apply a ReLU to their output (RunContext.relu). */
const RELU_FUSING_OPS = new Set(['Conv', 'Gemm', 'MatMul']);

/**
 * The ONNX graph of one model as a layer. Construction checks every node (op type and
 * attributes) and fails naming the first node kdgpu cannot run; shapes are inferred when the
 * model is built for its input shape.
 */
export class OnnxGraphLayer extends Layer {
  readonly kind = 'onnx';
  private readonly constants = new Map<string, OnnxTensor>();
  /** Nodes computed at load (Constant, ConstantOfShape, folded ops): their outputs are constants. */
  private readonly atLoad = new Set<OnnxNode>();
  private planned: PlannedNode[] = [];
  private weights = new Map<string, Tensor>();
  private zeros = new Map<number, Tensor>();
  private blocks = new Map<string, Tensor>();
  /** Gemm weights over the binding limit, as column blocks (weightColumns). */
  private columnBlocks = new Map<string, Tensor[]>();
  private ctx?: GpuContext;
  private readonly input: OnnxGraphData['inputs'][number];
  private readonly maxWeightBytes?: number;
  /** Values given with fixedInputs (exported as initializers). */
  private readonly fixed = new Map<string, OnnxTensor>();

  /**
   * `fixedInputs`: values for graph inputs other than the image input, fixed for the
   * layer's life (they act as constants: no gradient flows into them). `maxWeightBytes`: the
   * largest weight kept as one GPU tensor (default: the device's maxStorageBufferBindingSize);
   * a larger Gemm weight is split into column blocks.
   */
  constructor(
    private readonly graph: OnnxGraphData,
    name = 'onnx',
    options: { fixedInputs?: Readonly<Record<string, Pick<OnnxTensor, 'dims' | 'floats' | 'ints'>>>; maxWeightBytes?: number } = {},
  ) {
    super(name);
    for (const [key, tensor] of graph.initializers) this.constants.set(key, tensor);
    this.maxWeightBytes = options.maxWeightBytes;
    for (const [key, tensor] of Object.entries(options.fixedInputs ?? {})) {
      if (!graph.inputs.some((i) => i.name === key)) throw new Error(`${graph.source}: fixedInputs names '${key}', which is not an input of the graph (inputs: ${graph.inputs.map((i) => i.name).join(', ')})`);
      this.constants.set(key, { ...tensor, name: key });
      this.fixed.set(key, { ...tensor, name: key });
    }
    if (graph.outputs.length !== 1) throw new Error(`${graph.source}: the graph has ${graph.outputs.length} outputs; kdgpu imports models with one output (the logits)`);
    const unsupported: string[] = [];
    for (const node of graph.nodes) {
      if (node.opType === 'Constant' || node.opType === 'ConstantOfShape' || this.foldsReshape(node)) {
        this.atLoad.add(node);
        const problem = this.addConstant(node);
        if (problem) unsupported.push(`node '${node.name}' (${node.opType}) ${problem}`);
        continue;
      }
      const op = ONNX_OPS[node.opType];
      if (!op) {
        unsupported.push(`node '${node.name}': op ${node.opType} is not supported (opset ${graph.opset}); kdgpu imports ${SUPPORTED_ONNX_OPS.join(', ')}`);
        continue;
      }
      // Every input a constant: ops that can, run now and their output is a constant too.
      if (canFold(op) && node.inputs.every((name) => name === '' || this.constants.has(name))) {
        const folded = op.fold(node, this.opContext());
        if (typeof folded === 'string') unsupported.push(`node '${node.name}' (${node.opType}, opset ${graph.opset}) has ${folded}`);
        else this.constants.set(node.outputs[0]!, { ...folded, name: node.outputs[0]! });
        this.atLoad.add(node);
        continue;
      }
      const problem = op.check(node, this.opContext());
      if (problem) unsupported.push(`node '${node.name}' (${node.opType}, opset ${graph.opset}) has ${problem}`);
    }
    if (unsupported.length > 0) throw new Error(`${graph.source}: cannot import ${unsupported.length} node(s):\n  ${unsupported.join('\n  ')}`);
    // Older exporters also list weights (initializers, constant nodes) as graph inputs.
    this.input = graph.inputs.find((i) => !this.constants.has(i.name))!;
    const inputs = graph.inputs.filter((i) => !this.constants.has(i.name));
    if (inputs.length !== 1) throw new Error(`${graph.source}: the graph has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); kdgpu imports models with one image input (give the others values with fixedInputs)`);
  }

  /** A Reshape of a constant float tensor by a constant shape (Inception v1's classifier weight). */
  private foldsReshape(node: OnnxNode): boolean {
    if (node.opType !== 'Reshape') return false;
    const data = this.constants.get(node.inputs[0]!);
    return Boolean(data?.floats && this.constants.get(node.inputs[1]!)?.ints);
  }

  /** Constant, ConstantOfShape (with a constant shape) and Reshape of a constant become constants at load. */
  private addConstant(node: OnnxNode): string | undefined {
    if (node.opType === 'Reshape') {
      const data = this.constants.get(node.inputs[0]!)!;
      const spec = this.constants.get(node.inputs[1]!)!.ints!;
      const count = data.dims.reduce((a, b) => a * b, 1);
      // 0 copies the input's dim (allowzero is not supported), −1 takes what is left.
      const dims = spec.map((d, i) => (d === 0 ? data.dims[i]! : d));
      const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const resolved = dims.map((d) => (d === -1 ? count / known : d));
      if (node.attributes.get('allowzero')) return 'has allowzero 1 on a constant (only 0)';
      if (dims.filter((d) => d === -1).length > 1 || resolved.reduce((a, b) => a * b, 1) !== count || resolved.some((d) => !Number.isInteger(d) || d < 0)) {
        return `has a constant of shape [${data.dims}] reshaped to [${spec}], which does not fit`;
      }
      this.constants.set(node.outputs[0]!, { name: node.outputs[0]!, dims: resolved, floats: data.floats });
      return undefined;
    }
    const value = node.attributes.get('value');
    const tensor = typeof value === 'object' && !Array.isArray(value) ? value : undefined;
    if (node.opType === 'Constant') {
      if (!tensor) return "has no tensor 'value' (only tensor constants are supported)";
      this.constants.set(node.outputs[0]!, { ...tensor, name: node.outputs[0]! });
      return undefined;
    }
    const shape = this.constants.get(node.inputs[0]!)?.ints;
    if (!shape) return 'has a shape that is not a constant';
    const fill = tensor?.floats?.[0] ?? tensor?.ints?.[0] ?? 0;
    const count = shape.reduce((a, b) => a * b, 1);
    const filled = tensor?.ints ? { ints: new Array<number>(count).fill(fill) } : { floats: new Float32Array(count).fill(fill) };
    this.constants.set(node.outputs[0]!, { name: node.outputs[0]!, dims: shape, ...filled });
    return undefined;
  }

  /**
   * The imported graph as ONNX again, for saveOnnx: its opset, its nodes and initializers as
   * they were read (the weights are frozen, so they are unchanged), the values given with
   * fixedInputs as initializers, and the names of its image input and output.
   */
  exportGraph(): { opset: number; nodes: Record<string, unknown>[]; initializers: Record<string, unknown>[]; fixed: OnnxTensor[]; input: string; output: string } {
    return { opset: this.graph.opset, nodes: this.graph.proto.nodes, initializers: this.graph.proto.initializers, fixed: [...this.fixed.values()], input: this.inputName, output: this.graph.outputs[0]! };
  }

  /** Name of the graph's input, e.g. 'input'. */
  get inputName(): string {
    return this.input.name;
  }

  /** The per-sample input shape the file declares, when all its dims are fixed. */
  get declaredInputShape(): Shape | undefined {
    const dims = this.input.dims.slice(1);
    return dims.every((d): d is number => d !== undefined) && dims.length > 0 ? dims : undefined;
  }

  private opContext(): OpContext {
    return { constant: (name) => this.constants.get(name), opset: this.graph.opset };
  }

  outputShape(input: Shape): Shape {
    const shapes = new Map<string, Shape>([[this.inputName, input]]);
    this.planned = [];
    for (const node of this.graph.nodes) {
      if (this.atLoad.has(node)) continue;
      const activations = node.inputs.map((name, i) => (name !== '' && !this.constants.has(name) ? i : -1)).filter((i) => i >= 0);
      const inputs = activations.map((i) => {
        const shape = shapes.get(node.inputs[i]!);
        if (!shape) throw new Error(`${this.graph.source}: node '${node.name}' reads '${node.inputs[i]}', which no earlier node computes (the graph is not in topological order or is damaged)`);
        return shape;
      });
      let outputShapes: Shape[];
      try {
        const op = ONNX_OPS[node.opType]!;
        outputShapes = isMultiOutput(op) ? op.outputShapes(node, inputs, this.opContext()) : [op.shape(node, inputs, this.opContext())];
      } catch (error) {
        throw new Error(`${this.graph.source}: node '${node.name}' (${node.opType}, opset ${this.graph.opset}) on input ${inputs.map(formatShape).join(', ')}: ${(error as Error).message}`);
      }
      outputShapes.forEach((shape, k) => node.outputs[k] && shapes.set(node.outputs[k], shape));
      this.planned.push({ node, activations, outputShape: outputShapes[0]! });
    }
    const output = shapes.get(this.graph.outputs[0]!);
    if (!output) throw new Error(`${this.graph.source}: no node computes the graph output '${this.graph.outputs[0]}'`);
    this.valueShapes = shapes;
    this.planFusions();
    return output;
  }

  /** Per-sample shapes of every value the graph computes, by ONNX name (set by outputShape). */
  private valueShapes = new Map<string, Shape>();

  /** Marks each Conv/Gemm/MatMul whose output only a Relu reads (and that is not the graph output). */
  private planFusions(): void {
    const readers = new Map<string, OnnxNode[]>();
    for (const { node } of this.planned) for (const name of node.inputs) readers.set(name, [...(readers.get(name) ?? []), node]);
    for (const planned of this.planned) {
      const out = planned.node.outputs[0]!;
      const only = readers.get(out);
      if (RELU_FUSING_OPS.has(planned.node.opType) && only?.length === 1 && only[0]!.opType === 'Relu' && out !== this.graph.outputs[0]) planned.relu = only[0];
    }
  }

  /** The ONNX values (node outputs) a model can tap for feature distillation, with their per-sample shapes. */
  get values(): ReadonlyMap<string, Shape> {
    return this.valueShapes;
  }

  override innerTapNames(): string[] {
    return [...this.valueShapes.keys()].filter((name) => name !== this.inputName);
  }

  override innerShapeOf(name: string): Shape | undefined {
    return name === this.inputName ? undefined : this.valueShapes.get(name);
  }

  override build(ctx: GpuContext, input: Shape): void {
    this.ctx = ctx;
    if (this.planned.length === 0) this.outputShape(input);
    for (const { node } of this.planned) {
      node.inputs.forEach((name, i) => {
        const constant = this.constants.get(name);
        if (!constant?.floats || this.weights.has(this.weightKey(node, i)) || this.columnBlocks.has(this.weightKey(node, i))) return;
        const prepared = ONNX_OPS[node.opType]!.prepare?.(node, i, constant) ?? { dims: constant.dims, floats: constant.floats };
        const limit = this.maxWeightBytes ?? ctx.limits.maxStorageBufferBindingSize;
        if (node.opType === 'Gemm' && i === 1 && prepared.floats.length * 4 > limit) {
          this.columnBlocks.set(this.weightKey(node, i), splitColumns(ctx, node, prepared.dims as [number, number], prepared.floats, limit));
          return;
        }
        this.weights.set(this.weightKey(node, i), Tensor.from(ctx, prepared.floats, prepared.dims.length > 0 ? prepared.dims : [1]));
      });
    }
  }

  /** Weights are shared between nodes unless an op transforms them (then one copy per node). */
  private weightKey(node: OnnxNode, input: number): string {
    return ONNX_OPS[node.opType]!.prepare ? `${node.name}:${input}` : node.inputs[input]!;
  }

  forward<T extends AnyTensor>(x: T): T {
    return this.forwardWithTaps(x, []).output;
  }

  /**
   * Runs the graph once, returning its output and the ONNX values named in `taps`. A tapped
   * Conv/Gemm/MatMul output keeps its own tensor (its Relu is not fused then).
   */
  override forwardWithTaps<T extends AnyTensor>(x: T, taps: readonly string[]): { output: T; features: Record<string, T> } {
    if (!this.ctx) throw new Error(`ONNX model '${this.name}' is not built; call model.build(ctx, inputShape) first`);
    const values = new Map<string, T>([[this.inputName, x]]);
    const batch = x.shape[0]!;
    const tapped = new Set(taps);
    const fusedRelus = new Set<OnnxNode>();
    for (const { node, activations, outputShape, relu } of this.planned) {
      if (fusedRelus.has(node)) {
        values.set(node.outputs[0]!, values.get(node.inputs[0]!)!);
        continue;
      }
      const fuse = relu !== undefined && !tapped.has(node.outputs[0]!);
      if (fuse) fusedRelus.add(relu);
      const run = {
        relu: fuse,
        weight: (index: number) => this.weightOf(node, index) as AnyTensor as T,
        weightColumns: (index: number) => this.columnBlocks.get(this.weightKey(node, index)) as AnyTensor[] | undefined as T[] | undefined,
        weightRows: (index: number, start: number, count: number) => this.rowsOf(node, index, start, count) as AnyTensor as T,
        zeros: (length: number) => this.zerosOf(length) as AnyTensor as T,
        isConstant: (index: number) => this.constants.has(node.inputs[index]!),
        opset: this.graph.opset,
        constant: (name: string) => this.constants.get(name),
        batch,
        outputShape,
      };
      const op = ONNX_OPS[node.opType]!;
      const inputs = activations.map((i) => values.get(node.inputs[i]!)!);
      const outputs = isMultiOutput(op) ? op.applyOutputs(node, inputs, run) : [op.apply(node, inputs, run)];
      outputs.forEach((t, k) => node.outputs[k] && values.set(node.outputs[k], t));
    }
    const features: Record<string, T> = {};
    for (const name of taps) features[name] = values.get(name)!;
    return { output: values.get(this.graph.outputs[0]!)!, features };
  }

  private weightOf(node: OnnxNode, index: number): Tensor {
    const key = this.weightKey(node, index);
    if (this.columnBlocks.has(key)) throw new Error(`node '${node.name}' (${node.opType}): its input ${index} was split into column blocks (over the ${this.maxWeightBytes ?? this.ctx!.limits.maxStorageBufferBindingSize}-byte binding limit); read them with weightColumns`);
    return this.weights.get(key)!;
  }

  private rowsOf(node: OnnxNode, index: number, start: number, count: number): Tensor {
    const key = `${this.weightKey(node, index)}:${start}:${count}`;
    let block = this.blocks.get(key);
    if (!block) {
      const constant = this.constants.get(node.inputs[index]!)!;
      const row = constant.dims.slice(1).reduce((a, b) => a * b, 1);
      block = Tensor.from(this.ctx!, constant.floats!.slice(start * row, (start + count) * row), [count, ...constant.dims.slice(1)]);
      this.blocks.set(key, block);
    }
    return block;
  }

  private zerosOf(length: number): Tensor {
    let zeros = this.zeros.get(length);
    if (!zeros) this.zeros.set(length, (zeros = Tensor.from(this.ctx!, new Float32Array(length), [length])));
    return zeros;
  }

  /** The imported weights by their ONNX initializer names (frozen: a teacher is a constant). */
  override parameters(): Record<string, Tensor> {
    const blocks = [...this.columnBlocks].flatMap(([key, parts]) => parts.map((t, j) => [`${key}:columns${j}`, t] as const));
    return Object.fromEntries([...this.weights, ...blocks]);
  }

  override dispose(): void {
    super.dispose();
    for (const t of [...this.zeros.values(), ...this.blocks.values()]) t.dispose();
    this.zeros.clear();
    this.blocks.clear();
    this.columnBlocks.clear();
  }
}

/**
 * A [rows, columns] weight over the binding limit as GPU tensors of whole columns, each within
 * `limit` bytes (a multiple of 4 columns where possible, for the GEMM's vector loads). VGG's
 * fc6 ([25088, 4096], 392 MiB) becomes four blocks under a 128 MiB limit.
 */
function splitColumns(ctx: GpuContext, node: OnnxNode, [rows, columns]: [number, number], floats: Float32Array, limit: number): Tensor[] {
  let width = Math.floor(limit / (rows * 4));
  if (width < 1) throw new Error(`node '${node.name}' (Gemm): one column of its [${rows}, ${columns}] weight needs ${rows * 4} bytes, over the ${limit}-byte binding limit`);
  if (width >= 4) width -= width % 4;
  const blocks: Tensor[] = [];
  for (let start = 0; start < columns; start += width) {
    const count = Math.min(width, columns - start);
    const block = new Float32Array(rows * count);
    for (let r = 0; r < rows; r++) block.set(floats.subarray(r * columns + start, r * columns + start + count), r * count);
    blocks.push(Tensor.from(ctx, block, [rows, count]));
  }
  return blocks;
}
