// Per-dispatch GPU times of a compiled plan, from timestamp queries: each dispatch is encoded
// in its own compute pass with timestamps at its start and end, so the times add the cost of
// a pass boundary and say where a step's time goes, not exactly how long the fused step takes.
import type { GpuContext } from '../gpu/context.js';
import { BufferUsage } from '../gpu/constants.js';
import type { PreparedCall } from './encode.js';

/** One dispatch of a plan and its GPU time (the mean over the profiled runs). */
export interface DispatchTime {
  /** Position in the plan's dispatch order. */
  index: number;
  /** 'op: shader/entry'. */
  label: string;
  workgroups: readonly [number, number?, number?];
  milliseconds: number;
}

/** Timestamp pairs per query set (WebGPU caps a query set at 4,096 queries). */
const PAIRS_PER_SET = 2048;

/** Whether the context's device can time dispatches (the 'timestamp-query' feature). */
export function canProfile(ctx: GpuContext): boolean {
  return ctx.device.features.has('timestamp-query');
}

/**
 * Runs `calls` (after `beforeEach`, which writes the feeds) `runs` times, one compute pass per
 * dispatch with begin/end timestamps, and returns each dispatch's mean GPU time.
 */
export async function timeDispatches(ctx: GpuContext, calls: readonly PreparedCall[], runs: number, beforeEach: () => void): Promise<DispatchTime[]> {
  if (!canProfile(ctx)) {
    throw new Error("Plan.profile: this device has no 'timestamp-query' feature (kdgpu requests it when the adapter offers it); time whole steps instead");
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`Plan.profile: runs must be a positive integer, got ${runs}`);
  const active = calls.map((c, index) => ({ c, index })).filter(({ c }) => !c.workgroups.some((n) => n === 0));
  const totals = new Float64Array(active.length);
  for (let start = 0; start < active.length; start += PAIRS_PER_SET) {
    const chunk = active.slice(start, start + PAIRS_PER_SET);
    const count = chunk.length * 2;
    const querySet = ctx.device.createQuerySet({ type: 'timestamp', count });
    const resolved = ctx.device.createBuffer({ size: count * 8, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    try {
      for (let run = 0; run < runs; run++) {
        beforeEach();
        const encoder = ctx.device.createCommandEncoder({ label: 'plan profile' });
        chunk.forEach(({ c }, k) => {
          const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 } });
          pass.setPipeline(c.kernel.pipeline);
          pass.setBindGroup(0, c.bindGroup);
          pass.dispatchWorkgroups(c.workgroups[0], c.workgroups[1] ?? 1, c.workgroups[2] ?? 1);
          pass.end();
        });
        encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
        ctx.device.queue.submit([encoder.finish()]);
        const stamps = new BigUint64Array(await ctx.readBuffer(resolved, count * 8));
        chunk.forEach((_, k) => {
          // Nanoseconds; a clock that steps backwards (allowed by WebGPU) counts as zero.
          const delta = Number(stamps[2 * k + 1]! - stamps[2 * k]!);
          totals[start + k]! += Math.max(0, delta) / 1e6;
        });
      }
    } finally {
      querySet.destroy();
      resolved.destroy();
    }
  }
  return active.map(({ c, index }, k) => ({ index, label: c.label, workgroups: c.workgroups, milliseconds: totals[k]! / runs }));
}

/** Dispatch times summed by label, largest first, with each one's share of the total. */
export function profileSummary(times: readonly DispatchTime[]): { label: string; count: number; milliseconds: number; share: number }[] {
  const total = times.reduce((a, t) => a + t.milliseconds, 0);
  const byLabel = new Map<string, { count: number; milliseconds: number }>();
  for (const t of times) {
    const entry = byLabel.get(t.label) ?? { count: 0, milliseconds: 0 };
    entry.count++;
    entry.milliseconds += t.milliseconds;
    byLabel.set(t.label, entry);
  }
  return [...byLabel].map(([label, e]) => ({ label, ...e, share: total > 0 ? e.milliseconds / total : 0 })).sort((a, b) => b.milliseconds - a.milliseconds);
}
