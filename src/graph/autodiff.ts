import { add } from './add.js';
import type { Node } from './graph.js';
import type { SymbolicTensor } from './symbolic.js';

/**
 * Reverse-mode autodiff: appends to the graph the nodes that compute d(loss)/d(w) for each
 * w in `wrt`, walking nodes backwards and calling each op's gradient rule. The gradient
 * of `loss` itself is ones (so a scalar loss gets the usual gradient).
 *
 * @example
 * const [dW, db] = gradients(loss, [w, b]);
 */
export function gradients(loss: SymbolicTensor, wrt: readonly SymbolicTensor[]): SymbolicTensor[] {
  const graph = loss.graph;
  const dependsOnWrt = new Set<SymbolicTensor>(wrt);
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (node.inputs.some((t) => dependsOnWrt.has(t))) {
      nodes.push(node);
      for (const o of node.outputs) dependsOnWrt.add(o);
    }
  }
  const grads = new Map<SymbolicTensor, SymbolicTensor>();
  grads.set(loss, graph.constant(new Float32Array(loss.size).fill(1), loss.shape));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const outputGrads = node.outputs.map((o) => grads.get(o));
    if (outputGrads.every((g) => g === undefined)) continue;
    if (!node.op.grad) throw new Error(`cannot differentiate through '${node.op.name}': it has no gradient rule`);
    const inputGrads = node.op.grad(outputGrads, node.inputs, node.outputs, node.attrs as never);
    node.inputs.forEach((input, k) => {
      const g = inputGrads[k];
      if (!dependsOnWrt.has(input)) return;
      if (!g) throw new Error(`'${node.op.name}' has no gradient rule for its input ${k} (${input})`);
      if (g.shape.join() !== input.shape.join()) {
        throw new Error(`gradient rule of '${node.op.name}' gave shape [${g.shape}] for input ${k} of shape [${input.shape}]`);
      }
      const previous = grads.get(input);
      grads.set(input, previous ? add(previous, g) : g);
    });
  }
  return wrt.map((w) => {
    const g = grads.get(w);
    if (!g) throw new Error(`the loss does not depend on ${w}; it has no gradient`);
    return g;
  });
}
