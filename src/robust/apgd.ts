// APGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of
// diverse parameter-free attacks"), L∞, on the GPU: a PGD with momentum whose per-image step
// size starts at 2ε and is halved at checkpoints where the loss oscillated or stopped
// improving (then the image restarts from its best point). Losses: cross-entropy (APGD-CE),
// DLR (APGD-DLR) and targeted DLR (APGD-T, run once per target class: the 2nd, 3rd, ...
// largest clean logits). Every iteration is one compiled plan (forward, input gradient,
// tracking, step) and one submit; the host reads the per-image state only at checkpoints.
import { deriveSeed } from '../data/seed.js';
import { gradients } from '../graph/autodiff.js';
import { Graph } from '../graph/graph.js';
import { compile, type Plan } from '../graph/plan.js';
import type { SymbolicTensor } from '../graph/symbolic.js';
import { Tensor } from '../graph/tensor.js';
import { dlrLossPerRow } from '../losses/dlr-loss.js';
import { softmaxCrossEntropyPerRow } from '../losses/softmax-cross-entropy.js';
import type { Sequential } from '../nn/sequential.js';
import { argmaxCorrect } from '../ops/accuracy.js';
import { sum } from '../ops/reduce.js';
import { apgdRestart, apgdStep, apgdTrack } from './apgd-ops.js';
import { attackRandomStart, keepBestAdversarial } from './attack-ops.js';
import { PlanCache } from './plan-cache.js';

/** What APGD maximises: cross-entropy, DLR, or targeted DLR. */
export type ApgdLoss = 'ce' | 'dlr' | 'dlr-targeted';

/** The paper's constants: momentum 0.75, oscillation threshold ρ = 0.75, first step 2ε. */
export const APGD_CONSTANTS = { momentum: 0.75, rho: 0.75, initialStep: 2 } as const;

/**
 * The iterations (1-based counts of steps taken) after which APGD checks its step sizes,
 * each with the window it looks back over: the first after 22 % of the steps, then windows
 * shrinking by 3 % down to 6 % (the paper's p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06),
 * as the authors' code rounds it).
 * @example apgdCheckpoints(100) // [{ step: 22, window: 22 }, { step: 41, window: 19 }, ...]
 */
export function apgdCheckpoints(steps: number): { step: number; window: number }[] {
  const first = Math.max(Math.floor(0.22 * steps), 1);
  const smallest = Math.max(Math.floor(0.06 * steps), 1);
  const shrink = Math.max(Math.floor(0.03 * steps), 1);
  const out: { step: number; window: number }[] = [];
  for (let window = first, step = first; step <= steps; window = Math.max(window - shrink, smallest), step += window) out.push({ step, window });
  return out;
}

/** Host-side per-image schedule state between checkpoints. */
export class ApgdSchedule {
  readonly eta: Float32Array;
  private readonly reducedLastCheck: Uint8Array;
  private readonly bestLastCheck: Float32Array;

  constructor(readonly images: number, epsilon: number) {
    this.eta = new Float32Array(images).fill(APGD_CONSTANTS.initialStep * epsilon);
    // "Halved at the last check" starts true, so the first checkpoint tests oscillation only
    // and bestLastCheck is first read after that checkpoint has set it.
    this.reducedLastCheck = new Uint8Array(images).fill(1);
    this.bestLastCheck = new Float32Array(images).fill(-Infinity);
  }

  /**
   * The checkpoint decision per image from `state` (f_prev, f_max, increases, improved per
   * image): halve η and restart from the best point when the loss rose in at most ρ of the
   * window's steps, or when η was not halved at the last checkpoint and f_max has not grown
   * since. Returns 1 per image to restart.
   */
  checkpoint(state: Float32Array, window: number): Float32Array {
    const restart = new Float32Array(this.images);
    for (let r = 0; r < this.images; r++) {
      const best = state[4 * r + 1]!;
      const oscillating = state[4 * r + 2]! <= window * APGD_CONSTANTS.rho;
      const stalled = this.reducedLastCheck[r] === 0 && this.bestLastCheck[r]! >= best;
      const reduce = oscillating || stalled;
      this.reducedLastCheck[r] = reduce ? 1 : 0;
      this.bestLastCheck[r] = best;
      if (reduce) {
        this.eta[r] = this.eta[r]! / 2;
        restart[r] = 1;
      }
    }
    return restart;
  }
}

