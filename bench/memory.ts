// Memory check: a long training run of the student CNN, then many compile/dispose cycles of
// its training plan, each with the GPU bytes kdgpu's pool has allocated and the JS heap
// measured after warm-up and at the end. Flat means the pool allocated nothing more and the
// heap moved by at most 5 % (issue 11's bound).
import type { GpuContext } from '../src/index.js';
import { randomBatch } from './models.js';
import { studentTrainingPlan } from './workloads/train-step.js';

/** Pool bytes and heap at the start and end of one phase of the check. */
export interface MemoryPhase {
  poolBytes: { start: number; end: number };
  heapBytes: { start: number; end: number };
  flat: boolean;
  seconds: number;
}

export interface MemoryReport {
  steps: number;
  batch: number;
  /** Compile/dispose cycles of the training plan (model, graph, plan, optimizer). */
  cycles: number;
  training: MemoryPhase;
  compiles: MemoryPhase;
  /** Whether heap numbers were taken after a forced collection (node --expose-gc). */
  gcAvailable: boolean;
  /** Largest relative heap change counted as flat. */
  heapTolerance: number;
  flat: boolean;
}

const HEAP_TOLERANCE = 0.05;
/** Read the loss this often: it bounds the queued work the way a training loop's logging does. */
const READ_EVERY = 50;

/** @example const report = await memoryCheck(ctx, 10000, 1000); */
export async function memoryCheck(ctx: GpuContext, steps: number, cycles: number, batchSize = 64, onProgress?: (what: string) => void): Promise<MemoryReport> {
  const training = await trainingPhase(ctx, steps, batchSize, (step) => {
    if (step % 500 === 0) onProgress?.(`step ${step}/${steps}`);
  });
  const compiles = await compilePhase(ctx, cycles, batchSize, (cycle) => {
    if (cycle % 100 === 0) onProgress?.(`compile/dispose cycle ${cycle}/${cycles}`);
  });
  return {
    steps,
    batch: batchSize,
    cycles,
    training,
    compiles,
    gcAvailable: typeof globalThis.gc === 'function',
    heapTolerance: HEAP_TOLERANCE,
    flat: training.flat && compiles.flat,
  };
}

async function trainingPhase(ctx: GpuContext, steps: number, batchSize: number, onProgress: (step: number) => void): Promise<MemoryPhase> {
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
        onProgress(i + 1);
      }
    }
    await plan.read(loss);
    await ctx.sync();
    return phase(ctx, poolStart, heapStart, started);
  } finally {
    dispose();
  }
}

/**
 * Warm-up cycles before the compile phase measures. V8's compiled code and feedback for the
 * build/compile path settle over the first few dozen cycles (the heap then moves ±0.3 MiB with
 * no trend over 2,000 cycles); two warm-up cycles counted that settling as growth.
 */
const COMPILE_WARMUP_CYCLES = 50;

/** Builds, compiles and disposes the training plan `cycles` times (after the warm-up cycles). */
async function compilePhase(ctx: GpuContext, cycles: number, batchSize: number, onProgress: (cycle: number) => void): Promise<MemoryPhase> {
  const started = performance.now();
  const cycle = () => studentTrainingPlan(ctx, batchSize).dispose();
  for (let i = 0; i < COMPILE_WARMUP_CYCLES; i++) {
    cycle();
    if ((i + 1) % 10 === 0) await ctx.sync();
  }
  await ctx.sync();
  const poolStart = ctx.pool.bytesAllocated;
  const heapStart = heapUsed();
  for (let i = 0; i < cycles; i++) {
    cycle();
    // Bound the queued uploads of each cycle's fresh weights.
    if ((i + 1) % 10 === 0) await ctx.sync();
    onProgress(i + 1);
  }
  await ctx.sync();
  return phase(ctx, poolStart, heapStart, started);
}

/** Measures the end of a phase: flat when the pool grew by nothing and the heap by at most 5 %. */
function phase(ctx: GpuContext, poolStart: number, heapStart: number, started: number): MemoryPhase {
  const poolEnd = ctx.pool.bytesAllocated;
  const heapEnd = heapUsed();
  return {
    poolBytes: { start: poolStart, end: poolEnd },
    heapBytes: { start: heapStart, end: heapEnd },
    flat: poolEnd === poolStart && Math.abs(heapEnd - heapStart) <= HEAP_TOLERANCE * heapStart,
    seconds: (performance.now() - started) / 1000,
  };
}

function heapUsed(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}
