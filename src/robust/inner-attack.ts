import type { GpuContext } from '../gpu/context.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { Tensor } from '../graph/tensor.js';
import type { Sequential } from '../nn/sequential.js';
import { type AttackNorm, attackRandomStart } from './attack-ops.js';
import { resolveAttack, traceAttackStep } from './attacker.js';

/** The PGD run inside every training step (adversarial training, robust distillation). */
export interface InnerAttackOptions {
  epsilon: number;
  norm?: AttackNorm;
  /** Gradient steps per training step (default 10). */
  steps?: number;
  /** Step size α (default relativeStepSize · ε). */
  stepSize?: number;
  /** α / ε when stepSize is not given (default 2.5 / steps). */
  relativeStepSize?: number;
  /** Start from a random point of the ball (default true). */
  randomStart?: boolean;
  /** Seed of the random starts (default 0); each training step draws a new start. */
  seed?: number;
}

/**
 * PGD traced into a training step's graph, so the whole step — random start, `steps`
 * attack steps on the current model in evaluation mode, then the training forward and
 * update — is one submit with no readback. It owns x′ (a GPU tensor that later nodes of
 * the step read), the [ε, α] budget and the random-start counter, which advances before
 * every run of the plan. Dispose it after training.
 *
 * @example
 * const attack = new InnerAttack(ctx, { epsilon: 0.1, steps: 7 });
 * const xAdv = attack.trace(model, x, (logits) => sum(softmaxCrossEntropyPerRow(logits, y)));
 */
export class InnerAttack {
  private readonly tensors: Tensor[] = [];
  private readonly budget: Tensor;
  private readonly counter: Tensor;
  private readonly attack: ReturnType<typeof resolveAttack>;
  private readonly seed: number;
  private step = 0;

  constructor(ctx: GpuContext, options: InnerAttackOptions) {
    this.attack = resolveAttack({ kind: 'pgd', restarts: 1, ...options });
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) throw new Error(`InnerAttack: seed must be an integer in [0, 2^32), got ${this.seed}`);
    this.budget = this.own(Tensor.from(ctx, new Float32Array([this.attack.epsilon, this.attack.stepSize]), [2]));
    this.counter = this.own(Tensor.from(ctx, new Uint32Array([this.seed, 0]), [2]));
  }

  /**
   * Appends the attack on `x` (the step's clean batch) to its graph and returns x′: a
   * random start in the ε-ball (or x itself), then `steps` projected steps maximising
   * `objective(logits of model on x′)`. No gradient flows from later uses of x′ into the
   * attack: x′ is data for the rest of the step.
   */
  trace(model: Sequential, x: SymbolicTensor, objective: (logits: SymbolicTensor) => SymbolicTensor): SymbolicTensor {
    const graph = x.graph;
    const xAdv = graph.bind(this.own(Tensor.from(graph.ctx, new Float32Array(x.size), x.shape)));
    const budget = graph.bind(this.budget);
    const { norm, steps } = this.attack;
    if (this.attack.randomStart) {
      attackRandomStart(xAdv, x, budget, graph.bind(this.counter), { norm });
      graph.beforeRun.push(() => this.advance());
    } else {
      // A random start of radius 0 is a copy of x.
      attackRandomStart(xAdv, x, graph.bind(this.own(Tensor.from(graph.ctx, new Float32Array(2), [2]))), graph.bind(this.counter), { norm });
    }
    for (let s = 0; s < steps; s++) traceAttackStep(model, xAdv, x, budget, norm, objective);
    return xAdv;
  }

  dispose(): void {
    for (const t of this.tensors.splice(0)) t.dispose();
  }

  private advance(): void {
    this.step = (this.step + 1) >>> 0;
    this.counter.write(new Uint32Array([this.seed, this.step]));
  }

  private own(t: Tensor): Tensor {
    this.tensors.push(t);
    return t;
  }
}