/** The Attacker's GPU tensors APGD works on. */
export interface ApgdTensors {
  x: Tensor;
  y: Tensor;
  xAdv: Tensor;
  best: Tensor;
  bestKey: Tensor;
  budget: Tensor;
  counter: Tensor;
}

/**
 * Runs APGD on one batch held in the Attacker's tensors, keeping per image the strongest
 * point in best/bestKey (misclassified beats correct). Its own buffers and plans are made
 * once and reused for every batch, loss and ε.
 */
export class ApgdRunner {
  private readonly xPrev: Tensor;
  private readonly xMax: Tensor;
  private readonly state: Tensor;
  private readonly eta: Tensor;
  private readonly restart: Tensor;
  private readonly targets: Tensor;
  private readonly plans: PlanCache;
  private readonly logits: { graph: Graph; plan: Plan; output: SymbolicTensor };

  constructor(private readonly model: Sequential, private readonly t: ApgdTensors) {
    const ctx = model.ctx;
    const batch = t.x.shape[0]!;
    this.xPrev = Tensor.empty(ctx, t.x.shape);
    this.xMax = Tensor.empty(ctx, t.x.shape);
    this.state = Tensor.empty(ctx, [batch, 4]);
    this.eta = Tensor.empty(ctx, [batch]);
    this.restart = Tensor.empty(ctx, [batch]);
    this.targets = Tensor.from(ctx, new Uint32Array(batch), [batch]);
    this.plans = new PlanCache(ctx);
    const graph = new Graph(ctx);
    const output = model.call(graph.bind(t.x), { training: false });
    this.logits = { graph, plan: compile(graph, { fetch: [output] }), output };
  }

  /** Clean logits of the batch, [batch, classes] (for picking APGD-T's target classes). */
  async cleanLogits(): Promise<Float32Array> {
    this.logits.plan.run();
    return (await this.logits.plan.read(this.logits.output)) as Float32Array;
  }

  /**
   * One APGD run of `steps` iterations from a random start drawn from (seed, stream), with
   * `targets` (u32 per image) for the targeted loss.
   */
  async run(options: { loss: ApgdLoss; epsilon: number; steps: number; seed: number; stream: number; targets?: Uint32Array }): Promise<void> {
    const { loss, epsilon, steps } = options;
    const batch = this.t.x.shape[0]!;
    if (loss === 'dlr-targeted') {
      if (!options.targets) throw new Error('apgd: the targeted DLR loss needs target classes');
      this.targets.write(options.targets);
    }
    this.t.budget.write(new Float32Array([epsilon, 1]));
    this.t.counter.write(new Uint32Array([deriveSeed(options.seed, 0x41504744), options.stream]));
    // The start is a pure function of the counter: drawn into x′ and x_prev alike, so the
    // first step has no momentum term and nothing is read back.
    this.planFor('start', (g) => {
      for (const target of [this.t.xAdv, this.xPrev]) attackRandomStart(g.bind(target), g.bind(this.t.x), g.bind(this.t.budget), g.bind(this.t.counter), { norm: 'linf' });
    }).run();
    this.state.write(new Float32Array(batch * 4).map((_, i) => [Infinity, -Infinity, 0, 0][i % 4]!));
    const schedule = new ApgdSchedule(batch, epsilon);
    this.eta.write(schedule.eta);
    const observe = this.observePlan(loss, false);
    const observeAndStep = this.observePlan(loss, true);
    const stepOnly = this.stepPlan(loss);
    // x_0: observed, then the first step (momentum 1) in the same plan.
    observeAndStep.run();
    this.t.budget.write(new Float32Array([epsilon, APGD_CONSTANTS.momentum]));
    const checkpoints = new Map(apgdCheckpoints(steps).map((c) => [c.step, c.window]));
    for (let done = 1; done <= steps; done++) {
      const window = checkpoints.get(done);
      if (done === steps || window !== undefined) {
        observe.run();
        if (window !== undefined) await this.checkpoint(schedule, window);
        if (done < steps) stepOnly.run();
      } else {
        observeAndStep.run();
      }
    }
  }

