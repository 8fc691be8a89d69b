// The Square attack (Andriushchenko et al. 2020, "Square Attack: a query-efficient black-box
// adversarial attack via random search"), L∞, untargeted, on the GPU: it only reads logits,
// so it is the check AutoAttack uses against gradient masking. Each query is one compiled
// plan (candidate, forward, CW margin, accept) and one submit; the host sets the window side
// per iteration from the paper's schedule and reads the margins every 100 queries to stop
// once every image is misclassified.
import type { Plan } from '../graph/plan.js';
import { Tensor } from '../graph/tensor.js';
import { marginLossPerRow } from '../losses/margin-loss.js';
import type { Sequential } from '../nn/sequential.js';
import { argmaxCorrect } from '../ops/accuracy.js';
import { keepBestAdversarial } from './attack-ops.js';
import { PlanCache } from './plan-cache.js';
import { squareAccept, squareCandidate, squareInit } from './square-ops.js';

/** AutoAttack's starting fraction of pixels per square for L∞ (p_init). */
export const SQUARE_P_INIT = 0.8;

/**
 * The fraction of pixels the square covers at `iteration` of `queries`: p_init halved at
 * iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of a 10,000-query run,
 * rescaled to `queries` (the authors' schedule).
 * @example squareFraction(0.8, 60, 10000) // 0.2
 */
export function squareFraction(pInit: number, iteration: number, queries: number): number {
  const at = Math.floor((iteration / queries) * 10000);
  const bounds = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  const halvings = bounds.filter((b) => at > b).length;
  return pInit / 2 ** halvings;
}

/** The square's side for a fraction p of an h×w image: round(√(p·h·w)), at least 1 and at most min(h, w) − 1. */
export function squareSide(p: number, height: number, width: number): number {
  return Math.max(1, Math.min(Math.round(Math.sqrt(p * height * width)), Math.min(height, width) - 1));
}

/** The Attacker's GPU tensors Square works on. */
export interface SquareTensors {
  x: Tensor;
  y: Tensor;
  best: Tensor;
  bestKey: Tensor;
  budget: Tensor;
}

/** Runs Square on one batch held in the Attacker's tensors; buffers and plans are made once. */
export class SquareRunner {
  private readonly xBest: Tensor;
  private readonly candidate: Tensor;
  private readonly marginBest: Tensor;
  private readonly accepted: Tensor;
  private readonly step: Tensor;
  private readonly plans: PlanCache;
  private readonly init: Plan;
  private readonly search: Plan;
  private readonly score: Plan;

  constructor(model: Sequential, private readonly t: SquareTensors) {
    const ctx = model.ctx;
    if (t.x.shape.length !== 4) throw new Error(`square: needs image inputs [batch, channels, height, width], model '${model.name}' takes per-sample [${model.inputShape}]`);
    const batch = t.x.shape[0]!;
    this.xBest = Tensor.empty(ctx, t.x.shape);
    this.candidate = Tensor.empty(ctx, t.x.shape);
    this.marginBest = Tensor.empty(ctx, [batch]);
    this.accepted = Tensor.empty(ctx, [batch]);
    this.step = Tensor.from(ctx, new Uint32Array(4), [4]);
    this.plans = new PlanCache(ctx);
    this.init = this.plans.get('init', (g) => squareInit(g.bind(this.xBest), g.bind(this.candidate), g.bind(t.x), g.bind(t.budget), g.bind(this.step)));
    this.search = this.plans.get('search', (g) => {
      const candidate = g.bind(this.candidate);
      squareCandidate(candidate, g.bind(t.x), g.bind(this.xBest), g.bind(this.marginBest), g.bind(t.budget), g.bind(this.step));
      const margin = marginLossPerRow(model.call(candidate, { training: false }), g.bind(t.y));
      squareAccept(g.bind(this.xBest), g.bind(this.marginBest), g.bind(this.accepted), candidate, margin);
    });
    this.score = this.plans.get('score', (g) => {
      const xBest = g.bind(this.xBest);
      const logits = model.call(xBest, { training: false });
      const y = g.bind(t.y);
      keepBestAdversarial(g.bind(t.best), g.bind(t.bestKey), xBest, argmaxCorrect(logits, y)[1], marginLossPerRow(logits, y));
    });
  }

  /**
   * `queries` search steps after the stripe start (each one forward pass of the batch), for
   * the first `count` images; the result is scored into best/bestKey.
   */
  async run(options: { epsilon: number; queries: number; seed: number; count: number; pInit?: number }): Promise<void> {
    const { epsilon, queries, seed, count } = options;
    const [height, width] = [this.t.x.shape[2]!, this.t.x.shape[3]!];
    this.t.budget.write(new Float32Array([epsilon, 0]));
    this.marginBest.write(new Float32Array(this.t.x.shape[0]!).fill(-Infinity));
    this.step.write(new Uint32Array([seed, 0, 0, 0]));
    this.init.run();
    this.search.run(); // side 0: scores the stripe start
    for (let i = 1; i <= queries; i++) {
      const side = squareSide(squareFraction(options.pInit ?? SQUARE_P_INIT, i, queries), height, width);
      this.step.write(new Uint32Array([seed, i, side, 0]));
      this.search.run();
      if (i % 100 === 0 && ((await this.marginBest.read()) as Float32Array).subarray(0, count).every((m) => m >= 0)) break;
    }
    this.score.run();
  }

  dispose(): void {
    this.plans.dispose();
    for (const t of [this.xBest, this.candidate, this.marginBest, this.accepted, this.step]) t.dispose();
  }
}
