import lossScaleCode from '../../shaders/loss_scale.wgsl';
import type { GpuContext } from '../gpu/context.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { shader } from '../gpu/shader.js';
import { apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import type { Graph } from '../graph/graph.js';
import { sizeOf, Tensor } from '../graph/tensor.js';
import { expectDtype } from '../ops/shape-errors.js';

const lossScaleShader = shader('loss_scale', lossScaleCode, wgslLib.lossScaleState, wgslLib.grid);

/** Words of the state buffer (lib/loss_scale_state.wgsl's LossScale, padded to 32 bytes). */
const STATE_WORDS = 8;

export interface LossScaleOptions {
  /** S at the start: a power of two (default 2^15 = 32768). */
  initialScale?: number;
  /** Clean steps in a row after which S doubles (default 2000). */
  growthInterval?: number;
}

/** What the loss scale's state holds now (see LossScaler.read). */
export interface LossScaleReading {
  /** S, the current factor. */
  scale: number;
  /** Steps skipped since the start because a gradient overflowed (was ±∞ or NaN). */
  skippedSteps: number;
  /** Clean steps since the last overflow or growth. */
  cleanSteps: number;
}

const scaleOp: OpDef = {
  name: 'scale_by_loss_scale',
  outputs([x, state]) {
    expectDtype('scale_by_loss_scale', 'x', x!, 'f32');
    expectDtype('scale_by_loss_scale', 'state', state!, 'u32');
    return [{ shape: x!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x, state], outputs: [y] }) => [
    { shader: lossScaleShader, entry: 'scale_by_loss_scale', params: { size: sizeOf(x!.shape) }, buffers: { x: x!, state: state!, out: y! }, workgroups: grid1d(sizeOf(x!.shape), 256) },
  ],
  // d(x·S)/dx = S: the scale is applied to the gradient seed, so every gradient is S times larger.
  grad: ([dy], [, state]) => [apply(scaleOp, [dy!, state!], {})[0]!, undefined],
};

/** Inputs: a gradient, the state. Sets the state's `found` flag when the gradient has a non-finite value. */
const checkFiniteOp: OpDef = {
  name: 'check_finite',
  grad: null,
  mutates: [1],
  outputs([g]) {
    expectDtype('check_finite', 'gradient', g!, 'f32');
    return [];
  },
  kernels: ({ inputs: [g, state] }) => [
    { shader: lossScaleShader, entry: 'check_finite', params: { size: sizeOf(g!.shape) }, buffers: { x_bits: g!, flags: state! }, workgroups: grid1d(sizeOf(g!.shape), 256) },
  ],
};

const updateOp: OpDef<{ growthInterval: number }> = {
  name: 'update_loss_scale',
  grad: null,
  mutates: [0],
  outputs: () => [],
  kernels: ({ inputs: [state] }, attrs) => [{ shader: lossScaleShader, entry: 'update_loss_scale', params: attrs, buffers: { state_rw: state! }, workgroups: [1] }],
};

/**
 * Dynamic loss scaling for mixed-precision training (f16 GEMMs, f32 master weights and
 * optimizer state). The loss is multiplied by S before differentiation, so that small
 * gradients do not flush to zero when they are rounded to f16; the optimizer divides the
 * gradients by S again in its update. If any gradient of a step is ±∞ or NaN (S made an f16
 * gradient overflow), the whole update is skipped and S halves; after `growthInterval`
 * clean steps in a row S doubles. All of it runs on the GPU inside the step (no readback):
 * one extra read of every gradient per step (check_finite) and one single-invocation dispatch.
 * `read()` fetches S and the skip count when you want them (fit does once per epoch).
 *
 * @example
 * const scaler = new LossScaler(ctx, { initialScale: 2 ** 15, growthInterval: 2000 });
 * new Adam({ learningRate: 1e-3 }).minimize(loss, params, { lossScaler: scaler });
 */
export class LossScaler {
  /** The state (lib/loss_scale_state.wgsl), u32 words; save it with checkpoints. */
  readonly state: Tensor;
  readonly growthInterval: number;
  readonly initialScale: number;

  constructor(ctx: GpuContext, options: LossScaleOptions = {}) {
    const scale = options.initialScale ?? 2 ** 15;
    if (!(Number.isInteger(Math.log2(scale)) && scale >= 2 ** -100 && scale <= 2 ** 100)) {
      throw new Error(`LossScaler: initialScale must be a power of two (e.g. 32768), got ${scale}`);
    }
    const interval = options.growthInterval ?? 2000;
    if (!(Number.isInteger(interval) && interval >= 1)) throw new Error(`LossScaler: growthInterval must be a positive integer of steps, got ${interval}`);
    this.initialScale = scale;
    this.growthInterval = interval;
    this.state = Tensor.empty(ctx, [STATE_WORDS], 'u32');
    this.reset();
  }

  /** Back to the initial scale, with no steps counted. */
  reset(): void {
    const words = new Uint32Array(STATE_WORDS);
    new Float32Array(words.buffer, 0, 2).set([this.initialScale, 1 / this.initialScale]);
    this.state.write(words);
  }

  /** loss · S, whose gradients are S times the loss's (in a graph). */
  scale(loss: SymbolicTensor): SymbolicTensor {
    return apply(scaleOp, [loss, loss.graph.bind(this.state)], {})[0]!;
  }

  /** Appends the checks that flag the step when a gradient is not finite; before the updates. */
  checkGradients(grads: readonly SymbolicTensor[]): void {
    for (const g of grads) apply(checkFiniteOp, [g, g.graph.bind(this.state)], {});
  }

  /** Appends the end-of-step update of S; after every optimizer update. */
  appendUpdate(graph: Graph): void {
    apply(updateOp, [graph.bind(this.state)], { growthInterval: this.growthInterval });
  }

  /** S, the skipped steps and the clean steps as of the latest submitted step (one 32-byte readback). */
  async read(): Promise<LossScaleReading> {
    const words = (await this.state.read()) as Uint32Array;
    const floats = new Float32Array(words.buffer, 0, 2);
    return { scale: floats[0]!, skippedSteps: words[3]!, cleanSteps: words[2]! };
  }

  dispose(): void {
    this.state.dispose();
  }
}
