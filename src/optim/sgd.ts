import sgdCode from '../../shaders/sgd.wgsl';
import { wgslLib } from '../gpu/shader-lib.js';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import type { Graph } from '../graph/graph.js';
import { grid1d, type OpDef } from '../graph/op.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { sizeOf, type Tensor } from '../graph/tensor.js';
import { expectSameShape } from '../ops/shape-errors.js';
import { type LearningRate, Optimizer, zerosLike } from './optimizer.js';

const sgdShader = shader('sgd', sgdCode, wgslLib.lossScaleState);

export interface SgdOptions {
  learningRate?: LearningRate;
  momentum?: number;
  weightDecay?: number;
}

type SgdHyper = { momentum: number; weightDecay: number };

/**
 * Inputs: param, grad, velocity, step, and optionally a LossScaler's state (the scaled entry:
 * unscale the gradient, skip on overflow). Writes param and velocity in place.
 */
const sgdUpdateOp: OpDef<SgdHyper> = {
  name: 'sgd_momentum_update',
  grad: null,
  mutates: [0, 2],
  outputs([param, grad, velocity]) {
    expectSameShape('sgd_momentum_update', param!, grad!);
    expectSameShape('sgd_momentum_update', param!, velocity!);
    return [];
  },
  kernels: ({ inputs: [param, grad, velocity, step, lossScale] }, hyper) => [
    {
      shader: sgdShader,
      entry: lossScale ? 'sgd_momentum_update_scaled' : 'sgd_momentum_update',
      params: { size: sizeOf(param!.shape), ...hyper },
      buffers: { param: param!, grad: grad!, velocity: velocity!, step: step!, ...(lossScale ? { loss_scale: lossScale } : {}) },
      workgroups: grid1d(sizeOf(param!.shape), 256),
    },
  ],
};

/**
 * One fused SGD-with-momentum step on `param`; `step` holds {t, learningRate}. With
 * `lossScale` (a LossScaler's state) the gradient is divided by S, and nothing is updated when
 * the state flags an overflow.
 */
export function sgdUpdate<T extends AnyTensor>(param: T, grad: T, velocity: T, step: T, hyper: SgdHyper, lossScale?: T): void {
  apply(sgdUpdateOp, lossScale ? [param, grad, velocity, step, lossScale] : [param, grad, velocity, step], hyper);
}

/**
 * SGD with momentum in PyTorch's convention (velocity accumulates raw gradients).
 * @example new Sgd({ learningRate: 0.1, momentum: 0.9 }).minimize(loss, params);
 */
export class Sgd extends Optimizer {
  private readonly hyper: SgdHyper;

  constructor(options: SgdOptions = {}) {
    super(options.learningRate ?? 0.01);
    this.hyper = { momentum: options.momentum ?? 0, weightDecay: options.weightDecay ?? 0 };
  }

  protected createState(param: Tensor): Tensor[] {
    return [zerosLike(param)];
  }

  protected appendUpdate(graph: Graph, param: Tensor, grad: SymbolicTensor, step: Tensor, [velocity]: Tensor[], lossScale?: Tensor): void {
    sgdUpdate(graph.bind(param), grad, graph.bind(velocity!), graph.bind(step), this.hyper, lossScale && graph.bind(lossScale));
  }
}
