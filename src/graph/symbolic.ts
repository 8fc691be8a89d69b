import type { Graph, Node } from './graph.js';
import type { DType, Shape, Tensor, TensorSpec } from './tensor.js';
import { sizeOf } from './tensor.js';

export type Source =
  | { kind: 'input'; name: string }
  | { kind: 'bound'; tensor: Tensor }
  | { kind: 'op'; node: Node; index: number };

/** A tensor in a graph being traced: a shape and where its value will come from. */
export class SymbolicTensor implements TensorSpec {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly source: Source,
  ) {}

  get size(): number {
    return sizeOf(this.shape);
  }

  toString(): string {
    const from = this.source.kind === 'op' ? this.source.node.op.name : this.source.kind === 'input' ? `input '${this.source.name}'` : 'bound';
    return `tensor#${this.id}(${from} [${this.shape.join(', ')}] ${this.dtype})`;
  }
}
