// Timing that holds up on a slow, noisy machine: warm up, size each repetition to a target
// duration, interleave the contenders repetition by repetition (so drift hits all of them
// alike), and report medians.

/** One contender's implementation of a workload. */
export interface Runner {
  /** Called before each timed repetition, outside the clock (e.g. select a TF.js backend). */
  activate?(): Promise<void>;
  /** Runs `iterations` iterations and returns only when the device has finished them. */
  run(iterations: number): Promise<void>;
  dispose(): void;
}

/** Makes a runner (its setup is not timed); may throw when a contender cannot do the workload. */
export type RunnerFactory = () => Promise<Runner>;

export interface TimingOptions {
  /** Timed repetitions per contender; the median is reported. */
  repetitions: number;
  /** Aim for each repetition to take about this long. */
  secondsPerRepetition: number;
  /** Never run more iterations than this in one repetition. */
  maxIterations: number;
}

export interface Measured {
  /** Work units per second (median over repetitions), or null when the contender failed. */
  throughput: Record<string, number | null>;
  /** Every repetition's throughput, to judge the noise. */
  samples: Record<string, number[]>;
  errors: Record<string, string>;
}

/**
 * Times each contender: setup, two warm-up iterations (pipelines compile on the first), then
 * `repetitions` rounds in which every contender runs once. `workPerIteration` converts
 * iterations into the unit reported (1 step, 256 images, 2·M·N·K/1e9 GFLOP, ...).
 * A contender that throws gets null and its error message; the others go on.
 * @example const { throughput } = await compare({ kdgpu: makeOurs, peer: makeTheirs }, 1, options);
 */
export async function compare(factories: Record<string, RunnerFactory>, workPerIteration: number, options: TimingOptions): Promise<Measured> {
  const errors: Record<string, string> = {};
  const runners = new Map<string, Runner>();
  const iterations = new Map<string, number>();
  try {
    for (const [name, factory] of Object.entries(factories)) {
      try {
        const runner = await factory();
        runners.set(name, runner);
        await runner.activate?.();
        await runner.run(1);
        const seconds = await timed(() => runner.run(1));
        iterations.set(name, Math.max(1, Math.min(options.maxIterations, Math.round(options.secondsPerRepetition / seconds))));
      } catch (cause) {
        errors[name] = message(cause);
      }
    }
    const samples = new Map<string, number[]>([...iterations.keys()].map((name) => [name, []]));
    for (let rep = 0; rep < options.repetitions; rep++) {
      for (const [name, n] of iterations) {
        if (errors[name]) continue;
        const runner = runners.get(name)!;
        try {
          await runner.activate?.();
          const seconds = await timed(() => runner.run(n));
          samples.get(name)!.push((n * workPerIteration) / seconds);
        } catch (cause) {
          errors[name] = message(cause);
        }
      }
    }
    const throughput: Record<string, number | null> = {};
    for (const name of Object.keys(factories)) throughput[name] = errors[name] ? null : median(samples.get(name)!);
    return { throughput, samples: Object.fromEntries(samples), errors };
  } finally {
    for (const runner of runners.values()) runner.dispose();
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return Math.max(1e-6, (performance.now() - start) / 1000);
}

function message(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.split('\n')[0]!.slice(0, 300);
}
