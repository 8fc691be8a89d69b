// Shapes of the bench's machine-readable report (bench/run.mjs --json FILE).
import type { AutotuneMeasurement, GemmTuning } from '../src/index.js';
import type { TargetResult } from './targets.js';

/** Every workload is a throughput: bigger is better, so ratio = kdgpu / peer. */
export type ThroughputUnit = 'steps/s' | 'images/s' | 'GFLOP/s' | 'GB/s';

export interface WorkloadResult {
  unit: ThroughputUnit;
  /** What one unit of work is and how it was measured. */
  description: string;
  kdgpu: number | null;
  /** TensorFlow.js 4.22, WebGPU backend, on the same Dawn device. */
  peer: number | null;
  /** kdgpu / peer: > 1 means kdgpu is faster. Null when either side failed. */
  ratio: number | null;
  /** TensorFlow.js WASM backend (CPU); null where it cannot run the workload. */
  peer_wasm: number | null;
  ratio_wasm: number | null;
  /** PyTorch on the CPU (2 threads, bench/torch_peer.py); null when it did not run (see errors.peer_torch). */
  peer_torch: number | null;
  ratio_torch: number | null;
  /** Throughput of each TF.js variant tried, when there were several. */
  variants?: Record<string, number | null>;
  /** Throughput of every timed repetition, by contender (the reported values are medians). */
  samples?: Record<string, number[]>;
  /** Why a contender has no number, by contender name. */
  errors?: Record<string, string>;
  /** kdgpu's throughput over the device ceiling of its unit (FMA probe for GFLOP/s, copy for GB/s) from the same run. */
  kdgpu_of_ceiling?: number | null;
}

export interface CeilingResult {
  unit: ThroughputUnit;
  description: string;
  value: number | null;
  error?: string;
}

export interface DeviceDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  dawn: string;
  tfjs: string;
  node: string;
  cpus: number;
  cpuModel: string;
}

export interface BenchReport {
  device: DeviceDescription;
  settings: {
    mode: 'quick' | 'full' | 'tiny';
    /** The --only pattern of a partial run, or null when every entry was measured. */
    only: string | null;
    date: string;
    repetitions: number;
    secondsPerRepetition: number;
    /** 1-minute load average before and after the run: other work on the machine skews timings. */
    loadAverage: { start: number; end: number };
    seconds: number;
    /** The kdgpu sources measured: git commit and the files under src/ and shaders/ that differ from it. */
    source: { commit: string; modified: string[] };
    /**
     * kdgpu's GEMM tuning during the run (src/tune/gemm-autotune.ts): the table, where it came
     * from (measured now, or cached), how long the measurement took and its timings; null
     * when the bench ran with the defaults.
     */
    gemmTuning: {
      table: GemmTuning;
      source: string;
      seconds: number;
      measuredAt: string;
      measurements: AutotuneMeasurement[];
    } | null;
  };
  workloads: Record<string, WorkloadResult>;
  ceilings: Record<string, CeilingResult>;
  /** The speed targets checked against this run (bench/targets.ts). */
  targets: TargetResult[];
}
