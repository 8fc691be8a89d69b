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
  return symbolic.graph.addNode(op, bindAll(inputs) as SymbolicTensor[], attrs) as T[];
}

/**
 * The inputs as one function's ops will see them: when any is symbolic, the GPU Tensors
 * among them are bound into its graph, so that an op applied to one of them alone (e.g. a
 * cast of a weight before a matmul) joins the graph instead of running eagerly once.
 */
export function bindAll<T extends AnyTensor>(inputs: readonly T[]): T[] {
  const symbolic = inputs.find((t): t is T & SymbolicTensor => t instanceof SymbolicTensor);
  if (!symbolic) return [...inputs];
  return inputs.map((t) => (t instanceof Tensor ? (symbolic.graph.bind(t) as AnyTensor as T) : t));
}
