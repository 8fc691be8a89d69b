import type { GpuContext } from '../gpu/context.js';
import type { AnyTensor } from '../graph/apply.js';
import { type Shape, sizeOf, type Tensor, formatShape } from '../graph/tensor.js';
import { DropoutRng } from '../ops/dropout.js';
import type { Precision } from '../ops/matmul.js';
import { ReLU } from './basic.js';
import { Layer } from './layer.js';
import { Random } from './random.js';

export interface SequentialOptions {
  /** Model name, used in messages and saved files (default 'model'). */
  name?: string;
}

export interface BuildOptions {
  /** Seed for weight init and dropout masks: same seed, same model. */
  seed?: number;
}

export interface ModelForwardOptions {
  training: boolean;
  /** 'f16': Dense and Conv2d layers run with f16 operands (see ForwardOptions.precision); default 'f32'. */
  precision?: Precision;
  /** Layer names whose outputs to return in `features` (feature distillation). */
  taps?: readonly string[];
}

/**
 * Layers applied in order. Every layer has a unique name (given or automatic: conv1,
 * relu1, dense1, ...) so features can be tapped by name and weights saved as
 * 'conv1.weight'. A ReLU right after a Dense or Conv2d is fused into its kernel.
 *
 * @example
 * const model = sequential([new Conv2d(32), new ReLU(), new MaxPool2d(2), new Flatten(), new Dense(10)])
 *   .build(ctx, [1, 28, 28], { seed: 1 });
 * const logits = model.call(x, { training: true });
 */
export class Sequential {
  readonly name: string;
  private built?: { ctx: GpuContext; inputShape: Shape; shapes: Shape[]; rng: DropoutRng };
  private disposed = false;

  constructor(readonly layers: readonly Layer[], options: SequentialOptions = {}) {
    this.name = options.name ?? 'model';
    const counts = new Map<string, number>();
    const seen = new Set<string>();
    for (const layer of layers) {
      const n = (counts.get(layer.kind) ?? 0) + 1;
      counts.set(layer.kind, n);
      if (!layer.name) layer.name = `${layer.kind}${n}`;
      if (seen.has(layer.name)) throw new Error(`model '${this.name}': two layers are named '${layer.name}'; layer names must be unique`);
      if (layer.name.includes('.')) throw new Error(`model '${this.name}': layer name '${layer.name}' must not contain '.'`);
      seen.add(layer.name);
    }
  }

  /** Creates every layer's parameters for samples of `inputShape` (no batch dimension). */
  build(ctx: GpuContext, inputShape: Shape, options: BuildOptions = {}): this {
    if (this.built) throw new Error(`model '${this.name}' is already built`);
    this.disposed = false;
    const seed = options.seed ?? 0;
    const random = new Random(seed);
    const shapes: Shape[] = [];
    let shape = inputShape;
    for (const layer of this.layers) {
      const next = layer.outputShape(shape);
      layer.build(ctx, shape, random);
      shapes.push(next);
      shape = next;
    }
    this.built = { ctx, inputShape, shapes, rng: new DropoutRng(ctx, (seed * 2654435761 + 1) >>> 0) };
    return this;
  }

  get ctx(): GpuContext {
    return this.ready().ctx;
  }

  get inputShape(): Shape {
    return this.ready().inputShape;
  }

  get outputShape(): Shape {
    return this.ready().shapes.at(-1) ?? this.inputShape;
  }

  /**
   * Per-sample shape of a tap: a layer's output by layer name, or a value inside a layer
   * that has them (an imported ONNX graph's node outputs, by ONNX name).
   */
  shapeOf(name: string): Shape {
    const { shapes } = this.ready();
    const inner = this.innerTap(name);
    return inner ? inner.shape : shapes[this.indexOf(name)]!;
  }

