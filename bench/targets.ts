// The speed targets of issue 7 on this machine's device, checked against a report: kdgpu's
// ratio to TF.js WebGPU for the steps and the GEMM, and the fused KL's share of the copy
// bandwidth measured in the same run. Also each throughput as a fraction of its ceiling.
import type { BenchReport, CeilingResult, WorkloadResult } from './types.js';

export interface TargetResult {
  workload: string;
  /** What is compared: kdgpu / TF.js WebGPU, or kdgpu's throughput / a ceiling. */
  measure: 'ratio' | 'ratio to PyTorch CPU' | 'ratio to TF.js WASM' | 'fraction of copy_bandwidth' | 'fraction of fma_throughput' | 'fraction of shader_bandwidth';
  target: number;
  /** Null when the workload or the ceiling was not measured (e.g. --only). */
  value: number | null;
  met: boolean | null;
}

const RATIO_TARGETS: [string, number][] = [
  ['train_step', 3],
  ['kd_step', 3],
  ['inference', 5],
  ['gemm_1024', 2],
];
// Issue 14: against PyTorch on the same CPU (2 threads), and TF.js WASM for inference.
const TORCH_TARGETS: [string, number][] = [
  ['train_step', 1.5],
  ['kd_step', 1.5],
  ['inference', 2],
];
const WASM_TARGETS: [string, number][] = [['inference', 1]];
const BANDWIDTH_TARGETS: [string, number][] = [['kl_32768', 0.5]];
// Issue 14: the GEMM against the run's FMA probe, the fused KL against the run's simplest
// shader (c = a + b over vec4s: what any kernel can read and write on this adapter).
const CEILING_TARGETS: [string, 'fma_throughput' | 'shader_bandwidth', number][] = [
  ['gemm_1024', 'fma_throughput', 0.5],
  ['kl_32768', 'shader_bandwidth', 0.8],
];

/**
 * The ceiling a workload's unit is bounded by: FMA throughput for GFLOP/s, copy for GB/s
 * (the reference; `shader_bandwidth` is reported beside it, see bench/NOTES.md).
 */
export function ceilingFor(unit: WorkloadResult['unit']): 'fma_throughput' | 'copy_bandwidth' | null {
  if (unit === 'GFLOP/s') return 'fma_throughput';
  if (unit === 'GB/s') return 'copy_bandwidth';
  return null;
}

/** kdgpu's throughput over its ceiling from the same run, or null. */
export function fractionOfCeiling(w: WorkloadResult, ceilings: Record<string, CeilingResult>): number | null {
  const key = ceilingFor(w.unit);
  const ceiling = key ? ceilings[key]?.value : null;
  return w.kdgpu != null && ceiling ? w.kdgpu / ceiling : null;
}

export function checkTargets(report: Pick<BenchReport, 'workloads' | 'ceilings'>): TargetResult[] {
  const result = (workload: string, measure: TargetResult['measure'], target: number, value: number | null): TargetResult => ({
    workload,
    measure,
    target,
    value,
    met: value == null ? null : value >= target,
  });
  return [
    ...RATIO_TARGETS.map(([key, target]) => result(key, 'ratio', target, report.workloads[key]?.ratio ?? null)),
    ...TORCH_TARGETS.map(([key, target]) => result(key, 'ratio to PyTorch CPU', target, report.workloads[key]?.ratio_torch ?? null)),
    ...WASM_TARGETS.map(([key, target]) => result(key, 'ratio to TF.js WASM', target, report.workloads[key]?.ratio_wasm ?? null)),
    ...BANDWIDTH_TARGETS.map(([key, target]) => {
      const w = report.workloads[key];
      return result(key, 'fraction of copy_bandwidth', target, w ? fractionOfCeiling(w, report.ceilings) : null);
    }),
    ...CEILING_TARGETS.map(([key, ceiling, target]) => {
      const kdgpu = report.workloads[key]?.kdgpu;
      const bound = report.ceilings[ceiling]?.value;
      return result(key, `fraction of ${ceiling}`, target, kdgpu != null && bound ? kdgpu / bound : null);
    }),
  ];
}
