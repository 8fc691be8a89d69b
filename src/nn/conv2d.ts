import type { GpuContext } from '../gpu/context.js';
import type { AnyTensor } from '../graph/apply.js';
import { type Shape, Tensor, formatShape } from '../graph/tensor.js';
import { conv2d } from '../ops/conv2d.js';
import { type ForwardOptions, Layer } from './layer.js';
import type { Random } from './random.js';

export interface Conv2dLayerOptions {
  name?: string;
  /** Square kernel side (default 3). */
  kernel?: number;
  stride?: number;
  padding?: number;
  activation?: 'relu';
}

/**
 * 2-D convolution on NCHW maps: weight [filters, inChannels, k, k], bias [filters].
 * He-normal init (fan-in = inChannels·k·k).
 * @example new Conv2d(32, { kernel: 3, activation: 'relu' })
 */
export class Conv2d extends Layer {
  readonly kind = 'conv';
  private weight?: Tensor;
  private bias?: Tensor;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;

  constructor(readonly filters: number, private readonly options: Conv2dLayerOptions = {}) {
    super(options.name);
    this.kernel = options.kernel ?? 3;
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    for (const [what, v] of [['filters', filters], ['kernel', this.kernel], ['stride', this.stride]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`Conv2d: ${what} must be a positive integer, got ${v}`);
    }
  }

  outputShape(input: Shape): Shape {
    if (input.length !== 3) throw new Error(`Conv2d '${this.name}' expects [channels, height, width] per sample, got ${formatShape(input)}`);
    const [, h, w] = input as [number, number, number];
    const out = (n: number) => Math.floor((n + 2 * this.padding - this.kernel) / this.stride) + 1;
    if (out(h) <= 0 || out(w) <= 0) {
      throw new Error(`Conv2d '${this.name}': kernel ${this.kernel} does not fit input ${formatShape(input)} with padding ${this.padding}`);
    }
    return [this.filters, out(h), out(w)];
  }

  override build(ctx: GpuContext, input: Shape, random: Random): void {
    const inChannels = input[0]!;
    const fanIn = inChannels * this.kernel * this.kernel;
    const data = new Float32Array(this.filters * fanIn);
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < data.length; i++) data[i] = random.normal() * std;
    this.weight = Tensor.from(ctx, data, [this.filters, inChannels, this.kernel, this.kernel]);
    this.bias = Tensor.from(ctx, new Float32Array(this.filters), [this.filters]);
  }

  forward<T extends AnyTensor>(x: T, options: ForwardOptions): T {
    if (!this.weight || !this.bias) throw new Error(`Conv2d '${this.name}' is not built; call model.build(ctx, inputShape) first`);
    const relu = this.options.activation === 'relu' || options.fuseRelu === true;
    return conv2d(x, this.weight as AnyTensor as T, this.bias as AnyTensor as T, { stride: this.stride, padding: this.padding, relu, precision: options.precision });
  }

  override parameters(): Record<string, Tensor> {
    return this.weight && this.bias ? { weight: this.weight, bias: this.bias } : {};
  }

  override get fusesRelu(): boolean {
    return this.options.activation === undefined;
  }
}
