import type { GpuContext } from '../gpu/context.js';
import type { AnyTensor } from '../graph/apply.js';
import { type Shape, Tensor, formatShape } from '../graph/tensor.js';
import { batchNorm } from '../ops/batch-norm.js';
import { type ForwardOptions, Layer } from './layer.js';

/**
 * Batch normalisation per channel (NCHW maps) or per feature ([F] per sample), with
 * learnable 'weight' (γ) and 'bias' (β) and running statistics 'running_mean' and
 * 'running_var' (PyTorch names and conventions).
 * @example new BatchNorm({ momentum: 0.1 })
 */
export class BatchNorm extends Layer {
  readonly kind = 'bn';
  private state?: { weight: Tensor; bias: Tensor; runningMean: Tensor; runningVar: Tensor };

  constructor(private readonly options: { name?: string; momentum?: number; eps?: number } = {}) {
    super(options.name);
  }

  /** Added to the variance before the square root (default 1e-5, as PyTorch). */
  get eps(): number {
    return this.options.eps ?? 1e-5;
  }

  outputShape(input: Shape): Shape {
    if (input.length !== 1 && input.length !== 3) {
      throw new Error(`BatchNorm '${this.name}' expects [features] or [channels, height, width] per sample, got ${formatShape(input)}`);
    }
    return input;
  }

  override build(ctx: GpuContext, input: Shape): void {
    const channels = input[0]!;
    const filled = (v: number) => Tensor.from(ctx, new Float32Array(channels).fill(v), [channels]);
    this.state = { weight: filled(1), bias: filled(0), runningMean: filled(0), runningVar: filled(1) };
  }

  forward<T extends AnyTensor>(x: T, options: ForwardOptions): T {
    if (!this.state) throw new Error(`BatchNorm '${this.name}' is not built; call model.build(ctx, inputShape) first`);
    const s = this.state as unknown as Record<string, T>;
    return batchNorm(x, s.weight!, s.bias!, s.runningMean!, s.runningVar!, {
      training: options.training,
      momentum: this.options.momentum,
      eps: this.options.eps,
    });
  }

  override parameters(): Record<string, Tensor> {
    return this.state ? { weight: this.state.weight, bias: this.state.bias } : {};
  }

  override buffers(): Record<string, Tensor> {
    return this.state ? { running_mean: this.state.runningMean, running_var: this.state.runningVar } : {};
  }
}
