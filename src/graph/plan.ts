import { encodeCalls, type PreparedCall, prepareCall } from './encode.js';
import { type DispatchTime, timeDispatches } from './profile.js';
import type { Graph, Node } from './graph.js';
import type { SymbolicTensor } from './symbolic.js';
import { byteSizeOf, decodeValues, describeArray, formatShape, type TensorData, type TensorSpec } from './tensor.js';

export interface CompileOptions {
  /** Tensors you will read after a run (loss, accuracy, predictions). */
  fetch?: readonly SymbolicTensor[];
}

/**
 * A compiled graph: nodes in order, every buffer assigned (temporaries share memory by
 * liveness), pipelines and bind groups made once, uniforms written once. `run` writes the
 * feeds and submits the whole step as one command buffer; `read` fetches values later.
 */
export class Plan {
  private readonly owned: GPUBuffer[];
  private disposed = false;

  /** @internal built by compile() */
  constructor(
    readonly graph: Graph,
    private readonly calls: PreparedCall[],
    private readonly buffers: Map<SymbolicTensor, GPUBuffer>,
    owned: GPUBuffer[],
    private readonly fetchable: ReadonlySet<SymbolicTensor>,
    /** Bytes of temporaries and feeds this plan allocated. */
    readonly bytes: number,
  ) {
    this.owned = owned;
  }

  get dispatchCount(): number {
    return this.calls.length;
  }

  /** Runs one step: one writeBuffer per feed, one command buffer, one submit. */
  run(feeds: Record<string, TensorData> = {}): void {
    if (this.disposed) throw new Error('this plan was disposed');
    this.writeFeeds(feeds);
    const queue = this.graph.ctx.device.queue;
    const encoder = this.graph.ctx.device.createCommandEncoder({ label: 'plan' });
    const pass = encoder.beginComputePass();
    encodeCalls(pass, this.calls);
    pass.end();
    queue.submit([encoder.finish()]);
  }

  /**
   * GPU time of each dispatch, the mean over `runs` runs with these feeds (the state the
   * plan updates, e.g. weights, is updated by every profiled run as by `run`). Needs the
   * 'timestamp-query' feature; each dispatch gets its own compute pass, so the times include a
   * pass boundary each. `profileSummary` sums them by kernel.
   * @example const times = await plan.profile({ x, y }, { runs: 5 });
   */
  async profile(feeds: Record<string, TensorData> = {}, options: { runs?: number } = {}): Promise<DispatchTime[]> {
    if (this.disposed) throw new Error('this plan was disposed');
    return timeDispatches(this.graph.ctx, this.calls, options.runs ?? 5, () => this.writeFeeds(feeds));
  }

  /** Checks and writes the feeds, then runs the graph's before-run hooks (e.g. attack counters). */
  private writeFeeds(feeds: Record<string, TensorData>): void {
    this.graph.ctx.check();
    for (const name of Object.keys(feeds)) {
      if (!this.graph.inputs.has(name)) {
        throw new Error(`plan has no input named '${name}' (inputs: ${[...this.graph.inputs.keys()].join(', ') || 'none'})`);
      }
    }
    const queue = this.graph.ctx.device.queue;
    for (const [name, input] of this.graph.inputs) {
      const buffer = this.buffers.get(input);
      if (!buffer) continue; // an input this plan does not use
      const data = feeds[name];
      if (!data) throw new Error(`plan.run: missing feed for input '${name}' ${formatShape(input.shape)}`);
      checkFeed(name, input, data);
      queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    }
    for (const hook of this.graph.beforeRun) hook();
  }

  /** Reads a fetched tensor's value as of the latest run. */
  async read(tensor: SymbolicTensor): Promise<TensorData> {
    // A disposed plan's buffers are back in the pool and may hold another plan's data.
    if (this.disposed) throw new Error('this plan was disposed; read before dispose()');
    if (!this.fetchable.has(tensor)) throw new Error(`${tensor} was not listed in compile({ fetch }) so it cannot be read`);
    const buffer = this.buffers.get(tensor)!;
    const bytes = await this.graph.ctx.readBuffer(buffer, byteSizeOf(tensor));
    return decodeValues(bytes, tensor.dtype, tensor.size);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.owned) this.graph.ctx.pool.release(b);
  }
}

function checkFeed(name: string, input: SymbolicTensor, data: TensorData): void {
  if (data.length !== input.size) {
    throw new Error(`feed '${name}' has ${data.length} values but the input is ${formatShape(input.shape)} (${input.size} values)`);
  }
  const expected = input.dtype === 'u32' ? Uint32Array : Float32Array;
  if (!(data instanceof expected)) {
    // Any other array would be copied bit for bit and read as the wrong numbers.
    throw new Error(`feed '${name}' must be a ${expected.name}, got ${describeArray(data)}; convert with ${expected.name}.from(values)`);
  }
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new Error(`feed '${name}' holds ${data[i]} at index ${i}; inputs must be finite`);
    }
  }
}

/**
 * Compiles a graph: keeps the nodes needed for `fetch` and every node that updates state
 * in place (optimizer steps), assigns buffers by liveness, prepares every dispatch.
 */
