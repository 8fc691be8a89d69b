import { executeEager } from './eager.js';
import type { OpDef } from './op.js';
import { SymbolicTensor } from './symbolic.js';
import { Tensor } from './tensor.js';

export type AnyTensor = Tensor | SymbolicTensor;

/**
 * Runs `op` now when every input is a GPU Tensor (eager), or adds it to the graph when any
 * input is symbolic (GPU Tensors among them are bound into that graph).
 */
export function apply<A, T extends AnyTensor>(op: OpDef<A>, inputs: readonly T[], attrs: A): T[] {
  const symbolic = inputs.find((t): t is T & SymbolicTensor => t instanceof SymbolicTensor);
  if (!symbolic) return executeEager(op, inputs as readonly Tensor[], attrs) as T[];
  const graph = symbolic.graph;
  const bound = inputs.map((t) => (t instanceof Tensor ? graph.bind(t) : (t as SymbolicTensor)));
  return graph.addNode(op, bound, attrs) as T[];
}
