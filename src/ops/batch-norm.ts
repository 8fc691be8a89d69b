import batchNormCode from '../../shaders/batch_norm.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type KernelCall, type OpDef } from '../graph/op.js';
import { formatShape, type TensorSpec } from '../graph/tensor.js';
import { expectDtype } from './shape-errors.js';

const batchNormShader = shader('batch_norm', batchNormCode, wgslLib.workgroupReduce, wgslLib.grid);

interface ChannelLayout {
  batch: number;
  channels: number;
  /** Values per (sample, channel): H·W for NCHW, 1 for [N, F]. */
  spatial: number;
}

/** x as [batch, channels, spatial]: NCHW maps (per channel) or [N, F] features (per feature). */
function channelLayout(op: string, x: TensorSpec): ChannelLayout {
  expectDtype(op, 'x', x, 'f32');
  if (x.shape.length !== 2 && x.shape.length !== 4) {
    throw new Error(`${op}: x must be [N, F] (1d) or [N, C, H, W] (2d), got shape ${formatShape(x.shape)}`);
  }
  const [batch, channels, h = 1, w = 1] = x.shape as number[];
  return { batch: batch!, channels: channels!, spatial: h * w };
}

/** Checks that each tensor is a [channels] f32 vector, naming it in the error. */
function expectChannelVectors(op: string, x: TensorSpec, channels: number, vectors: Record<string, TensorSpec>): void {
  for (const [what, t] of Object.entries(vectors)) {
    expectDtype(op, what, t, 'f32');
    if (t.shape.length !== 1 || t.shape[0] !== channels) {
      throw new Error(`${op}: ${what} must be [${channels}] (one value per channel of x ${formatShape(x.shape)}), got ${formatShape(t.shape)}`);
    }
  }
}

function perChannel(entry: string, { batch, channels, spatial }: ChannelLayout, extra: Record<string, number>, buffers: KernelCall['buffers']): KernelCall {
  return { shader: batchNormShader, entry, params: { batch, channels, spatial, ...extra }, buffers, workgroups: grid1d(channels, 1) };
}

function perElement(entry: string, { batch, channels, spatial }: ChannelLayout, buffers: KernelCall['buffers']): KernelCall {
  const size = batch * channels * spatial;
  return { shader: batchNormShader, entry, params: { size, channels, spatial }, buffers, workgroups: grid1d(size, 256) };
}

interface TrainAttrs {
  momentum: number;
  eps: number;
}

/**
 * Inputs: x, gamma, beta, runningMean, runningVar (the last two updated in place).
 * Outputs: [0] y; [1] batch mean and [2] 1/√(biased var + eps) per channel, saved for backward.
 */
const batchNormTrainOp: OpDef<TrainAttrs> = {
  name: 'batch_norm_train',
  mutates: [3, 4],
  outputs([x, gamma, beta, runningMean, runningVar]) {
    const layout = channelLayout('batch_norm_train', x!);
    expectChannelVectors('batch_norm_train', x!, layout.channels, { gamma: gamma!, beta: beta!, runningMean: runningMean!, runningVar: runningVar! });
    if (layout.batch * layout.spatial < 2) {
      throw new Error(`batch_norm_train: x ${formatShape(x!.shape)} has 1 value per channel; training needs at least 2 to estimate a variance`);
    }
    const vector: TensorSpec = { shape: [layout.channels], dtype: 'f32' };
    return [{ shape: x!.shape, dtype: 'f32' }, vector, vector];
  },
  kernels({ inputs: [x, gamma, beta, runningMean, runningVar], outputs: [y, mean, invstd] }, { momentum, eps }) {
    const layout = channelLayout('batch_norm_train', x!);
    return [
      perChannel('batch_norm_train_stats', layout, { momentum, eps }, {
        x: x!,
        saved_mean: mean!,
        saved_invstd: invstd!,
        running_mean_state: runningMean!,
        running_var_state: runningVar!,
      }),
      perElement('batch_norm_normalize', layout, { x: x!, mean: mean!, invstd: invstd!, gamma: gamma!, beta: beta!, y: y! }),
    ];
  },
  grad([dy], [x, gamma], [, mean, invstd]) {
    const [dx, dgamma, dbeta] = batchNormBackward(dy!, x!, gamma!, mean!, invstd!, { training: true });
    return [dx, dgamma, dbeta, undefined, undefined];
  },
};

/** Inputs as for training (running statistics read only). Outputs: [0] y; [1] 1/√(running var + eps). */
const batchNormEvalOp: OpDef<{ eps: number }> = {
  name: 'batch_norm_eval',
  outputs([x, gamma, beta, runningMean, runningVar]) {
    const { channels } = channelLayout('batch_norm_eval', x!);
    expectChannelVectors('batch_norm_eval', x!, channels, { gamma: gamma!, beta: beta!, runningMean: runningMean!, runningVar: runningVar! });
    return [
      { shape: x!.shape, dtype: 'f32' },
      { shape: [channels], dtype: 'f32' },
    ];
  },
  kernels({ inputs: [x, gamma, beta, runningMean, runningVar], outputs: [y, invstd] }, { eps }) {
    const layout = channelLayout('batch_norm_eval', x!);
    return [
      {
        shader: batchNormShader,
        entry: 'batch_norm_running_invstd',
        params: { channels: layout.channels, eps },
        buffers: { running_var: runningVar!, saved_invstd: invstd! },
        workgroups: grid1d(layout.channels, 256),
      },
      perElement('batch_norm_normalize', layout, { x: x!, mean: runningMean!, invstd: invstd!, gamma: gamma!, beta: beta!, y: y! }),
    ];
  },
  grad([dy], [x, gamma, , runningMean], [, invstd]) {
    const [dx, dgamma, dbeta] = batchNormBackward(dy!, x!, gamma!, runningMean!, invstd!, { training: false });
    return [dx, dgamma, dbeta, undefined, undefined];
  },
};

