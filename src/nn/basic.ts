import type { AnyTensor } from '../graph/apply.js';
import { type Shape, sizeOf } from '../graph/tensor.js';
import { relu, reshape } from '../ops/elementwise.js';
import { dropout } from '../ops/dropout.js';
import { type ForwardOptions, Layer } from './layer.js';

/** max(x, 0); fused into a preceding Dense or Conv2d by Sequential. @example new ReLU() */
export class ReLU extends Layer {
  readonly kind = 'relu';

  outputShape(input: Shape): Shape {
    return input;
  }

  forward<T extends AnyTensor>(x: T): T {
    return relu(x);
  }
}

/** [C, H, W] -> [C·H·W] per sample (row-major, so no data moves). @example new Flatten() */
export class Flatten extends Layer {
  readonly kind = 'flatten';

  outputShape(input: Shape): Shape {
    return [sizeOf(input)];
  }

  forward<T extends AnyTensor>(x: T): T {
    if (x.shape.length === 2) return x;
    return reshape(x, [x.shape[0]!, sizeOf(x.shape.slice(1))]);
  }
}

/**
 * Inverted dropout with probability p in training; the identity in evaluation.
 * @example new Dropout(0.5)
 */
export class Dropout extends Layer {
  readonly kind = 'dropout';

  constructor(readonly p: number, options: { name?: string } = {}) {
    super(options.name);
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }

  outputShape(input: Shape): Shape {
    return input;
  }

  forward<T extends AnyTensor>(x: T, options: ForwardOptions): T {
    if (!options.training || this.p === 0) return x;
    if (!options.rng) throw new Error(`Dropout '${this.name}' needs a random generator in training; use it inside a Sequential model`);
    return dropout(x, { p: this.p, training: true, rng: options.rng });
  }
}
