import { TENSOR_USAGE } from './constants.js';

/**
 * Reuses GPU buffers by exact (16-byte rounded) size and usage, so eager ops and repeated
 * plans do not allocate per call. Counts bytes so long runs can prove memory stays flat.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly sizes = new WeakMap<GPUBuffer, string>();
  private allocated = 0;
  private inUse = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(byteLength: number, usage: number = TENSOR_USAGE, label?: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(byteLength / 16) * 16);
    const key = `${size}:${usage}`;
    const reused = this.free.get(key)?.pop();
    this.inUse += size;
    if (reused) return reused;
    const buffer = this.device.createBuffer({ size, usage, label });
    this.sizes.set(buffer, key);
    this.allocated += size;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const key = this.sizes.get(buffer);
    if (key === undefined) throw new Error('BufferPool.release: this buffer was not acquired from the pool');
    this.inUse -= Number(key.split(':')[0]);
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
  }

  /** Bytes of GPU memory created by this pool (in use or waiting for reuse). */
  get bytesAllocated(): number {
    return this.allocated;
  }

  /** Bytes currently handed out and not yet released. */
  get bytesInUse(): number {
    return this.inUse;
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}
