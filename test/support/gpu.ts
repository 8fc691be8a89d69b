import { afterAll, beforeAll } from 'vitest';
import { type GpuContext, init } from '../../src/index.js';

/** One poisoned GPU context per test file, disposed at the end. */
export function useGpu(): () => GpuContext {
  let ctx: GpuContext | undefined;
  beforeAll(async () => {
    ctx = await init({ poison: true });
  });
  afterAll(() => ctx?.dispose());
  return () => {
    if (!ctx) throw new Error('GPU context not ready');
    return ctx;
  };
}

/**
 * Runs `body` with `ctx` seen as a device without `feature` (ctx.features minus it), as on an
 * adapter that lacks it; the features are restored afterwards. Used instead of a second
 * device, which needs a second Dawn instance in the same process.
 */
export async function withoutFeature<R>(ctx: GpuContext, feature: string, body: () => R | Promise<R>): Promise<R> {
  const features = ctx.features;
  ctx.features = new Set([...features].filter((f) => f !== feature));
  try {
    return await body();
  } finally {
    ctx.features = features;
  }
}
