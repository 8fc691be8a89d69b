// `npm run bench -- --profile train_step|kd_step [--runs N] [--json FILE]`: where a training
// step's GPU time goes. Compiles the step the bench times, runs it N times with per-dispatch
// timestamp queries (Plan.profile) and prints the time per kernel, largest first. Each
// dispatch is timed in its own compute pass, so the total exceeds a fused step's time by the
// pass boundaries; the shares say where to aim.
import { type GpuContext, profileSummary } from '../src/index.js';
import { randomBatch } from './models.js';
import { kdTrainingPlan } from './workloads/kd-step.js';
import { studentTrainingPlan } from './workloads/train-step.js';

export const PROFILED_STEPS = { train_step: studentTrainingPlan, kd_step: kdTrainingPlan } as const;

export interface StepProfile {
  step: string;
  batch: number;
  runs: number;
  dispatches: number;
  milliseconds: number;
  kernels: ReturnType<typeof profileSummary>;
  /** Every dispatch in plan order: label, workgroups and time (to tell apart the calls a kernel line sums). */
  calls: { index: number; label: string; workgroups: readonly number[]; milliseconds: number }[];
}

export async function profileStep(ctx: GpuContext, step: string, runs: number, batchSize = 64): Promise<StepProfile> {
  const build = PROFILED_STEPS[step as keyof typeof PROFILED_STEPS];
  if (!build) throw new Error(`--profile: no step '${step}' (known: ${Object.keys(PROFILED_STEPS).join(', ')})`);
  const { plan, dispose } = build(ctx, batchSize);
  try {
    const batch = randomBatch(batchSize, 1);
    const feeds = { x: batch.images, y: batch.labels };
    plan.run(feeds); // warm-up: pipelines and staging buffers
    const times = await plan.profile(feeds, { runs });
    const calls = times.map(({ index, label, workgroups, milliseconds }) => ({ index, label, workgroups: workgroups.map((n) => n ?? 1), milliseconds }));
    return { step, batch: batchSize, runs, dispatches: times.length, milliseconds: times.reduce((a, t) => a + t.milliseconds, 0), kernels: profileSummary(times), calls };
  } finally {
    dispose();
  }
}

export function formatProfile(p: StepProfile): string {
  const rows = p.kernels.map((k) => `${(100 * k.share).toFixed(1).padStart(5)} %  ${k.milliseconds.toFixed(3).padStart(9)} ms  ${String(k.count).padStart(3)}×  ${k.label}`);
  const slowest = [...p.calls].sort((a, b) => b.milliseconds - a.milliseconds).slice(0, 10);
  const callRows = slowest.map((c) => `${String(c.index).padStart(3)}  ${c.milliseconds.toFixed(3).padStart(9)} ms  ${c.workgroups.join('×').padStart(12)}  ${c.label}`);
  return [
    `${p.step}, batch ${p.batch}: ${p.dispatches} dispatches, ${p.milliseconds.toFixed(2)} ms of GPU time per step (mean of ${p.runs} runs)`,
    '  share       time  count  op: shader/entry',
    ...rows.map((r) => `  ${r}`),
    '  the ten slowest dispatches (position in the plan, time, workgroups):',
    ...callRows.map((r) => `  ${r}`),
  ].join('\n');
}
