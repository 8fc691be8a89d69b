import { type ContextOptions, type GpuContext, openContext } from './gpu/context.js';
import { type AutotuneOptions, autotuneGemm } from './tune/gemm-autotune.js';

/** Options of `init`: how to get the device (ContextOptions) and whether to autotune. */
export interface InitOptions extends ContextOptions {
  /**
   * Time the GEMM core's variants on this adapter before returning (`autotuneGemm`): a few
   * seconds on lavapipe the first time, then read from the per-adapter cache. Off by
   * default, so that results and compile times stay the same from run to run.
   */
  autotune?: boolean | AutotuneOptions;
}

/**
 * Opens a GPU (Dawn in Node, navigator.gpu in a browser, or a device you pass in) and, when
 * asked, autotunes its device profile. Lives above ops/ and tune/ because the autotune runs
 * ops; the context itself is made by `openContext` on the ground floor.
 *
 * @example
 * const ctx = await kdgpu.init();
 * // ... build and run graphs ...
 * ctx.dispose();
 */
export async function init(options: InitOptions = {}): Promise<GpuContext> {
  const ctx = await openContext(options);
  if (!options.autotune) return ctx;
  try {
    await autotuneGemm(ctx, options.autotune === true ? {} : options.autotune);
  } catch (cause) {
    ctx.dispose();
    throw cause;
  }
  return ctx;
}
