// One Dawn device shared by kdgpu and TensorFlow.js (WebGPU backend), plus TF.js's WASM
// backend as a CPU peer, so both libraries run on exactly the same adapter and limits.
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import type * as Tf from '@tensorflow/tfjs';
import { type AutotuneOptions, type AutotuneResult, autotuneGemm, type GpuContext, init } from '../src/index.js';
import type { DeviceDescription } from './types.js';

export type TfModule = typeof Tf;
export type TfBackend = 'webgpu' | 'wasm';

export interface SharedDevice {
  device: GPUDevice;
  ctx: GpuContext;
  tf: TfModule;
  /** Why the WASM backend is unavailable, or undefined when it works. */
  wasmUnavailable?: string;
  description: DeviceDescription;
  /** The GEMM tuning kdgpu runs with (bench/NOTES.md, "Per-adapter GEMM autotune"); null when not tuned. */
  gemmTuning: AutotuneResult | null;
  /** Makes `name` TF.js's active backend (tensors stay with the backend that made them). */
  useTf(name: TfBackend): Promise<void>;
  dispose(): void;
}

// kdgpu's own list (src/gpu/context.ts) plus TF.js's: each is requested at the adapter's maximum.
const LIMIT_NAMES = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];

// Dawn's entry object must outlive every adapter and device made from it.
const dawnRoots: unknown[] = [];

export interface SharedDeviceOptions {
  /**
   * Tune kdgpu's GEMM core for this adapter before anything is measured (`autotuneGemm`,
   * cached per adapter), so that the bench measures tuned kernels; false: the defaults.
   * Default: the full autotune with the default cache.
   */
  autotune?: AutotuneOptions | false;
}

/**
 * Opens Dawn, requests one device with the adapter's limits, hands it to kdgpu
 * (`init({ device })`), tunes kdgpu's GEMM core for it and registers it as TF.js's
 * 'webgpu' backend.
 * @example const shared = await openSharedDevice(); ...; shared.dispose();
 */
export async function openSharedDevice(options: SharedDeviceOptions = {}): Promise<SharedDevice> {
  const dawn = (await import('webgpu')) as { create(flags: string[]): GPU; globals: object };
  const gpu = dawn.create([]);
  dawnRoots.push(gpu);
  // TF.js's WebGPU backend reads GPUBufferUsage & co. and navigator.gpu from the global scope.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: GPU };
  if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });

  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('bench: Dawn found no WebGPU adapter; run `npm run setup` (see README)');
  const requiredLimits: Record<string, number> = {};
  for (const key of LIMIT_NAMES) {
    const value = (adapter.limits as unknown as Record<string, number>)[key];
    if (typeof value === 'number') requiredLimits[key] = value;
  }
  // As kdgpu's init: subgroups when the adapter has them (kdgpu's direct 3×3 convolution).
  const requiredFeatures = adapter.features.has('subgroups') ? ['subgroups' as GPUFeatureName] : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'kdgpu-bench' });
  const ctx = await init({ device });
  let gemmTuning: AutotuneResult | null = null;
  if (options.autotune !== false) {
    gemmTuning = await autotuneGemm(ctx, options.autotune ?? {});
    const wide = gemmTuning.tuning.wideBlockProducts;
    const from = wide >= 2 ** 53 ? 'never' : `from 2^${Number(Math.log2(wide).toFixed(1))} products`;
    console.error(
      `kdgpu GEMM tuning (${gemmTuning.source}, measured in ${gemmTuning.seconds.toFixed(1)} s): matmul/linear ${gemmTuning.tuning.kernel}, 8×8 blocks ${from}, ` +
        `${gemmTuning.tuning.invocations} invocations per workgroup`,
    );
  }

  // Imported only now: the backend checks navigator.gpu when it loads.
  const tf = (await import('@tensorflow/tfjs')) as TfModule;
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // Kernels are registered under the name 'webgpu', so our device must take that name.
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info));
  if (!(await tf.setBackend('webgpu'))) throw new Error('bench: TF.js could not start its WebGPU backend on the shared device');

  let wasmUnavailable: string | undefined;
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) wasmUnavailable = 'the TF.js WASM backend failed to initialise';
  } catch (cause) {
    wasmUnavailable = `could not load @tensorflow/tfjs-backend-wasm: ${String(cause)}`;
  }
  await tf.setBackend('webgpu');

  const require = createRequire(import.meta.url);
  const info = adapter.info;
  const description: DeviceDescription = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    dawn: `webgpu ${(require('webgpu/package.json') as { version: string }).version}`,
    tfjs: tf.version.tfjs,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
  };

  return {
    device,
    ctx,
    tf,
    wasmUnavailable,
    description,
    gemmTuning,
    async useTf(name) {
      if (name === 'wasm' && wasmUnavailable) throw new Error(wasmUnavailable);
      if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`TF.js backend '${name}' failed to start`);
    },
    dispose() {
      ctx.dispose();
      tf.engine().reset();
      device.destroy();
    },
  };
}