  /**
   * Runs the model on a batch [batch, ...inputShape]; returns the output and the outputs of
   * the layers named in `taps`.
   */
  forward<T extends AnyTensor>(x: T, options: ModelForwardOptions): { output: T; features: Record<string, T> } {
    const { rng } = this.ready();
    if (x.shape.slice(1).join() !== this.inputShape.join()) {
      throw new Error(`model '${this.name}' expects input [batch, ${this.inputShape.join(', ')}], got ${formatShape(x.shape)}`);
    }
    const taps = new Set(options.taps ?? []);
    // Taps inside a layer (ONNX values), grouped by the layer that computes them.
    const innerTaps = new Map<number, string[]>();
    for (const name of taps) {
      const inner = this.innerTap(name);
      if (inner) innerTaps.set(inner.index, [...(innerTaps.get(inner.index) ?? []), name]);
      else this.indexOf(name);
    }
    const features: Record<string, T> = {};
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i]!;
      const next = this.layers[i + 1];
      const fuse = layer.fusesRelu && next instanceof ReLU && !taps.has(layer.name);
      const inside = innerTaps.get(i);
      if (inside) {
        const run = layer.forwardWithTaps(h, inside, { training: options.training, rng, precision: options.precision });
        h = run.output;
        Object.assign(features, run.features);
      } else {
        h = layer.forward(h, { training: options.training, rng, fuseRelu: fuse, precision: options.precision });
      }
      if (taps.has(layer.name)) features[layer.name] = h;
      if (fuse) {
        i++;
        if (taps.has(next.name)) features[next.name] = h;
      }
    }
    return { output: h, features };
  }

  /** The model's output for a batch. @example const logits = model.call(x, { training: false }); */
  call<T extends AnyTensor>(x: T, options: { training: boolean; precision?: Precision }): T {
    return this.forward(x, options).output;
  }

  /** Trainable tensors named 'layer.weight', 'layer.bias', ... */
  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const layer of this.layers) for (const [k, t] of Object.entries(layer.parameters())) out.set(`${layer.name}.${k}`, t);
    return out;
  }

  /** Parameters plus non-trained state (running statistics): everything a checkpoint saves. */
  state(): Map<string, Tensor> {
    const out = this.parameters();
    for (const layer of this.layers) for (const [k, t] of Object.entries(layer.buffers())) out.set(`${layer.name}.${k}`, t);
    return out;
  }

  get parameterCount(): number {
    let n = 0;
    for (const t of this.parameters().values()) n += sizeOf(t.shape);
    return n;
  }

  /** The dropout generator: its step is part of a resumable training state. */
  get dropoutRng(): DropoutRng {
    return this.ready().rng;
  }

  /** One line per layer: name, output shape, parameter count. */
  summary(): string {
    const lines = [`${this.name}: input ${formatShape(this.inputShape)}`];
    this.layers.forEach((layer, i) => {
      const params = Object.values(layer.parameters()).reduce((n, t) => n + sizeOf(t.shape), 0);
      lines.push(`  ${layer.name.padEnd(12)} ${formatShape(this.ready().shapes[i]!).padEnd(16)} ${params}`);
    });
    lines.push(`  total parameters: ${this.parameterCount}`);
    return lines.join('\n');
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
    this.built?.rng.dispose();
    this.built = undefined;
    this.disposed = true;
  }

  private indexOf(layerName: string): number {
    const i = this.layers.findIndex((l) => l.name === layerName);
    if (i < 0) {
      const inner = this.layers.flatMap((l) => l.innerTapNames().map((v) => `'${v}'`));
      const values = inner.length > 0 ? `; or a value inside it: ${inner.slice(0, 12).join(', ')}${inner.length > 12 ? `, ... (${inner.length} in all)` : ''}` : '';
      throw new Error(`model '${this.name}' has no layer named '${layerName}' (layers: ${this.layers.map((l) => l.name).join(', ')})${values}`);
    }
    return i;
  }

  /** The layer holding an inner value `name` (not a layer name) and the value's per-sample shape. */
  private innerTap(name: string): { index: number; shape: Shape } | undefined {
    if (this.layers.some((l) => l.name === name)) return undefined;
    for (const [index, layer] of this.layers.entries()) {
      const shape = layer.innerShapeOf(name);
      if (shape) return { index, shape };
    }
    return undefined;
  }

  private ready() {
    if (this.disposed) throw new Error(`model '${this.name}' was disposed; build a new one (or load its weights into one) to use it again`);
    if (!this.built) throw new Error(`model '${this.name}' is not built; call model.build(ctx, inputShape) first`);
    return this.built;
  }
}

/** Shorthand for `new Sequential(layers, options)`. */
export function sequential(layers: readonly Layer[], options: SequentialOptions = {}): Sequential {
  return new Sequential(layers, options);
}