/** Inputs: dy, x, gamma, mean, invstd (the statistics the forward normalised with). Outputs: dx, dgamma, dbeta. */
const batchNormBackwardOp: OpDef<{ training: boolean }> = {
  name: 'batch_norm_backward',
  grad: null,
  outputs([dy, x, gamma, mean, invstd]) {
    const { channels } = channelLayout('batch_norm_backward', x!);
    expectDtype('batch_norm_backward', 'dy', dy!, 'f32');
    if (dy!.shape.join() !== x!.shape.join()) throw new Error(`batch_norm_backward: dy ${formatShape(dy!.shape)} must have x's shape ${formatShape(x!.shape)}`);
    expectChannelVectors('batch_norm_backward', x!, channels, { gamma: gamma!, mean: mean!, invstd: invstd! });
    const vector: TensorSpec = { shape: [channels], dtype: 'f32' };
    return [{ shape: x!.shape, dtype: 'f32' }, vector, vector];
  },
  kernels({ inputs: [dy, x, gamma, mean, invstd], outputs: [dx, dgamma, dbeta] }, { training }) {
    const layout = channelLayout('batch_norm_backward', x!);
    const reduce = perChannel('batch_norm_backward_reduce', layout, {}, { dy: dy!, x: x!, mean: mean!, invstd: invstd!, dgamma_out: dgamma!, dbeta_out: dbeta! });
    // With batch statistics, mean and variance depend on every x, hence the extra terms.
    const data = training
      ? perElement('batch_norm_backward_data', layout, { dy: dy!, x: x!, mean: mean!, invstd: invstd!, gamma: gamma!, dgamma: dgamma!, dbeta: dbeta!, dx: dx! })
      : perElement('batch_norm_backward_data_eval', layout, { dy: dy!, gamma: gamma!, invstd: invstd!, dx: dx! });
    return [reduce, data];
  },
};

export interface BatchNormOptions {
  /** true: normalise with batch statistics and update the running ones; false: use the running ones. */
  training: boolean;
  /** Weight of the new batch in the running averages (PyTorch convention), default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root, default 1e-5. */
  eps?: number;
}

function checkOptions({ momentum = 0.1, eps = 1e-5 }: BatchNormOptions): TrainAttrs {
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`batch_norm: momentum must be in [0, 1], got ${momentum}`);
  if (!(eps > 0 && Number.isFinite(eps))) throw new Error(`batch_norm: eps must be a positive number, got ${eps}`);
  return { momentum, eps };
}

/**
 * Batch normalisation per channel of NCHW maps (2d: over N, H, W) or per feature of [N, F]
 * (1d: over N), then y = x̂·gamma + beta. Training normalises with the batch mean and biased
 * variance and updates runningMean/runningVar in place (running = (1 − momentum)·running +
 * momentum·batch, with the unbiased variance, as PyTorch does); evaluation normalises with
 * the running statistics. Differentiable in x, gamma and beta in both modes.
 * @example const h = relu(batchNorm(conv, gamma, beta, runningMean, runningVar, { training: true }));
 */
export function batchNorm<T extends AnyTensor>(x: T, gamma: T, beta: T, runningMean: T, runningVar: T, options: BatchNormOptions): T {
  const inputs = [x, gamma, beta, runningMean, runningVar];
  const attrs = checkOptions(options);
  if (options.training) return apply(batchNormTrainOp, inputs, attrs)[0]!;
  return apply(batchNormEvalOp, inputs, { eps: attrs.eps })[0]!;
}

/** Training-mode batch norm that also returns the saved batch mean and 1/√(var + eps). */
export function batchNormTrain<T extends AnyTensor>(
  x: T,
  gamma: T,
  beta: T,
  runningMean: T,
  runningVar: T,
  options: Omit<BatchNormOptions, 'training'> = {},
): [y: T, mean: T, invstd: T] {
  const [y, mean, invstd] = apply(batchNormTrainOp, [x, gamma, beta, runningMean, runningVar], checkOptions({ ...options, training: true }));
  return [y!, mean!, invstd!];
}

/**
 * dx, dgamma, dbeta of batch norm from dy and the statistics the forward used (`training`:
 * batch statistics, whose dependence on x adds terms; otherwise running statistics).
 */
export function batchNormBackward<T extends AnyTensor>(dy: T, x: T, gamma: T, mean: T, invstd: T, { training }: { training: boolean }): [dx: T, dgamma: T, dbeta: T] {
  const [dx, dgamma, dbeta] = apply(batchNormBackwardOp, [dy, x, gamma, mean, invstd], { training });
  return [dx!, dgamma!, dbeta!];
}
