import type { GpuContext } from '../gpu/context.js';
import type { AnyTensor } from '../graph/apply.js';
import { type Shape, Tensor } from '../graph/tensor.js';
import { add, broadcastScalar, scale } from '../ops/elementwise.js';
import { Layer } from './layer.js';

/**
 * (x − mean) / std on every input value, with no trainable state: puts pixels in [0, 1]
 * into the range an imported teacher was trained on (e.g. MNIST's mean 0.1307, std 0.3081).
 * @example sequential([new Standardize(0.1307, 0.3081), onnxLayer])
 */
export class Standardize extends Layer {
  readonly kind = 'standardize';
  private shift?: Tensor;

  constructor(readonly mean: number, readonly std: number, options: { name?: string } = {}) {
    super(options.name);
    if (!Number.isFinite(mean) || !(std > 0) || !Number.isFinite(std)) throw new Error(`Standardize: mean must be finite and std positive, got mean ${mean}, std ${std}`);
  }

  outputShape(input: Shape): Shape {
    return input;
  }

  override build(ctx: GpuContext): void {
    this.shift = Tensor.from(ctx, new Float32Array([-this.mean / this.std]), [1]);
  }

  forward<T extends AnyTensor>(x: T): T {
    if (!this.shift) throw new Error(`Standardize '${this.name}' is not built; call model.build(ctx, inputShape) first`);
    return add(scale(x, 1 / this.std), broadcastScalar(this.shift as AnyTensor as T, x.shape));
  }

  override dispose(): void {
    this.shift?.dispose();
  }
}
