import { BufferUsage } from '../gpu/constants.js';
import type { GpuContext } from '../gpu/context.js';
import { gradients } from '../graph/autodiff.js';
import type { Graph } from '../graph/graph.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { Tensor } from '../graph/tensor.js';
import type { LossScaler } from './loss-scale.js';

/** A constant rate, or a schedule giving the rate for step t (t = 1, 2, ...). */
export type LearningRate = number | ((step: number) => number);

/**
 * Appends fused update kernels for each parameter to a training graph. The step count and
 * learning rate live in a small uniform buffer written before each run of the plan, so a
 * step needs no other CPU work.
 */
export abstract class Optimizer {
  private t = 0;
  private stepTensor: Tensor | undefined;
  private readonly states = new Map<Tensor, Tensor[]>();

  constructor(private readonly learningRate: LearningRate) {}

  /** Number of updates applied so far. */
  get step(): number {
    return this.t;
  }

  /** Continues counting from `step` (resuming a run): bias correction and schedules follow. */
  restoreStep(step: number): void {
    if (!Number.isInteger(step) || step < 0) throw new Error(`Optimizer.restoreStep: step must be a non-negative integer, got ${step}`);
    this.t = step;
  }

  /** The optimizer's state tensors for `param` (Adam: m, v; SGD: velocity), for checkpoints. */
  stateOf(param: Tensor): Tensor[] {
    return this.stateFor(param);
  }

  /**
   * Differentiates `loss` with respect to `params` and appends one update per parameter.
   * With `lossScaler` (mixed precision), the loss is scaled by S before differentiation, every
   * gradient is checked for non-finite values, the updates divide the gradients by S and are
   * all skipped on a step whose gradients overflowed, and S is updated at the end (see
   * LossScaler). A skipped step still counts in `step` (Adam's bias correction, schedules):
   * the skip is decided on the GPU, which the host does not wait for.
   * @example new Adam({ learningRate: 1e-3 }).minimize(loss, [w1, b1, w2, b2]);
   * @example new Adam().minimize(loss, params, { lossScaler: new LossScaler(ctx) });
   */
  minimize(loss: SymbolicTensor, params: readonly Tensor[], options: { lossScaler?: LossScaler } = {}): void {
    const graph = loss.graph;
    const scaler = options.lossScaler;
    const grads = gradients(scaler ? scaler.scale(loss) : loss, params.map((p) => graph.bind(p)));
    scaler?.checkGradients(grads);
    const step = this.stepBuffer(graph.ctx);
    params.forEach((p, i) => this.appendUpdate(graph, p, grads[i]!, step, this.stateFor(p), scaler?.state));
    scaler?.appendUpdate(graph);
    graph.beforeRun.push(() => this.advance());
  }

  /** Optimizer state tensors for one parameter (e.g. Adam's m and v), made on first use. */
  protected abstract createState(param: Tensor): Tensor[];

  /**
   * Appends the update of one parameter. With `lossScale` (a LossScaler's state) the gradient
   * is S times too large: the update divides it by S, and does nothing when the state says
   * that the step's gradients overflowed.
   */
  protected abstract appendUpdate(graph: Graph, param: Tensor, grad: SymbolicTensor, step: Tensor, state: Tensor[], lossScale?: Tensor): void;

  private stateFor(param: Tensor): Tensor[] {
    let state = this.states.get(param);
    if (!state) this.states.set(param, (state = this.createState(param)));
    return state;
  }

  private stepBuffer(ctx: GpuContext): Tensor {
    if (!this.stepTensor) {
      this.stepTensor = Tensor.empty(ctx, [4], 'u32', BufferUsage.UNIFORM | BufferUsage.COPY_DST);
    }
    return this.stepTensor;
  }

  private advance(): void {
    this.t += 1;
    const rate = typeof this.learningRate === 'number' ? this.learningRate : this.learningRate(this.t);
    if (!Number.isFinite(rate)) throw new Error(`learning rate for step ${this.t} is ${rate}; it must be a finite number`);
    const data = new ArrayBuffer(16);
    new Uint32Array(data, 0, 1)[0] = this.t;
    new Float32Array(data, 4, 1)[0] = rate;
    this.stepTensor!.ctx.device.queue.writeBuffer(this.stepTensor!.buffer, 0, data);
  }

  dispose(): void {
    for (const state of this.states.values()) for (const t of state) t.dispose();
    this.states.clear();
    this.stepTensor?.dispose();
    this.stepTensor = undefined;
  }
}

export function zerosLike(param: Tensor): Tensor {
  return Tensor.from(param.ctx, new Float32Array(param.size), param.shape);
}
