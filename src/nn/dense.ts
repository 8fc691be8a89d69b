import type { GpuContext } from '../gpu/context.js';
import type { AnyTensor } from '../graph/apply.js';
import { type Shape, Tensor, formatShape } from '../graph/tensor.js';
import { linear } from '../ops/matmul.js';
import { type ForwardOptions, Layer } from './layer.js';
import { glorotUniform, heNormal, type Random } from './random.js';

export interface DenseOptions {
  name?: string;
  /** Fused activation (default none). */
  activation?: 'relu';
  /** Weight init: He normal (default, for ReLU nets) or Glorot uniform. */
  init?: 'he' | 'glorot';
}

/**
 * Fully connected layer: y = x·W + b, W [in, out] (named 'weight'), b [out] ('bias').
 * @example new Dense(64, { activation: 'relu' })
 */
export class Dense extends Layer {
  readonly kind = 'dense';
  private weight?: Tensor;
  private bias?: Tensor;

  constructor(readonly units: number, private readonly options: DenseOptions = {}) {
    super(options.name);
    if (!Number.isInteger(units) || units <= 0) throw new Error(`Dense: units must be a positive integer, got ${units}`);
  }

  outputShape(input: Shape): Shape {
    if (input.length !== 1) throw new Error(`Dense '${this.name}' expects flat features per sample, got ${formatShape(input)}; put a Flatten before it`);
    return [this.units];
  }

  override build(ctx: GpuContext, input: Shape, random: Random): void {
    const fanIn = input[0]!;
    const init = this.options.init === 'glorot' ? glorotUniform : heNormal;
    this.weight = Tensor.from(ctx, init(random, fanIn, this.units), [fanIn, this.units]);
    this.bias = Tensor.from(ctx, new Float32Array(this.units), [this.units]);
  }

  forward<T extends AnyTensor>(x: T, options: ForwardOptions): T {
    const relu = this.options.activation === 'relu' || options.fuseRelu === true;
    return linear(x, this.param(this.weight) as AnyTensor as T, this.param(this.bias) as AnyTensor as T, { relu, precision: options.precision });
  }

  override parameters(): Record<string, Tensor> {
    return this.weight && this.bias ? { weight: this.weight, bias: this.bias } : {};
  }

  override get fusesRelu(): boolean {
    return this.options.activation === undefined;
  }

  private param(t: Tensor | undefined): Tensor {
    if (!t) throw new Error(`Dense '${this.name}' is not built; call model.build(ctx, inputShape) first`);
    return t;
  }
}
