// The benchmark suite: every workload and ceiling, at the sizes of a mode, into one report.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { copyBandwidth, fmaThroughput, shaderBandwidth } from './ceilings.js';
import type { SharedDevice } from './device.js';
import { ceilingFor, checkTargets, fractionOfCeiling } from './targets.js';
import type { TimingOptions } from './measure.js';
import type { BenchReport, CeilingResult, WorkloadResult } from './types.js';
import { gemm, gemmKey, type GemmShape } from './workloads/gemm.js';
import { inference } from './workloads/inference.js';
import { onnxInference } from './workloads/onnx-inference.js';
import { kdStep } from './workloads/kd-step.js';
import { kl } from './workloads/kl.js';
import { BIAS_LAYERS, biasGradient, CONV_LAYERS, convLayer, POOL_LAYERS, poolLayer } from './workloads/layers.js';
import { trainStep } from './workloads/train-step.js';

export type Mode = 'tiny' | 'quick' | 'full';

export interface Sizes {
  trainBatch: number;
  inferenceBatch: number;
  /** The first shape must be 1024³ (key gemm_1024); the rest are extra entries. */
  gemm: GemmShape[];
  /** Batch of the single-kernel entries (op_*). */
  opBatch: number;
  /** Rows of the KL workloads: the first gives kl_C, others kl_C_b{rows}. */
  klRows: number[];
  copyBytes: number;
  fma: { workgroups: number; iterations: number };
  timing: TimingOptions;
}

export const KL_CLASSES = [10, 1000, 32768] as const;

const GEMM_1024: GemmShape = { m: 1024, k: 1024, n: 1024, origin: 'square 1024³' };
// Shapes the seed CNN's dense layer runs at batch 64 (forward, dX = dY·Wᵀ, dW = Xᵀ·dY) and
// the teacher's conv2 as implicit GEMM at batch 256 (M = 256·11·11 outputs, K = 64·3·3).
const MODEL_GEMMS: GemmShape[] = [
  { m: 64, k: 5408, n: 64, origin: 'student dense1 forward, batch 64' },
  { m: 64, k: 64, n: 5408, origin: 'student dense1 dX, batch 64' },
  { m: 5408, k: 64, n: 64, origin: 'student dense1 dW, batch 64' },
  { m: 256, k: 3200, n: 256, origin: 'teacher dense1 forward, batch 256' },
];
const TEACHER_CONV2_GEMM: GemmShape = { m: 30976, k: 576, n: 128, origin: 'teacher conv2 as implicit GEMM, batch 256' };

export const SIZES: Record<Mode, Sizes> = {
  // For the test: the right keys and every code path, as little work as possible.
  tiny: {
    trainBatch: 8,
    inferenceBatch: 8,
    gemm: [GEMM_1024],
    opBatch: 2,
    klRows: [4],
    copyBytes: 2 ** 20,
    fma: { workgroups: 16, iterations: 16 },
    timing: { repetitions: 1, secondsPerRepetition: 0, maxIterations: 1 },
  },
  quick: {
    trainBatch: 64,
    inferenceBatch: 256,
    gemm: [GEMM_1024, ...MODEL_GEMMS],
    opBatch: 64,
    klRows: [64, 256],
    copyBytes: 64 * 2 ** 20,
    fma: { workgroups: 4096, iterations: 128 },
    timing: { repetitions: 3, secondsPerRepetition: 0.5, maxIterations: 200 },
  },
  full: {
    trainBatch: 64,
    inferenceBatch: 256,
    gemm: [GEMM_1024, ...MODEL_GEMMS, TEACHER_CONV2_GEMM],
    opBatch: 64,
    klRows: [64, 256],
    copyBytes: 256 * 2 ** 20,
    fma: { workgroups: 4096, iterations: 256 },
    timing: { repetitions: 5, secondsPerRepetition: 1.5, maxIterations: 1000 },
  },
};

/**
 * Runs every workload (kdgpu vs TF.js WebGPU on `shared`'s device, and TF.js WASM where it
 * can) and the device ceilings. `onResult` sees each entry as it is measured.
 * @example const report = await runSuite(await openSharedDevice(), 'quick');
 */
