// Runner shapes shared by the workloads, and the conversion of measurements into a report entry.
import type * as Tf from '@tensorflow/tfjs';
import type { GpuContext, Plan, SymbolicTensor, Tensor, TensorData } from '../../src/index.js';
import type { SharedDevice, TfBackend } from '../device.js';
import type { Measured, Runner } from '../measure.js';
import type { ThroughputUnit, WorkloadResult } from '../types.js';

/** Runs a compiled kdgpu plan `n` times, then reads `fetched` (which waits for all of them). */
export function planRunner(plan: Plan, feeds: () => Record<string, TensorData>, fetched: SymbolicTensor, dispose: () => void): Runner {
  return {
    async run(n) {
      for (let i = 0; i < n; i++) plan.run(feeds());
      await plan.read(fetched);
    },
    dispose,
  };
}

/** Runs an eager kdgpu op `n` times (each result returned to the pool), then waits for the device. */
export function eagerRunner(ctx: GpuContext, op: () => Tensor, dispose: () => void): Runner {
  return {
    async run(n) {
      for (let i = 0; i < n; i++) op().dispose();
      await ctx.sync();
    },
    dispose,
  };
}

/**
 * A TF.js contender: `step` runs one iteration and returns a tensor to wait on (inside
 * tf.tidy, so intermediates are freed). Reading one element of the last one flushes TF.js's
 * queue and waits for every step, without timing a large download.
 */
export async function tfRunner(
  shared: SharedDevice,
  backend: TfBackend,
  setup: () => { step: () => Tf.Tensor; dispose: () => void },
): Promise<Runner> {
  const { tf } = shared;
  await shared.useTf(backend);
  const { step, dispose } = setup();
  return {
    activate: () => shared.useTf(backend),
    async run(n) {
      let last: Tf.Tensor | undefined;
      for (let i = 0; i < n; i++) {
        last?.dispose();
        last = tf.tidy(step);
      }
      const first = tf.tidy(() => last!.flatten().slice(0, 1));
      await first.data();
      tf.dispose([last!, first]);
    },
    dispose,
  };
}

/**
 * Turns measurements into a report entry. `peers` names the TF.js WebGPU variants tried;
 * the fastest one is reported as `peer` (the fairest comparison is against TF.js at its best).
 */
export function workloadResult(unit: ThroughputUnit, description: string, measured: Measured, peers: readonly string[] = ['peer']): WorkloadResult {
  const { throughput, samples, errors } = measured;
  const kdgpu = throughput.kdgpu ?? null;
  const peerValues = peers.map((p) => throughput[p]).filter((v): v is number => v != null);
  const peer = peerValues.length ? Math.max(...peerValues) : null;
  const peerWasm = throughput.peer_wasm ?? null;
  const peerTorch = throughput.peer_torch ?? null;
  const result: WorkloadResult = {
    unit,
    description,
    kdgpu,
    peer,
    ratio: ratio(kdgpu, peer),
    peer_wasm: peerWasm,
    ratio_wasm: ratio(kdgpu, peerWasm),
    peer_torch: peerTorch,
    ratio_torch: ratio(kdgpu, peerTorch),
  };
  if (peers.length > 1) {
    result.variants = Object.fromEntries(peers.map((p) => [p, throughput[p] ?? null]));
    const best = peers.find((p) => throughput[p] === peer);
    if (best) result.description += ` [fastest TF.js variant: ${best}]`;
  }
  result.samples = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, values.map((v) => Number(v.toPrecision(4)))]));
  if (Object.keys(errors).length) result.errors = errors;
  return result;
}

function ratio(ours: number | null, theirs: number | null): number | null {
  return ours != null && theirs != null && theirs > 0 ? ours / theirs : null;
}
