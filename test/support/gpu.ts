import { afterAll, beforeAll } from 'vitest';
import { type GpuContext, init, openContext } from '../../src/index.js';
import { acquireAdapter } from '../../src/gpu/acquire.js';

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
 * A second context on a device made without optional features (no 'shader-f16'), as on an
 * adapter that lacks them. `close()` destroys it; until then the closure keeps Dawn's GPU
 * object alive, which must outlive the device.
 */
export async function openPlainContext(): Promise<{ ctx: GpuContext; close: () => void }> {
  const { adapter, keepAlive } = await acquireAdapter();
  const device = await adapter.requestDevice();
  const ctx = await openContext({ device });
  return {
    ctx,
    close: () => {
      ctx.dispose();
      device.destroy();
      void keepAlive;
    },
  };
}
