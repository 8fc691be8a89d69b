import dropoutCode from '../../shaders/dropout.wgsl';
import type { GpuContext } from '../gpu/context.js';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import type { Graph } from '../graph/graph.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { SymbolicTensor } from '../graph/symbolic.js';
import { formatShape, sizeOf, Tensor } from '../graph/tensor.js';
import { expectDtype } from './shape-errors.js';

const dropoutShader = shader('dropout', dropoutCode, wgslLib.random, wgslLib.grid);

interface DropoutAttrs {
  p: number;
  /** Separates the masks of different dropout layers that share one generator. */
  stream: number;
}

/** Inputs: x, counter u32 [seed, step]. The mask is recomputed from the counter in backward. */
const dropoutOp: OpDef<DropoutAttrs> = {
  name: 'dropout',
  outputs([x, counter]) {
    expectDtype('dropout', 'x', x!, 'f32');
    expectDtype('dropout', 'counter', counter!, 'u32');
    if (sizeOf(counter!.shape) !== 2) throw new Error(`dropout: counter must hold [seed, step] (2 values), got shape ${formatShape(counter!.shape)}`);
    return [{ shape: x!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x, counter], outputs: [y] }, { p, stream }) => [
    {
      shader: dropoutShader,
      entry: 'dropout',
      params: { size: sizeOf(x!.shape), p, scale: 1 / (1 - p), stream },
      buffers: { x: x!, counter: counter!, out: y! },
      workgroups: grid1d(sizeOf(x!.shape), 256),
    },
  ],
  // Linear in x with the same mask, which the same counter reproduces: dx = dropout(dy).
  grad: ([dy], [, counter], _outputs, attrs) => [apply(dropoutOp, [dy!, counter!], attrs)[0], undefined],
};

function checkProbability(p: number): void {
  if (!(Number.isFinite(p) && p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
}

/**
 * The seed and step counter behind dropout masks. Masks are a pure function of (seed, step,
 * layer, element), so the same seed replays the same sequence of masks on any device. The
 * step advances before every run of a plan that uses it (and before every eager call);
 * only 8 bytes are written per step.
 * @example const rng = new DropoutRng(ctx, 1234);  // then dropout(h, { p: 0.5, training: true, rng })
 */
export class DropoutRng {
  /** u32 [seed, step], read by the dropout kernel. */
  readonly counter: Tensor;
  private steps = 0;
  private streams = 0;
  private readonly graphs = new WeakSet<Graph>();

  private currentSeed: number;

  constructor(ctx: GpuContext, seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`DropoutRng: seed must be an integer in [0, 2^32), got ${seed}`);
    }
    this.currentSeed = seed;
    this.counter = Tensor.from(ctx, new Uint32Array([seed, 0]), [2]);
  }

  get seed(): number {
    return this.currentSeed;
  }

  /** Masks drawn so far (the step the latest mask used). */
  get step(): number {
    return this.steps;
  }

  /** Continues from (seed, step) (resuming a run): the next masks are those of step + 1. */
  restore(step: number, seed: number = this.currentSeed): void {
    for (const [what, v] of [['step', step], ['seed', seed]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`DropoutRng.restore: ${what} must be an integer in [0, 2^32), got ${v}`);
    }
    this.currentSeed = seed;
    this.steps = step;
    this.counter.write(new Uint32Array([this.seed, this.steps]));
  }

  /** Moves to the next step's masks. */
  advance(): void {
    this.steps = (this.steps + 1) >>> 0;
    this.counter.write(new Uint32Array([this.seed, this.steps]));
  }

  /** @internal the counter as an input of `x`'s graph, advanced before each of its runs. */
  counterFor<T extends AnyTensor>(x: T): T {
    if (!(x instanceof SymbolicTensor)) {
      this.advance();
      return this.counter as T;
    }
    if (!this.graphs.has(x.graph)) {
      this.graphs.add(x.graph);
      x.graph.beforeRun.push(() => this.advance());
    }
    return x.graph.bind(this.counter) as T;
  }

  /** @internal a fresh stream id for one more dropout layer. */
  nextStream(): number {
    return this.streams++;
  }

  dispose(): void {
    this.counter.dispose();
  }
}

export interface DropoutOptions {
  /** Probability of zeroing an element, in [0, 1). */
  p: number;
  /** false (evaluation) returns x unchanged. */
  training: boolean;
  rng: DropoutRng;
}

/**
 * Inverted dropout: in training, each element is zeroed with probability p and the rest are
 * scaled by 1/(1 − p), so evaluation needs no rescaling; in evaluation (or with p = 0) it is
 * the identity and costs nothing. In a compiled plan each run draws a fresh mask; backward
 * recomputes the same mask from the same counter instead of storing it.
 * @example const h2 = dropout(relu(h), { p: 0.5, training: true, rng });
 */
export function dropout<T extends AnyTensor>(x: T, { p, training, rng }: DropoutOptions): T {
  checkProbability(p);
  if (!training || p === 0) return x;
  return dropoutWithCounter(x, rng.counterFor(x), { p, stream: rng.nextStream() });
}

/**
 * Dropout with the mask taken from an explicit u32 [seed, step] counter tensor that the
 * caller manages (nothing advances it). Same counter and stream, same mask.
 * @example const y = dropoutWithCounter(x, Tensor.from(ctx, new Uint32Array([7, 1]), [2]), { p: 0.1, stream: 0 });
 */
export function dropoutWithCounter<T extends AnyTensor>(x: T, counter: T, { p, stream = 0 }: { p: number; stream?: number }): T {
  checkProbability(p);
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new Error(`dropout: stream must be an integer in [0, 2^32), got ${stream}`);
  return apply(dropoutOp, [x, counter], { p, stream })[0]!;
}
