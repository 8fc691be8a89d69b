// Device ceilings measured with raw WebGPU on the shared device: what copy bandwidth and
// FMA throughput the adapter offers, so kernel numbers can be read as a fraction of them.
import fmaProbeCode from './fma_probe.wgsl';
import streamProbeCode from './stream_probe.wgsl';
import type { SharedDevice } from './device.js';
import { compare, type Runner, type TimingOptions } from './measure.js';
import type { CeilingResult } from './types.js';

const FMA_CHAINS = 64;
const FMA_WORKGROUP = 64;

/** Multiplier and addend keep every chain bounded (a → addend / (1 − multiplier) = 1). */
export const FMA_MULTIPLIER = 0.999;
export const FMA_ADDEND = 0.001;

export async function copyBandwidth(shared: SharedDevice, bytes: number, timing: TimingOptions): Promise<CeilingResult> {
  const description = `copyBufferToBuffer of a ${(bytes / 2 ** 20).toFixed(0)} MiB buffer; GB/s = bytes copied / time (each byte read once and written once)`;
  return ceiling('GB/s', description, await compare({ device: async () => copyRunner(shared.device, bytes) }, bytes / 1e9, timing));
}

/**
 * Bandwidth a compute shader reaches on the device: c = a + b over vec4 arrays of `bytes`
 * each (stream_probe.wgsl). GB/s = bytes of a and b read / time: the same count as the kl_*
 * workloads (two logit arrays read, one gradient written), so kl / this is the fused KL's
 * share of what the least possible kernel with its inputs and output reaches.
 */
export async function shaderBandwidth(shared: SharedDevice, bytes: number, timing: TimingOptions): Promise<CeilingResult> {
  const description = `stream_probe.wgsl: c = a + b over vec4 arrays of ${(bytes / 2 ** 20).toFixed(0)} MiB each; GB/s = bytes of a and b read (2 × size; c is written too) / time, as the kl_* workloads count`;
  return ceiling('GB/s', description, await compare({ device: async () => streamRunner(shared.device, bytes) }, (2 * bytes) / 1e9, timing));
}

export async function fmaThroughput(shared: SharedDevice, workgroups: number, iterations: number, timing: TimingOptions): Promise<CeilingResult> {
  const flops = 2 * FMA_CHAINS * iterations * workgroups * FMA_WORKGROUP;
  const description = `fma_probe.wgsl: ${workgroups}×${FMA_WORKGROUP} invocations × ${iterations} rounds of ${FMA_CHAINS} independent FMAs (16 vec4); GFLOP/s (FMA = 2 FLOP)`;
  const probe = new FmaProbe(shared.device, workgroups);
  try {
    const runner: Runner = {
      async run(n) {
        for (let i = 0; i < n; i++) probe.dispatch(iterations);
        await shared.device.queue.onSubmittedWorkDone();
      },
      dispose: () => {},
    };
    return ceiling('GFLOP/s', description, await compare({ device: async () => runner }, flops / 1e9, timing));
  } finally {
    probe.dispose();
  }
}

/** The FMA probe kernel (fma_probe.wgsl) with its buffers, for `workgroups` × 64 invocations. */
export class FmaProbe {
  private readonly pipeline: GPUComputePipeline;
  private readonly params: GPUBuffer;
  private readonly result: GPUBuffer;
  private readonly bindGroup: GPUBindGroup;
  readonly invocations: number;

  constructor(private readonly device: GPUDevice, private readonly workgroups: number) {
    this.invocations = workgroups * FMA_WORKGROUP;
    const module = device.createShaderModule({ code: fmaProbeCode, label: 'fma_probe' });
    this.pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'fma_probe' } });
    this.params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.result = device.createBuffer({ size: this.invocations * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    // NaN until the kernel writes it, so a result it forgets shows.
    device.queue.writeBuffer(this.result, 0, new Float32Array(this.invocations).fill(Number.NaN));
    this.bindGroup = device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.params } },
        { binding: 1, resource: { buffer: this.result } },
      ],
    });
  }

  dispatch(iterations: number, multiplier = FMA_MULTIPLIER, addend = FMA_ADDEND): void {
    const params = new ArrayBuffer(16);
    new Uint32Array(params, 0, 1)[0] = iterations;
    new Float32Array(params, 4, 2).set([multiplier, addend]);
    this.device.queue.writeBuffer(this.params, 0, params);
    const encoder = this.device.createCommandEncoder({ label: 'fma_probe' });
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(this.workgroups);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  /** Copies the per-invocation results to the CPU. */
  async read(): Promise<Float32Array> {
    const staging = this.device.createBuffer({ size: this.invocations * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.result, 0, staging, 0, this.invocations * 4);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const values = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return values;
  }

  dispose(): void {
    this.params.destroy();
    this.result.destroy();
  }
}

function copyRunner(device: GPUDevice, bytes: number): Runner {
  const source = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const target = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(source, 0, new Uint8Array(bytes).fill(7));
  return {
    async run(n) {
      const encoder = device.createCommandEncoder({ label: 'copy ceiling' });
      for (let i = 0; i < n; i++) encoder.copyBufferToBuffer(source, 0, target, 0, bytes);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    },
    dispose: () => {
      source.destroy();
      target.destroy();
    },
  };
}

function streamRunner(device: GPUDevice, bytes: number): Runner {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const [a, b, c] = ['a', 'b', 'c'].map((label) => device.createBuffer({ size: bytes, usage, label: `stream_probe ${label}` })) as [GPUBuffer, GPUBuffer, GPUBuffer];
  device.queue.writeBuffer(a, 0, new Float32Array(bytes / 4).fill(1));
  device.queue.writeBuffer(b, 0, new Float32Array(bytes / 4).fill(2));
  const module = device.createShaderModule({ code: streamProbeCode, label: 'stream_probe' });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'stream_probe' } });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [a, b, c].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const groups = Math.ceil(bytes / 16 / 256);
  const [x, y] = groups > 65535 ? [65535, Math.ceil(groups / 65535)] : [groups, 1];
  return {
    async run(n) {
      const encoder = device.createCommandEncoder({ label: 'stream ceiling' });
      for (let i = 0; i < n; i++) {
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(x, y);
        pass.end();
      }
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    },
    dispose: () => {
      for (const buffer of [a, b, c]) buffer.destroy();
    },
  };
}

function ceiling(unit: CeilingResult['unit'], description: string, measured: Awaited<ReturnType<typeof compare>>): CeilingResult {
  const value = measured.throughput.device ?? null;
  const error = measured.errors.device;
  return error ? { unit, description, value, error } : { unit, description, value };
}
