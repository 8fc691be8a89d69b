// Memory check: a long training run of the student CNN, with the GPU bytes kdgpu's pool has
// allocated and the JS heap measured after warm-up and at the end. Flat means the pool
// allocated nothing more and the heap moved by less than a few MB.
import type { GpuContext } from '../src/index.js';
import { randomBatch } from './models.js';
import { studentTrainingPlan } from './workloads/train-step.js';

export interface MemoryReport {
  steps: number;
  batch: number;
  poolBytes: { start: number; end: number };
  heapBytes: { start: number; end: number };
  /** Whether heap numbers were taken after a forced collection (node --expose-gc). */
  gcAvailable: boolean;
  heapToleranceBytes: number;
  flat: boolean;
  seconds: number;
}

const HEAP_TOLERANCE = 4 * 2 ** 20;
/** Read the loss this often: it bounds the queued work the way a training loop's logging does. */
const READ_EVERY = 50;

/** @example const report = await memoryCheck(ctx, 2000); */
export async function memoryCheck(ctx: GpuContext, steps: number, batchSize = 64, onProgress?: (step: number) => void): Promise<MemoryReport> {
  const started = performance.now();
  const { plan, loss, dispose } = studentTrainingPlan(ctx, batchSize);
  const batches = [0, 1, 2, 3].map((seed) => randomBatch(batchSize, 100 + seed));
  const step = (i: number) => {
    const batch = batches[i % batches.length]!;
    plan.run({ x: batch.images, y: batch.labels });
  };
  try {
    // Warm-up: first runs create staging buffers and pipelines that later steps reuse.
    for (let i = 0; i < 4; i++) step(i);
    await plan.read(loss);
    const poolStart = ctx.pool.bytesAllocated;
    const heapStart = heapUsed();
    for (let i = 0; i < steps; i++) {
      step(i);
      if ((i + 1) % READ_EVERY === 0) {
        const value = (await plan.read(loss))[0]!;
        if (!Number.isFinite(value)) throw new Error(`memory check: the loss became ${value} at step ${i + 1}`);
        onProgress?.(i + 1);
      }
    }
    await plan.read(loss);
    await ctx.sync();
    const poolEnd = ctx.pool.bytesAllocated;
    const heapEnd = heapUsed();
    return {
      steps,
      batch: batchSize,
      poolBytes: { start: poolStart, end: poolEnd },
      heapBytes: { start: heapStart, end: heapEnd },
      gcAvailable: typeof globalThis.gc === 'function',
      heapToleranceBytes: HEAP_TOLERANCE,
      flat: poolEnd === poolStart && Math.abs(heapEnd - heapStart) <= HEAP_TOLERANCE,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    dispose();
  }
}

function heapUsed(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}