export function compile(graph: Graph, options: CompileOptions = {}): Plan {
  const fetch = new Set(options.fetch ?? []);
  const needed = neededNodes(graph, fetch);
  const ctx = graph.ctx;
  // A view shares its root's buffer, so buffers live, are fetched and are freed per root.
  const roots = viewRoots(needed);
  const rootOf = (t: SymbolicTensor) => roots.get(t) ?? t;
  const fetchedRoots = new Set([...fetch].map(rootOf));
  const lastUse = new Map<SymbolicTensor, number>();
  needed.forEach((node, i) => node.inputs.forEach((t) => lastUse.set(rootOf(t), i)));

  const buffers = new Map<SymbolicTensor, GPUBuffer>();
  const owned: GPUBuffer[] = [];
  const free = new Map<number, GPUBuffer[]>();
  let bytes = 0;
  const allocate = (t: SymbolicTensor): GPUBuffer => {
    const size = Math.ceil(byteSizeOf(t) / 16) * 16;
    // An input's data is written before the step's dispatches run, so it may not share a
    // buffer that an earlier node of the same step writes.
    const reused = fetchedRoots.has(t) || t.source.kind === 'input' ? undefined : free.get(size)?.pop();
    if (reused) return reused;
    const buffer = ctx.pool.acquire(size);
    owned.push(buffer);
    bytes += size;
    return buffer;
  };
  const bufferFor = (t: SymbolicTensor): GPUBuffer => {
    let b = buffers.get(t);
    if (b) return b;
    if (t.source.kind === 'bound') b = t.source.tensor.buffer;
    else if (t.source.kind === 'input') b = allocate(t);
    else throw new Error(`${t} is used before the node that makes it`);
    buffers.set(t, b);
    return b;
  };
  const release = (t: SymbolicTensor) => {
    if (t.source.kind !== 'op' || fetchedRoots.has(t)) return;
    const b = buffers.get(t)!;
    const size = b.size;
    if (!free.has(size)) free.set(size, []);
    free.get(size)!.push(b);
  };

  const calls: PreparedCall[] = [];
  const prepareNode = (node: Node) => {
    for (const o of node.outputs) {
      const b = allocate(o);
      ctx.poisonBuffer(b, byteSizeOf(o));
      buffers.set(o, b);
    }
    const bufferOf = (spec: TensorSpec) => {
      const b = buffers.get(spec as SymbolicTensor);
      if (!b) throw new Error(`${node.op.name}: a kernel referred to a tensor that is not one of its inputs or outputs`);
      return b;
    };
    for (const call of node.op.kernels({ inputs: node.inputs, outputs: node.outputs }, node.attrs as never, ctx)) {
      const prepared = prepareCall(ctx, call, bufferOf);
      prepared.label = `${node.op.name}: ${prepared.label}`;
      if (prepared.paramsBuffer) owned.push(prepared.paramsBuffer);
      calls.push(prepared);
    }
  };
  try {
    needed.forEach((node, i) => {
      node.inputs.forEach(bufferFor);
      const root = roots.get(node.outputs[0]!);
      if (root) buffers.set(node.outputs[0]!, buffers.get(root)!);
      else prepareNode(node);
      for (const t of new Set(node.inputs.map(rootOf))) if (lastUse.get(t) === i) release(t);
      if (!root) for (const o of node.outputs) if (!lastUse.has(o)) release(o);
    });
    for (const t of fetch) bufferFor(t);
  } catch (error) {
    for (const b of owned) ctx.pool.release(b); // a failed compile leaves nothing allocated
    throw error;
  }
  return new Plan(graph, calls, buffers, owned, fetch, bytes);
}

/**
 * The view outputs (OpDef.view: reshape) that can share their input's buffer, each mapped
 * to its root: the tensor whose buffer it is (through chains of views). A view is left a
 * copy when its root is bound (a parameter the step may update in place) or when any node
 * writes a member of its class in place (a copy taken before the write must not see it).
 */
function viewRoots(needed: readonly Node[]): Map<SymbolicTensor, SymbolicTensor> {
  const roots = new Map<SymbolicTensor, SymbolicTensor>();
  for (const node of needed) {
    if (!node.op.view) continue;
    const input = node.inputs[0]!;
    const root = roots.get(input) ?? input;
    if (root.source.kind !== 'bound') roots.set(node.outputs[0]!, root);
  }
  const written = new Set<SymbolicTensor>();
  for (const node of needed) for (const k of node.op.mutates ?? []) written.add(roots.get(node.inputs[k]!) ?? node.inputs[k]!);
  for (const [view, root] of roots) if (written.has(root)) roots.delete(view);
  return roots;
}

function neededNodes(graph: Graph, fetch: ReadonlySet<SymbolicTensor>): Node[] {
  const keep = new Set<Node>();
  const visit = (t: SymbolicTensor) => {
    if (t.source.kind !== 'op' || keep.has(t.source.node)) return;
    keep.add(t.source.node);
    t.source.node.inputs.forEach(visit);
  };
  for (const t of fetch) {
    if (t.graph !== graph) throw new Error(`compile: fetched ${t} belongs to another graph`);
    visit(t);
  }
  for (const node of graph.nodes) {
    if (node.op.mutates?.length && !keep.has(node)) {
      keep.add(node);
      node.inputs.forEach(visit);
    }
  }
  return graph.nodes.filter((n) => keep.has(n));
}
