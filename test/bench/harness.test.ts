// The bench harness (bench/) at its smallest sizes: the report's shape (keys, units, finite
// ratios), the table, the memory check, and a shader-level test of bench/fma_probe.wgsl
// (the FMA ceiling kernel) against a float64 reference. No speed is asserted: this machine's
// timings are noise.
// Tolerance (fma_probe.wgsl): |err| ≤ 1e-5·|ref| — 64 chains of 20 f32 FMAs each stay
// within a few ulps of float64 (values are ~1, every step contracts by the multiplier < 1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FmaProbe } from '../../bench/ceilings.js';
import { openSharedDevice, type SharedDevice } from '../../bench/device.js';
import { memoryCheck } from '../../bench/memory.js';
import { runSuite } from '../../bench/suite.js';
import { formatMemory, formatReport } from '../../bench/table.js';
import type { BenchReport } from '../../bench/types.js';
import { Random } from '../../src/index.js';

let shared: SharedDevice;
beforeAll(async () => {
  // A one-shape autotune without cache: the harness path, not a tuning worth keeping.
  shared = await openSharedDevice({ autotune: { shapes: [{ M: 64, N: 64, K: 64 }], reps: 1, minRepMs: 1, cache: false } });
});
afterAll(() => shared?.dispose());

const REQUIRED = ['train_step', 'kd_step', 'inference', 'gemm_1024', 'kl_10', 'kl_1000', 'kl_32768'];
const TORCH_PEERED = /^(train_step|kd_step|inference|gemm_|kl_)/;
const UNITS = ['steps/s', 'images/s', 'GFLOP/s', 'GB/s'];

function expectPositive(value: number | null): void {
  expect(value).not.toBeNull();
  expect(Number.isFinite(value!) && value! > 0).toBe(true);
}