  dispose(): void {
    this.plans.dispose();
    this.logits.plan.dispose();
    this.logits.graph.dispose();
    for (const t of [this.xPrev, this.xMax, this.state, this.eta, this.restart, this.targets]) t.dispose();
  }

  private async checkpoint(schedule: ApgdSchedule, window: number): Promise<void> {
    const state = (await this.state.read()) as Float32Array;
    const restart = schedule.checkpoint(state, window);
    this.eta.write(schedule.eta);
    if (restart.some((v) => v !== 0)) {
      this.restart.write(restart);
      this.planFor('restart', (g) => apgdRestart(g.bind(this.t.xAdv), g.bind(this.xMax), g.bind(this.restart))).run();
    }
    for (let r = 0; r < schedule.images; r++) state[4 * r + 2] = 0;
    this.state.write(state);
  }

  private lossPerRow(loss: ApgdLoss, logits: SymbolicTensor, graph: Graph): SymbolicTensor {
    const y = graph.bind(this.t.y);
    if (loss === 'ce') return softmaxCrossEntropyPerRow(logits, y);
    return dlrLossPerRow(logits, y, loss === 'dlr-targeted' ? graph.bind(this.targets) : undefined);
  }

  /** Forward at x′, the loss tracked and scored; with `step`, also the gradient and the APGD step. */
  private observePlan(loss: ApgdLoss, step: boolean): Plan {
    return this.planFor(`observe/${loss}/${step}`, (g) => {
      const xAdv = g.bind(this.t.xAdv);
      const logits = this.model.call(xAdv, { training: false });
      const perRow = this.lossPerRow(loss, logits, g);
      const [grad] = step ? gradients(sum(perRow), [xAdv]) : [];
      apgdTrack(g.bind(this.state), g.bind(this.xMax), perRow, xAdv);
      keepBestAdversarial(g.bind(this.t.best), g.bind(this.t.bestKey), xAdv, argmaxCorrect(logits, g.bind(this.t.y))[1], perRow);
      if (step) apgdStep(xAdv, g.bind(this.xPrev), g.bind(this.t.x), grad!, g.bind(this.eta), g.bind(this.t.budget));
    });
  }

  /** Forward and gradient at x′ and the APGD step, without tracking (after an observation). */
  private stepPlan(loss: ApgdLoss): Plan {
    return this.planFor(`step/${loss}`, (g) => {
      const xAdv = g.bind(this.t.xAdv);
      const [grad] = gradients(sum(this.lossPerRow(loss, this.model.call(xAdv, { training: false }), g)), [xAdv]);
      apgdStep(xAdv, g.bind(this.xPrev), g.bind(this.t.x), grad!, g.bind(this.eta), g.bind(this.t.budget));
    });
  }

  private planFor(key: string, trace: (graph: Graph) => void): Plan {
    return this.plans.get(key, trace);
  }
}

/**
 * APGD-T's target per image: the class with the `rank`-th largest clean logit (rank 2 = the
 * runner-up, ..., as AutoAttack picks its 9 targets).
 */
export function targetsOfRank(logits: Float32Array, images: number, classes: number, rank: number): Uint32Array {
  const out = new Uint32Array(images);
  for (let r = 0; r < images; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const order = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b);
    out[r] = order[rank - 1]!;
  }
  return out;
}
