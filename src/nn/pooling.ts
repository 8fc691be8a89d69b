import type { AnyTensor } from '../graph/apply.js';
import { avgPool2d, globalAvgPool, maxPool2d } from '../ops/pooling.js';
import { formatShape, type Shape } from '../graph/tensor.js';
import { Layer } from './layer.js';

function pooledShape(layer: Layer, input: Shape, size: number, stride: number): Shape {
  if (input.length !== 3) throw new Error(`${layer.constructor.name} '${layer.name}' expects [channels, height, width] per sample, got ${formatShape(input)}`);
  const [c, h, w] = input as [number, number, number];
  if (h < size || w < size) throw new Error(`${layer.constructor.name} '${layer.name}': window ${size} is larger than the input ${formatShape(input)}`);
  return [c, Math.floor((h - size) / stride) + 1, Math.floor((w - size) / stride) + 1];
}

/** Max pooling over size×size windows (stride defaults to size). @example new MaxPool2d(2) */
export class MaxPool2d extends Layer {
  readonly kind = 'maxpool';
  readonly stride: number;

  constructor(readonly size: number, options: { stride?: number; name?: string } = {}) {
    super(options.name);
    this.stride = options.stride ?? size;
  }

  outputShape(input: Shape): Shape {
    return pooledShape(this, input, this.size, this.stride);
  }

  forward<T extends AnyTensor>(x: T): T {
    return maxPool2d(x, { size: this.size, stride: this.stride });
  }
}

/** Average pooling over size×size windows. @example new AvgPool2d(2) */
export class AvgPool2d extends Layer {
  readonly kind = 'avgpool';
  readonly stride: number;

  constructor(readonly size: number, options: { stride?: number; name?: string } = {}) {
    super(options.name);
    this.stride = options.stride ?? size;
  }

  outputShape(input: Shape): Shape {
    return pooledShape(this, input, this.size, this.stride);
  }

  forward<T extends AnyTensor>(x: T): T {
    return avgPool2d(x, { size: this.size, stride: this.stride });
  }
}

/** Mean over height and width: [C, H, W] -> [C]. @example new GlobalAvgPool() */
export class GlobalAvgPool extends Layer {
  readonly kind = 'gap';

  outputShape(input: Shape): Shape {
    if (input.length !== 3) throw new Error(`GlobalAvgPool '${this.name}' expects [channels, height, width] per sample, got ${formatShape(input)}`);
    return [input[0]!];
  }

  forward<T extends AnyTensor>(x: T): T {
    return globalAvgPool(x);
  }
}
