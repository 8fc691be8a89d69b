import type { GpuContext } from '../gpu/context.js';
import type { AnyTensor } from '../graph/apply.js';
import type { Shape, Tensor } from '../graph/tensor.js';
import type { DropoutRng } from '../ops/dropout.js';
import type { Precision } from '../ops/matmul.js';
import type { Random } from './random.js';

export interface ForwardOptions {
  /** Training mode: dropout drops, batch norm uses and updates batch statistics. */
  training: boolean;
  /** Generator for dropout masks (the model's own by default). */
  rng?: DropoutRng;
  /** Fuse a following ReLU into this layer's kernel (set by Sequential). */
  fuseRelu?: boolean;
  /**
   * 'f16': layers that can (Dense, Conv2d) multiply f16 copies of their input and weights,
   * summing in f32 (mixed precision; needs ctx.hasF16). Every other layer runs in f32.
   * Default 'f32'.
   */
  precision?: Precision;
}

/**
 * A named building block of a model. Shapes here are per sample (no batch dimension).
 * `build` creates parameters for a given input shape; `forward` applies the layer to a
 * batch, eagerly or into a graph.
 */
export abstract class Layer {
  /** Set by the constructor or, when omitted, by Sequential (e.g. 'conv1'). */
  name: string;

  constructor(name?: string) {
    this.name = name ?? '';
  }

  /** Short kind used for automatic names ('dense', 'conv', ...). */
  abstract readonly kind: string;

  /** Output shape for one sample of `input` shape; throws with the shapes if it does not fit. */
  abstract outputShape(input: Shape): Shape;

  /** Creates this layer's parameters for `input` (per-sample shape). */
  build(_ctx: GpuContext, _input: Shape, _random: Random): void {}

  abstract forward<T extends AnyTensor>(x: T, options: ForwardOptions): T;

  /** Trainable tensors by local name ('weight', 'bias'). */
  parameters(): Record<string, Tensor> {
    return {};
  }

  /** Non-trained state saved with the weights (batch norm's running statistics). */
  buffers(): Record<string, Tensor> {
    return {};
  }

  /**
   * Per-sample shape of a value inside the layer that a model may tap by name (an imported
   * ONNX graph's node outputs), or undefined when the layer has no such value.
   */
  innerShapeOf(_name: string): Shape | undefined {
    return undefined;
  }

  /** Names of the inner values innerShapeOf knows (for messages). */
  innerTapNames(): string[] {
    return [];
  }

  /** The layer's output and the inner values named in `taps` (see innerShapeOf), in one run. */
  forwardWithTaps<T extends AnyTensor>(x: T, taps: readonly string[], options: ForwardOptions): { output: T; features: Record<string, T> } {
    if (taps.length > 0) throw new Error(`layer '${this.name}' has no inner values to tap (asked for ${taps.join(', ')})`);
    return { output: this.forward(x, options), features: {} };
  }

  /** True if a ReLU can be fused into this layer's kernel. */
  get fusesRelu(): boolean {
    return false;
  }

  dispose(): void {
    for (const t of [...Object.values(this.parameters()), ...Object.values(this.buffers())]) t.dispose();
  }
}
