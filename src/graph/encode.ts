import type { GpuContext } from '../gpu/context.js';
import { UNIFORM_USAGE } from '../gpu/constants.js';
import { createBindGroup, type Kernel, packParams } from '../gpu/kernel.js';
import type { KernelCall } from './op.js';
import { byteSizeOf, formatShape, type TensorSpec } from './tensor.js';

/** A dispatch ready to encode: made once, replayed every run. */
export interface PreparedCall {
  kernel: Kernel;
  bindGroup: GPUBindGroup;
  workgroups: readonly [number, number?, number?];
  /** The uniform buffer holding `params`, owned by whoever prepared the call. */
  paramsBuffer?: GPUBuffer;
  /** What the dispatch is, for profiles: 'op: shader/entry'. */
  label: string;
}

export function prepareCall(ctx: GpuContext, call: KernelCall, bufferOf: (spec: TensorSpec) => GPUBuffer): PreparedCall {
  const kernel = ctx.kernels.get(call.shader, call.entry, call.constants);
  const buffers: Record<string, GPUBuffer> = {};
  const bindingLimit = ctx.limits.maxStorageBufferBindingSize;
  for (const [name, spec] of Object.entries(call.buffers)) {
    const bytes = byteSizeOf(spec);
    if (bytes > bindingLimit) {
      throw new Error(
        `${call.shader.name}/${call.entry}: '${name}' ${formatShape(spec.shape)} needs ${(bytes / 2 ** 20).toFixed(1)} MiB, over this device's ` +
          `maxStorageBufferBindingSize of ${(bindingLimit / 2 ** 20).toFixed(1)} MiB; use a smaller batch`,
      );
    }
    buffers[name] = bufferOf(spec);
  }
  let paramsBuffer: GPUBuffer | undefined;
  if (call.params) {
    const { binding, data } = packParams(kernel, call.params);
    paramsBuffer = ctx.pool.acquire(data.byteLength, UNIFORM_USAGE, 'params');
    ctx.device.queue.writeBuffer(paramsBuffer, 0, data);
    buffers[binding] = paramsBuffer;
  }
  const bindGroup = createBindGroup(ctx.device, kernel, buffers);
  const limit = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (call.workgroups.some((n) => n !== undefined && n > limit)) {
    throw new Error(`${call.shader.name}/${call.entry}: dispatch ${call.workgroups.join('x')} exceeds the device limit of ${limit} workgroups per dimension`);
  }
  return { kernel, bindGroup, workgroups: call.workgroups, paramsBuffer, label: `${call.shader.name}/${call.entry}` };
}

export function encodeCalls(pass: GPUComputePassEncoder, calls: readonly PreparedCall[]): void {
  for (const c of calls) {
    if (c.workgroups.some((n) => n === 0)) continue;
    pass.setPipeline(c.kernel.pipeline);
    pass.setBindGroup(0, c.bindGroup);
    pass.dispatchWorkgroups(c.workgroups[0], c.workgroups[1] ?? 1, c.workgroups[2] ?? 1);
  }
}