export async function runSuite(
  shared: SharedDevice,
  mode: Mode,
  onResult?: (key: string, result: WorkloadResult | CeilingResult) => void,
  only: RegExp = /(?:)/,
): Promise<BenchReport> {
  const started = performance.now();
  const loadStart = loadavg()[0]!;
  const sizes = SIZES[mode];
  const timing = sizes.timing;
  const workloads: Record<string, WorkloadResult> = {};
  const ceilings: Record<string, CeilingResult> = {};
  // Entries whose key does not match `only` are skipped before they are measured.
  const record = async <T extends WorkloadResult | CeilingResult>(into: Record<string, T>, key: string, measure: () => Promise<T>) => {
    if (!only.test(key)) return;
    const result = await measure();
    into[key] = result;
    onResult?.(key, result);
  };

  await record(ceilings, 'copy_bandwidth', () => copyBandwidth(shared, sizes.copyBytes, timing));
  // A third of the copy size each, so the three arrays move about as many bytes as the copy.
  await record(ceilings, 'shader_bandwidth', () => shaderBandwidth(shared, Math.max(16, Math.floor(sizes.copyBytes / 3 / 16) * 16), timing));
  await record(ceilings, 'fma_throughput', () => fmaThroughput(shared, sizes.fma.workgroups, sizes.fma.iterations, timing));
  await record(workloads, 'train_step', () => trainStep(shared, sizes.trainBatch, timing));
  await record(workloads, 'kd_step', () => kdStep(shared, sizes.trainBatch, timing));
  await record(workloads, 'inference', () => inference(shared, sizes.inferenceBatch, timing));
  await record(workloads, 'onnx_inference', () => onnxInference(shared, sizes.inferenceBatch, timing));
  for (const shape of sizes.gemm) await record(workloads, gemmKey(shape), () => gemm(shared, shape, timing));
  for (const layer of CONV_LAYERS) await record(workloads, layer.key, () => convLayer(shared, layer, sizes.opBatch, timing));
  for (const layer of BIAS_LAYERS) await record(workloads, layer.key, () => biasGradient(shared, layer, sizes.opBatch, timing));
  for (const layer of POOL_LAYERS) await record(workloads, layer.key, () => poolLayer(shared, layer, sizes.opBatch, timing));
  for (const [i, rows] of sizes.klRows.entries()) {
    for (const classes of KL_CLASSES) {
      await record(workloads, i === 0 ? `kl_${classes}` : `kl_${classes}_b${rows}`, () => kl(shared, rows, classes, timing));
    }
  }
  for (const w of Object.values(workloads)) {
    if (ceilingFor(w.unit)) w.kdgpu_of_ceiling = fractionOfCeiling(w, ceilings);
  }
  return {
    device: shared.description,
    settings: {
      mode,
      only: only.source === '(?:)' ? null : only.source,
      date: new Date().toISOString(),
      repetitions: timing.repetitions,
      secondsPerRepetition: timing.secondsPerRepetition,
      loadAverage: { start: loadStart, end: loadavg()[0]! },
      seconds: (performance.now() - started) / 1000,
      source: sourceVersion(),
      gemmTuning: gemmTuningSetting(shared),
    },
    workloads,
    ceilings,
    targets: checkTargets({ workloads, ceilings }),
  };
}

/** Which kdgpu sources ran: numbers from a tree with uncommitted kernel edits say so. */
function sourceVersion(): { commit: string; modified: string[] } {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
  try {
    const modified = git('status', '--porcelain', '--', 'src', 'shaders').split('\n').filter(Boolean).map((line) => line.slice(3));
    return { commit: git('rev-parse', '--short', 'HEAD'), modified };
  } catch {
    return { commit: 'unknown (not a git checkout)', modified: [] };
  }
}

/** The GEMM tuning the run used, for the report's settings. */
function gemmTuningSetting(shared: SharedDevice): BenchReport['settings']['gemmTuning'] {
  const t = shared.gemmTuning;
  if (!t) return null;
  return { table: { ...t.tuning }, source: t.source, seconds: t.seconds, measuredAt: t.measuredAt, measurements: t.measurements };
}
