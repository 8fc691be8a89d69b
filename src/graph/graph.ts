import type { GpuContext } from '../gpu/context.js';
import { checkF16Inputs, type OpDef } from './op.js';
import { SymbolicTensor } from './symbolic.js';
import { checkShape, type DType, type Shape, Tensor, type TensorData } from './tensor.js';

export interface Node {
  readonly id: number;
  readonly op: OpDef<any>;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  readonly attrs: unknown;
}

/**
 * A traced computation. Ops applied to its tensors add nodes (in a valid execution order);
 * `compile` (see plan.ts) turns it into a Plan that runs as one submit.
 *
 * @example
 * const g = new Graph(ctx);
 * const x = g.input('x', [32, 784]);
 * const y = relu(matmul(x, w));  // w: a Tensor, bound automatically
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs = new Map<string, SymbolicTensor>();
  /** Tensors the graph owns (constants); disposed with the graph. */
  private readonly owned: Tensor[] = [];
  private readonly boundTensors = new Map<Tensor, SymbolicTensor>();
  /** Called before every run of a plan of this graph (optimizers write step and rate). */
  readonly beforeRun: (() => void)[] = [];
  private nextId = 0;

  constructor(readonly ctx: GpuContext) {}

  /** A value fed at each run under `name` (a batch of images, labels). */
  input(name: string, shape: Shape, dtype: DType = 'f32'): SymbolicTensor {
    checkShape(shape, `input '${name}'`);
    if (dtype === 'f16') throw new Error(`input '${name}': graph inputs are f32 or u32 (feeds are Float32Array/Uint32Array); cast inside the graph with castF16`);
    if (this.inputs.has(name)) throw new Error(`graph already has an input named '${name}'`);
    const t = new SymbolicTensor(this, this.nextId++, shape, dtype, { kind: 'input', name });
    this.inputs.set(name, t);
    return t;
  }

  /** Refers to a GPU tensor (a parameter, optimizer state) from inside the graph. */
  bind(tensor: Tensor): SymbolicTensor {
    if (tensor.ctx !== this.ctx) throw new Error('cannot use a tensor from another GPU context in this graph');
    let t = this.boundTensors.get(tensor);
    if (!t) {
      t = new SymbolicTensor(this, this.nextId++, tensor.shape, tensor.dtype, { kind: 'bound', tensor });
      this.boundTensors.set(tensor, t);
    }
    return t;
  }

  /** A constant uploaded now and owned by the graph. */
  constant(data: TensorData, shape: Shape): SymbolicTensor {
    const t = Tensor.from(this.ctx, data, shape);
    this.owned.push(t);
    return this.bind(t);
  }

  /** Adds a node; the op's shape rule runs now, so shape errors appear while tracing. */
  addNode<A>(op: OpDef<A>, inputs: readonly SymbolicTensor[], attrs: A): SymbolicTensor[] {
    for (const t of inputs) {
      if (t.graph !== this) throw new Error(`${op.name}: input ${t} belongs to another graph`);
    }
    checkF16Inputs(op, inputs);
    const specs = op.outputs(inputs, attrs);
    const outputs: SymbolicTensor[] = [];
    const node: Node = { id: this.nodes.length, op, inputs, outputs, attrs };
    specs.forEach((spec, index) => {
      outputs.push(new SymbolicTensor(this, this.nextId++, spec.shape, spec.dtype, { kind: 'op', node, index }));
    });
    this.nodes.push(node);
    return outputs;
  }

  dispose(): void {
    for (const t of this.owned.splice(0)) t.dispose();
  }
}
