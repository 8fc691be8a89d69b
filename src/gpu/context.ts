import { acquireAdapter } from './acquire.js';
import { BufferPool } from './buffer-pool.js';
import { MapMode, BufferUsage } from './constants.js';
import { KernelCache } from './kernel.js';
import { DeviceProfile } from './device-profile.js';

/** How `openContext` gets its device (the top-level `init` adds autotuning on top). */
export interface ContextOptions {
  /** Use this device instead of acquiring one (it is not destroyed by dispose()). */
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /**
   * Fill every newly assigned output buffer with NaN (u32: 0xFFFFFFFF) before kernels run,
   * so an element a kernel forgets to write shows up. For tests and debugging; costs a write.
   */
  poison?: boolean;
}

/**
 * The GPU a kdgpu program runs on: device, limits, device profile, buffer pool and pipeline cache.
 * Errors the device reports asynchronously (validation, out of memory, device loss) are
 * kept and thrown by the next `check()`, `sync()` or readback, never swallowed.
 */
export class GpuContext {
  readonly pool: BufferPool;
  readonly kernels: KernelCache;
  /** The device-dependent choices (adapter kind, subgroup size, GEMM tuning) for this context. */
  readonly profile: DeviceProfile;
  private readonly errors: string[] = [];
  private readonly inFlight: Promise<void>[] = [];
  private lostReason: string | undefined;
  private disposed = false;
  /** See InitOptions.poison. */
  poison = false;
  /**
   * The WebGPU features this context's device has (e.g. 'shader-f16', 'subgroups'), as kdgpu's
   * checks see them (hasF16). Settable, like profile.adapterKind, so that tests can take the
   * path of a device without a feature on one machine; a kernel that needs a feature the device
   * lacks still fails when its pipeline is made.
   */
  features: ReadonlySet<string>;

  constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: AdapterDescription,
    private readonly ownsDevice: boolean,
    private readonly keepAlive?: unknown,
  ) {
    this.features = new Set(device.features);
    this.pool = new BufferPool(device);
    this.kernels = new KernelCache(device);
    this.profile = new DeviceProfile({ info: adapterInfo, maxInvocations: device.limits.maxComputeInvocationsPerWorkgroup });
    device.addEventListener('uncapturederror', (event) => {
      this.errors.push((event as GPUUncapturedErrorEvent).error.message);
    });
    void device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /**
   * Whether f16 kernels can run here: the device has WebGPU's 'shader-f16' (requested by
   * `openContext` whenever the adapter offers it; an injected device must have been created with it).
   */
  get hasF16(): boolean {
    return this.features.has('shader-f16');
  }

  /** Throws, naming `what` asked for it, unless f16 kernels can run here (see hasF16). */
  requireF16(what: string): void {
    if (this.hasF16) return;
    const adapter = this.adapterInfo.description || this.adapterInfo.device || this.adapterInfo.vendor || 'this adapter';
    throw new Error(
      `${what} needs the WebGPU feature 'shader-f16', which this device does not have (${adapter}); ` +
        `use f32 instead (precision: 'f32', the default), or a device that offers 'shader-f16'`,
    );
  }

  /** Throws the first error the device reported since the last check, if any. */
  check(): void {
    if (this.disposed) throw new Error('kdgpu: this context was disposed; call kdgpu.init() again');
    if (this.lostReason) throw new Error(`kdgpu: the GPU device was lost (${this.lostReason}); call kdgpu.init() again`);
    if (this.errors.length > 0) {
      const all = this.errors.splice(0);
      throw new Error(`kdgpu: the GPU reported ${all.length} error(s): ${all.join(' | ')}`);
    }
  }

  /** Waits for all submitted work, then surfaces any error the device reported. */
  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /**
   * Call after each submit in a long loop: waits until at most `maxInFlight` of the marked
   * submits are still running on the GPU. Without it JavaScript races ahead of the GPU,
   * queueing uploads (memory grows) and reporting progress the GPU has not made.
   */
  async throttle(maxInFlight = 2): Promise<void> {
    this.inFlight.push(this.device.queue.onSubmittedWorkDone());
    while (this.inFlight.length > maxInFlight) await this.inFlight.shift();
    this.check();
  }

  /** Writes the poison pattern into `buffer` when poisoning is on (see InitOptions.poison). */
  poisonBuffer(buffer: GPUBuffer, byteLength: number): void {
    if (!this.poison) return;
    const words = Math.ceil(byteLength / 4);
    this.device.queue.writeBuffer(buffer, 0, new Uint32Array(words).fill(0xffffffff));
  }

  /** Copies `byteLength` bytes of `buffer` to the CPU. */
  async readBuffer(buffer: GPUBuffer, byteLength: number): Promise<ArrayBuffer> {
    this.check();
    const size = Math.ceil(byteLength / 4) * 4;
    const staging = this.pool.acquire(size, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'staging');
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(MapMode.READ, 0, size);
    } catch (cause) {
      this.check();
      throw cause;
    }
    const copy = staging.getMappedRange(0, size).slice(0, byteLength);
    staging.unmap();
    this.pool.release(staging);
    this.check();
    return copy;
  }

  /** Frees the GPU device so a Node process can exit. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.destroy();
    if (this.ownsDevice) this.device.destroy();
    void this.keepAlive;
  }
}

/**
 * Opens a GPU: Dawn in Node, navigator.gpu in a browser, or a device you pass in.
 * Requests the adapter's own limits (not the WebGPU defaults) and builds the context's
 * device profile from the adapter. Programs call the top-level `init` (src/init.ts), which
 * adds the optional autotune.
 *
 * @example
 * const ctx = await openContext({ poison: true });
 */
export async function openContext(options: ContextOptions = {}): Promise<GpuContext> {
  if (options.device) {
    const info = options.device.adapterInfo;
    const ctx = new GpuContext(options.device, describe(info), false);
    ctx.poison = options.poison ?? false;
    return ctx;
  }
  const { adapter, keepAlive } = await acquireAdapter(options.powerPreference);
  const requiredLimits: Record<string, number> = {};
  for (const key of LIMIT_NAMES) {
    const value = (adapter.limits as unknown as Record<string, number>)[key];
    if (typeof value === 'number') requiredLimits[key] = value;
  }
  // Subgroup shuffles let the direct 3×3 convolution load each weight once per 8 lanes;
  // timestamp queries let Plan.profile time each dispatch on the GPU; shader-f16 lets matmul
  // and linear read f16 operands (precision: 'f16').
  const requiredFeatures = (['subgroups', 'timestamp-query', 'shader-f16'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'kdgpu' });
  const ctx = new GpuContext(device, describe(adapter.info), true, keepAlive);
  ctx.poison = options.poison ?? false;
  return ctx;
}

// The limits kdgpu's kernels can make use of; requested at the adapter's maximum.
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

/** The adapter's self-description, as the profile and error messages use it. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The adapter's smallest subgroup, when it reports one. */
  subgroupMinSize?: number;
}

/** One line naming the adapter for reports and manifests: its non-empty fields, ' / '-joined. */
export function adapterLabel(info: AdapterDescription): string {
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

function describe(info: GPUAdapterInfo | undefined): AdapterDescription {
  const size = (info as { subgroupMinSize?: unknown } | undefined)?.subgroupMinSize;
  return {
    ...(typeof size === 'number' ? { subgroupMinSize: size } : {}),
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
}