describe('bench harness', () => {
  it('runs every workload on the shared device and reports kdgpu, TF.js and finite ratios', async () => {
    const report: BenchReport = JSON.parse(JSON.stringify(await runSuite(shared, 'tiny')));
    expect(Object.keys(report).sort()).toEqual(['ceilings', 'device', 'settings', 'targets', 'workloads']);
    expect(report.device.tfjs).toBe('4.22.0');
    // The bench measures kdgpu with the tuning it chose for this adapter, and records it.
    expect(report.settings.gemmTuning!.source).toBe('measured');
    expect(report.settings.gemmTuning!.table).toEqual(shared.ctx.profile.gemmTuning);
    expect(report.settings.gemmTuning!.measurements).toHaveLength(1);
    for (const key of REQUIRED) expect(report.workloads).toHaveProperty(key);
    expect(report.workloads.train_step!.unit).toBe('steps/s');
    expect(report.workloads.kd_step!.unit).toBe('steps/s');
    expect(report.workloads.inference!.unit).toBe('images/s');
    expect(report.workloads.gemm_1024!.unit).toBe('GFLOP/s');
    expect(report.workloads.kl_32768!.unit).toBe('GB/s');
    for (const [key, w] of Object.entries(report.workloads)) {
      expect(UNITS, key).toContain(w.unit);
      expect(w.errors?.kdgpu, key).toBeUndefined();
      expect(w.errors?.peer, key).toBeUndefined();
      expectPositive(w.kdgpu);
      expectPositive(w.peer);
      expectPositive(w.ratio);
      expect(w.ratio).toBeCloseTo(w.kdgpu! / w.peer!, 9);
      if (w.peer_wasm === null) expect(w.ratio_wasm).toBeNull();
      else expect(w.ratio_wasm).toBeCloseTo(w.kdgpu! / w.peer_wasm, 9);
      // PyTorch runs only where a python with torch is found; otherwise the entry says why.
      // The single-kernel entries (op_*) have no PyTorch contender.
      if (!TORCH_PEERED.test(key)) expect(w.peer_torch, key).toBeNull();
      else if (w.peer_torch === null) {
        expect(w.ratio_torch, key).toBeNull();
        expect(w.errors?.peer_torch, key).toMatch(/PyTorch peer/);
      } else expect(w.ratio_torch).toBeCloseTo(w.kdgpu! / w.peer_torch, 9);
    }
    // TF.js WASM has no Conv2DBackpropFilter: it cannot train the CNN, and says why.
    expect(report.workloads.train_step!.peer_wasm).toBeNull();
    expect(report.workloads.train_step!.errors?.peer_wasm).toMatch(/Conv2DBackpropFilter/);
    expectPositive(report.workloads.gemm_1024!.peer_wasm);
    expect(Object.keys(report.ceilings).sort()).toEqual(['copy_bandwidth', 'fma_throughput', 'shader_bandwidth']);
    expect(report.ceilings.shader_bandwidth!.unit).toBe('GB/s');
    expect(report.ceilings.copy_bandwidth!.unit).toBe('GB/s');
    expect(report.ceilings.fma_throughput!.unit).toBe('GFLOP/s');
    for (const c of Object.values(report.ceilings)) expectPositive(c.value);

    // Throughputs in GFLOP/s and GB/s as a fraction of the ceiling of their unit, same run.
    const gemm = report.workloads.gemm_1024!;
    expect(gemm.kdgpu_of_ceiling).toBeCloseTo(gemm.kdgpu! / report.ceilings.fma_throughput!.value!, 9);
    const kl = report.workloads.kl_32768!;
    expect(kl.kdgpu_of_ceiling).toBeCloseTo(kl.kdgpu! / report.ceilings.copy_bandwidth!.value!, 9);
    expect(report.workloads.train_step!.kdgpu_of_ceiling).toBeUndefined();
    // The targets, each checked against this run's numbers.
    expect(report.targets.map((t) => `${t.workload} ${t.measure}`)).toEqual([
      'train_step ratio',
      'kd_step ratio',
      'inference ratio',
      'gemm_1024 ratio',
      'train_step ratio to PyTorch CPU',
      'kd_step ratio to PyTorch CPU',
      'inference ratio to PyTorch CPU',
      'inference ratio to TF.js WASM',
      'kl_32768 fraction of copy_bandwidth',
      'gemm_1024 fraction of fma_throughput',
      'kl_32768 fraction of shader_bandwidth',
    ]);
    for (const t of report.targets) {
      const w = report.workloads[t.workload]!;
      const value = {
        ratio: w.ratio,
        'ratio to PyTorch CPU': w.ratio_torch,
        'ratio to TF.js WASM': w.ratio_wasm,
        'fraction of copy_bandwidth': w.kdgpu_of_ceiling,
        'fraction of fma_throughput': w.kdgpu! / report.ceilings.fma_throughput!.value!,
        'fraction of shader_bandwidth': w.kdgpu! / report.ceilings.shader_bandwidth!.value!,
      }[t.measure];
      expect(t.value, t.workload).toBe(value);
      expect(t.met, t.workload).toBe(value == null ? null : value >= t.target);
    }

    const table = formatReport(report);
    expect(table).toMatch(/target +measure +wanted +measured +met/);
    for (const key of [...REQUIRED, 'copy_bandwidth', 'shader_bandwidth', 'fma_throughput']) expect(table).toContain(key);
    expect(table).toMatch(/GEMM tuning \(measured, measured in [\d.]+ s\): matmul\/linear (registers|workgroup-tiles), 8×8 blocks (never|from 2\^[\d.]+ products), 64 invocations/);
  });

  it('memory check: training and compile/dispose cycles allocate no new GPU memory after warm-up', async () => {
    const m = await memoryCheck(shared.ctx, 60, 5, 4);
    expect([m.steps, m.cycles]).toEqual([60, 5]);
    for (const p of [m.training, m.compiles]) {
      expect(p.poolBytes.start).toBeGreaterThan(0);
      expect(p.poolBytes.end).toBe(p.poolBytes.start);
      expect(Number.isFinite(p.heapBytes.end - p.heapBytes.start)).toBe(true);
    }
    expect(formatMemory(m)).toContain('5 compile/dispose cycles');
  });

  it('fma_probe.wgsl matches a float64 reference', async () => {
    const random = new Random(21);
    const multiplier = 0.5 + 0.49 * random.uniform();
    const addend = 0.5 * random.uniform() + 0.01;
    const iterations = 20;
    const probe = new FmaProbe(shared.device, 2); // result starts as NaN: unwritten values show
    probe.dispatch(iterations, multiplier, addend);
    const got = await probe.read();
    probe.dispose();
    expect(got).toHaveLength(128);
    const m = Math.fround(multiplier);
    const c = Math.fround(addend);
    for (let i = 0; i < got.length; i++) {
      let sum = 0;
      for (let j = 0; j < 64; j++) {
        let a = Math.fround(i * 1e-4) + j / 64;
        for (let t = 0; t < iterations; t++) a = a * m + c;
        sum += a;
      }
      expect(Math.abs(got[i]! - sum), `invocation ${i}`).toBeLessThanOrEqual(1e-5 * Math.abs(sum));
    }
  });
});
