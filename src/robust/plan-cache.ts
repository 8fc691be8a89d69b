// Compiled plans kept by key for the life of an attacker: each (loss, norm, step kind) is
// traced and compiled once, then run for every batch and ε.
import type { GpuContext } from '../gpu/context.js';
import { Graph } from '../graph/graph.js';
import { compile, type Plan } from '../graph/plan.js';

export class PlanCache {
  private readonly plans = new Map<string, { graph: Graph; plan: Plan }>();

  constructor(private readonly ctx: GpuContext) {}

  /** The plan for `key`, traced by `trace` into a fresh graph the first time it is asked for. */
  get(key: string, trace: (graph: Graph) => void): Plan {
    let entry = this.plans.get(key);
    if (!entry) {
      const graph = new Graph(this.ctx);
      trace(graph);
      entry = { graph, plan: compile(graph) };
      this.plans.set(key, entry);
    }
    return entry.plan;
  }

  dispose(): void {
    for (const { graph, plan } of this.plans.values()) {
      plan.dispose();
      graph.dispose();
    }
    this.plans.clear();
  }
}
