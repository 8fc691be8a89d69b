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
  /**
   * Seed of the random starts (default 0); each training step draws a new start. A run
   * resumed from a checkpoint continues the checkpoint's seed and counter.
   */
  seed?: number;
  /**
   * Grow ε (and α with it) linearly from 0 to `epsilon` over this many training steps, then
   * keep it there (default: no ramp). Step t of a run attacks with ε·min(1, t / N); a run
   * resumed from a checkpoint continues the ramp where it stopped. A ramp keeps early
   * single-step adversarial training from collapsing at large ε (e.g. MNIST at 0.3).
   */
  epsilonRampSteps?: number;
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
  private readonly rampSteps: number | undefined;
  private seed: number;
  private step = 0;

  constructor(ctx: GpuContext, options: InnerAttackOptions) {
    this.attack = resolveAttack({ kind: 'pgd', restarts: 1, ...options });
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) throw new Error(`InnerAttack: seed must be an integer in [0, 2^32), got ${this.seed}`);
    this.rampSteps = options.epsilonRampSteps;
    if (this.rampSteps !== undefined && !(Number.isInteger(this.rampSteps) && this.rampSteps >= 1)) {
      throw new Error(`InnerAttack: epsilonRampSteps must be a positive integer of training steps, got ${this.rampSteps}`);
    }
    this.budget = this.own(Tensor.from(ctx, this.budgetAt(1), [2]));
    this.counter = this.own(Tensor.from(ctx, new Uint32Array([this.seed, 0]), [2]));
  }

  /** The ε of the attack in the next training step (the ramp's value, or ε). */
  get currentEpsilon(): number {
    return this.budgetAt(this.step + 1)[0]!;
  }

  /** [ε, α] for training step t (1-based): on the ramp, both scaled by min(1, t / rampSteps). */
  private budgetAt(t: number): Float32Array {
    const share = this.rampSteps === undefined ? 1 : Math.min(1, t / this.rampSteps);
    return new Float32Array([this.attack.epsilon * share, this.attack.stepSize * share]);
  }

  /** The counter counts plan runs when the starts or the ramp depend on it. */
  private get counts(): boolean {
    return this.attack.randomStart || this.rampSteps !== undefined;
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
    if (this.counts) graph.beforeRun.push(() => this.advance());
    if (this.attack.randomStart) {
      attackRandomStart(xAdv, x, budget, graph.bind(this.counter), { norm });
    } else {
      // A random start of radius 0 is a copy of x.
      attackRandomStart(xAdv, x, graph.bind(this.own(Tensor.from(graph.ctx, new Float32Array(2), [2]))), graph.bind(this.counter), { norm });
    }
    for (let s = 0; s < steps; s++) traceAttackStep(model, xAdv, x, budget, norm, objective);
    return xAdv;
  }

  /** The random-start counter (seed, and runs of the plan so far): what a checkpoint saves. */
  saveState(): { attackSeed: number; attackStep: number } {
    return { attackSeed: this.seed, attackStep: this.step };
  }

  /**
   * Continues the random starts from a checkpoint's saveState(), so that a resumed run draws
   * the starts of an uninterrupted one. A checkpoint without it (written before kdgpu saved
   * it) gets a warning and the counter of an uninterrupted run of a fresh objective,
   * `stepsDone` plan runs with the configured seed.
   */
  restoreState(state: Record<string, number> | undefined, { stepsDone, source }: { stepsDone: number; source: string }): void {
    let seed = state?.attackSeed;
    let step = state?.attackStep;
    if (seed === undefined || step === undefined) {
      seed = this.seed;
      // Without random starts or a ramp the counter never advances and nothing depends on it.
      step = this.counts ? stepsDone >>> 0 : 0;
      if (this.attack.randomStart) {
        console.warn(
          `kdgpu: ${source} does not record the inner attack's random-start counter (written by an older kdgpu); ` +
            `continuing it at step ${step} (the training steps done) with seed ${seed}, as an uninterrupted run would ` +
            `if that run started with a fresh objective and this seed. Otherwise the random starts, and so the weights, ` +
            `will differ from an uninterrupted run.`,
        );
      }
    }
    for (const [what, v] of [['attackSeed', seed], ['attackStep', step]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`InnerAttack.restoreState: ${what} in ${source} must be an integer in [0, 2^32), got ${v}`);
    }
    this.seed = seed;
    this.step = step;
    this.counter.write(new Uint32Array([this.seed, this.step]));
    this.budget.write(this.budgetAt(this.step + 1));
  }

  dispose(): void {
    for (const t of this.tensors.splice(0)) t.dispose();
  }

  private advance(): void {
    this.step = (this.step + 1) >>> 0;
    this.counter.write(new Uint32Array([this.seed, this.step]));
    if (this.rampSteps !== undefined && this.step <= this.rampSteps) this.budget.write(this.budgetAt(this.step));
  }

  private own(t: Tensor): Tensor {
    this.tensors.push(t);
    return t;
  }
}
