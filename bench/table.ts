// The report as a plain-text table for people.
import type { BenchReport } from './types.js';
import type { MemoryReport } from './memory.js';
import type { TargetResult } from './targets.js';

export function formatNumber(value: number | null): string {
  if (value == null) return 'n/a';
  if (value === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return value.toFixed(Math.min(digits, 4));
}

function formatRatio(value: number | null): string {
  return value == null ? '-' : `${value.toFixed(2)}x`;
}

function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** Workloads (kdgpu, TF.js WebGPU, ratio, TF.js WASM, ratio, PyTorch CPU, ratio) and ceilings, one line each. */
export function formatReport(report: BenchReport): string {
  const header = ['workload', 'unit', 'kdgpu', 'of ceiling', 'tfjs-webgpu', 'ratio', 'tfjs-wasm', 'ratio', 'torch-cpu', 'ratio'];
  const rows = Object.entries(report.workloads).map(([key, w]) => [
    key,
    w.unit,
    formatNumber(w.kdgpu),
    w.kdgpu_of_ceiling == null ? '' : `${(100 * w.kdgpu_of_ceiling).toFixed(1)}%`,
    formatNumber(w.peer),
    formatRatio(w.ratio),
    formatNumber(w.peer_wasm),
    formatRatio(w.ratio_wasm),
    formatNumber(w.peer_torch),
    formatRatio(w.ratio_torch),
  ]);
  const ceilings = Object.entries(report.ceilings).map(([key, c]) => [key, c.unit, formatNumber(c.value)]);
  const d = report.device;
  return [
    `device: ${d.description || d.device || d.vendor} (${d.architecture}); ${d.dawn}; TF.js ${d.tfjs}; Node ${d.node}; ${d.cpus}× ${d.cpuModel}`,
    `mode: ${report.settings.mode}, ${report.settings.repetitions} repetitions (median), ${report.settings.date}, ` +
      `${report.settings.seconds.toFixed(0)} s, load average ${report.settings.loadAverage.start.toFixed(1)} -> ${report.settings.loadAverage.end.toFixed(1)}`,
    `kdgpu: commit ${report.settings.source.commit}` +
      (report.settings.source.modified.length ? `, with uncommitted changes in ${report.settings.source.modified.join(', ')}` : '') +
      formatGemmTuning(report.settings.gemmTuning),
    '',
    columns([header, ...rows]),
    '',
    columns([['ceiling', 'unit', 'value'], ...ceilings]),
    '',
    columns([['target', 'measure', 'wanted', 'measured', 'met'], ...(report.targets ?? []).map(formatTarget)]),
    '',
    'ratio = kdgpu / peer (> 1: kdgpu faster); n/a: the contender cannot run it (see "errors" in the JSON);',
    'of ceiling = kdgpu / fma_throughput for GFLOP/s, / copy_bandwidth for GB/s (same run).',
  ].join('\n');
}

function formatTarget(t: TargetResult): string[] {
  const show = (v: number) => (t.measure.startsWith('ratio') ? `${v.toFixed(2)}x` : `${(100 * v).toFixed(1)}%`);
  return [t.workload, t.measure, `>= ${show(t.target)}`, t.value == null ? 'not measured' : show(t.value), t.met == null ? '-' : t.met ? 'yes' : 'NO'];
}

function formatGemmTuning(t: BenchReport['settings']['gemmTuning'] | undefined): string {
  if (!t) return '; GEMM tuning: defaults';
  const wide = t.table.wideBlockProducts;
  const from = wide >= 2 ** 53 ? 'never' : `from 2^${Number(Math.log2(wide).toFixed(1))} products`;
  // Reports written before the kernel field have none: they ran the register core.
  const kernel = t.table.kernel ?? 'registers';
  return `; GEMM tuning (${t.source}, measured in ${t.seconds.toFixed(1)} s): matmul/linear ${kernel}, 8×8 blocks ${from}, ${t.table.invocations} invocations/workgroup`;
}

export function formatMemory(m: MemoryReport): string {
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const heap = m.gcAvailable ? 'JS heap used (after gc)' : 'JS heap used (no --expose-gc)';
  const lines = (title: string, p: MemoryReport['training']) => [
    `${title}, ${p.seconds.toFixed(0)} s`,
    `  kdgpu pool bytes allocated: ${mb(p.poolBytes.start)} -> ${mb(p.poolBytes.end)}`,
    `  ${heap}: ${mb(p.heapBytes.start)} -> ${mb(p.heapBytes.end)} (${formatChange(p.heapBytes)})`,
    `  flat: ${p.flat ? 'yes' : 'NO'}`,
  ];
  return [
    ...lines(`memory check: ${m.steps} training steps of the student CNN, batch ${m.batch}`, m.training),
    ...lines(`memory check: ${m.cycles} compile/dispose cycles of that training plan`, m.compiles),
    `flat means equal pool bytes and a heap change within ±${(m.heapTolerance * 100).toFixed(0)} %`,
  ].join('\n');
}

function formatChange({ start, end }: { start: number; end: number }): string {
  const percent = ((end - start) / start) * 100;
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(2)} %`;
}
