import { TENSOR_USAGE } from '../gpu/constants.js';
import type { GpuContext } from '../gpu/context.js';
import { packHalves, unpackHalves } from './half.js';

/**
 * Element types. 'f16' tensors hold IEEE half floats packed two per 32-bit word; only the
 * ops that say so take them (castF32, matmul, linear, conv2d), and on the host they are
 * written and read as Float32Array (rounded to f16 on the way in).
 */
export type DType = 'f32' | 'u32' | 'f16';
export type Shape = readonly number[];

/** What kernels and shape rules see of a tensor: its shape and element type. */
export interface TensorSpec {
  readonly shape: Shape;
  readonly dtype: DType;
}

export type TensorData = Float32Array | Uint32Array;

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes a tensor's values take in its buffer: 4 per element, 2 for f16, rounded up to a word. */
export function byteSizeOf(spec: TensorSpec): number {
  const size = sizeOf(spec.shape);
  return spec.dtype === 'f16' ? Math.ceil(size / 2) * 4 : size * 4;
}

/** Values read from a buffer as the host sees them: Uint32Array for u32, else Float32Array. */
export function decodeValues(bytes: ArrayBuffer, dtype: DType, size: number): TensorData {
  if (dtype === 'u32') return new Uint32Array(bytes);
  if (dtype === 'f16') return unpackHalves(new Uint16Array(bytes), size);
  return new Float32Array(bytes);
}

/** How an array reads in an error message: 'a plain Array', or its class (Float64Array, ...). */
export function describeArray(value: unknown): string {
  if (Array.isArray(value)) return 'a plain Array';
  return value === null || value === undefined ? String(value) : ((value as object).constructor?.name ?? typeof value);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function checkShape(shape: Shape, what: string): void {
  if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`${what}: shape ${formatShape(shape)} is invalid; every dimension must be a positive integer`);
  }
}

/**
 * A tensor that lives in a GPU buffer now (the eager API, model parameters, optimizer
 * state). Reading it back is asynchronous; dispose() returns its buffer to the pool.
 */
export class Tensor implements TensorSpec {
  private released = false;

  private constructor(
    readonly ctx: GpuContext,
    private readonly gpuBuffer: GPUBuffer,
    readonly shape: Shape,
    readonly dtype: DType,
  ) {}

  /** An uninitialised tensor (its contents are whatever the pool's buffer held). */
  static empty(ctx: GpuContext, shape: Shape, dtype: DType = 'f32', usage: number = TENSOR_USAGE): Tensor {
    checkShape(shape, 'Tensor');
    const bytes = byteSizeOf({ shape, dtype });
    const limit = ctx.limits.maxBufferSize;
    if (bytes > limit) {
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
      throw new Error(`Tensor ${formatShape(shape)} needs ${mib(bytes)}, over this device's maxBufferSize of ${mib(limit)}; use a smaller batch or split the tensor`);
    }
    const buffer = ctx.pool.acquire(bytes, usage);
    return new Tensor(ctx, buffer, shape, dtype);
  }

  /**
   * Uploads `data` as a tensor of `shape`.
   * @example const x = Tensor.from(ctx, new Float32Array([1, 2, 3, 4]), [2, 2]);
   */
  static from(ctx: GpuContext, data: TensorData | number[] | Float64Array, shape: Shape, dtype?: DType, usage?: number): Tensor {
    // Plain arrays and Float64Array are converted (numbers are what the caller means);
    // other typed arrays are refused by write() rather than reinterpreted.
    const typed = Array.isArray(data) || data instanceof Float64Array ? (dtype === 'u32' ? Uint32Array.from(data) : Float32Array.from(data)) : data;
    const type: DType = dtype ?? (typed instanceof Uint32Array ? 'u32' : 'f32');
    const t = Tensor.empty(ctx, shape, type, usage);
    t.write(typed);
    return t;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get buffer(): GPUBuffer {
    if (this.released) throw new Error(`Tensor ${formatShape(this.shape)} was disposed and cannot be used`);
    return this.gpuBuffer;
  }

  write(data: TensorData): void {
    if (data.length !== this.size) {
      throw new Error(`Tensor.write: got ${data.length} values for shape ${formatShape(this.shape)} (${this.size} values)`);
    }
    const expected = this.dtype === 'u32' ? Uint32Array : Float32Array;
    if (!(data instanceof expected)) {
      throw new Error(`Tensor.write: tensor ${formatShape(this.shape)} is ${this.dtype} and takes a ${expected.name}, got ${describeArray(data)}; convert with ${expected.name}.from(values)`);
    }
    if (this.dtype === 'f16') {
      const halves = packHalves(data);
      this.ctx.device.queue.writeBuffer(this.buffer, 0, halves.buffer, 0, halves.byteLength);
      return;
    }
    this.ctx.device.queue.writeBuffer(this.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** The values as of the latest submitted work (f16 tensors come back as Float32Array). */
  async read(): Promise<TensorData> {
    const bytes = await this.ctx.readBuffer(this.buffer, byteSizeOf(this));
    return decodeValues(bytes, this.dtype, this.size);
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.ctx.pool.release(this.gpuBuffer);
  }
}
