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
