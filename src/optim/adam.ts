import adamCode from '../../shaders/adam.wgsl';
import { wgslLib } from '../gpu/shader-lib.js';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import type { Graph } from '../graph/graph.js';
import { grid1d, type OpDef } from '../graph/op.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { sizeOf, type Tensor, type TensorSpec } from '../graph/tensor.js';
import { expectSameShape } from '../ops/shape-errors.js';
import { type LearningRate, Optimizer, zerosLike } from './optimizer.js';

const adamShader = shader('adam', adamCode, wgslLib.lossScaleState);

export interface AdamOptions {
  learningRate?: LearningRate;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (AdamW); 0 is plain Adam. */
  weightDecay?: number;
}

type AdamHyper = Required<Omit<AdamOptions, 'learningRate'>>;

/**
 * Inputs: param, grad, m, v, step, and optionally a LossScaler's state (the scaled entry:
 * unscale the gradient, skip on overflow). Writes param, m and v in place; no outputs.
 */
const adamUpdateOp: OpDef<AdamHyper> = {
  name: 'adam_update',
  grad: null,
  mutates: [0, 2, 3],
  outputs([param, grad, m, v]) {
    for (const t of [grad!, m!, v!]) expectSameShape('adam_update', param!, t);
    return [];
  },
  kernels: ({ inputs: [param, grad, m, v, step, lossScale] }, hyper) => {
    const size = sizeOf(param!.shape);
    const call = { shader: adamShader, params: { size, ...hyper } };
    const scaled = lossScale ? '_scaled' : '';
    const scale: Record<string, TensorSpec> = lossScale ? { loss_scale: lossScale } : {};
    if (size % 4 === 0) {
      return [{ ...call, entry: `adam_update4${scaled}`, buffers: { param4: param!, grad4: grad!, m4: m!, v4: v!, step: step!, ...scale }, workgroups: grid1d(size / 4, 64) }];
    }
    return [{ ...call, entry: `adam_update${scaled}`, buffers: { param: param!, grad: grad!, m: m!, v: v!, step: step!, ...scale }, workgroups: grid1d(size, 256) }];
  },
};

/**
 * One fused Adam step on `param` (eager or in a graph); `step` holds {t, learningRate}. With
 * `lossScale` (a LossScaler's state) the gradient is divided by S, and nothing is updated when
 * the state flags an overflow.
 */
export function adamUpdate<T extends AnyTensor>(param: T, grad: T, m: T, v: T, step: T, hyper: AdamHyper, lossScale?: T): void {
  apply(adamUpdateOp, lossScale ? [param, grad, m, v, step, lossScale] : [param, grad, m, v, step], hyper);
}

/**
 * Adam (Kingma & Ba) with bias correction; AdamW when weightDecay > 0.
 * @example new Adam({ learningRate: 1e-3 }).minimize(loss, params);
 */
export class Adam extends Optimizer {
  private readonly hyper: AdamHyper;

  constructor(options: AdamOptions = {}) {
    super(options.learningRate ?? 1e-3);
    this.hyper = {
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      epsilon: options.epsilon ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
    };
  }

  protected createState(param: Tensor): Tensor[] {
    return [zerosLike(param), zerosLike(param)];
  }

  protected appendUpdate(graph: Graph, param: Tensor, grad: SymbolicTensor, step: Tensor, [m, v]: Tensor[], lossScale?: Tensor): void {
    adamUpdate(graph.bind(param), grad, graph.bind(m!), graph.bind(v!), graph.bind(step), this.hyper, lossScale && graph.bind(lossScale));
  }
}
