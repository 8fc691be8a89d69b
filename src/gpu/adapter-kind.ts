import type { GpuContext } from './context.js';

/**
 * 'software' for adapters that run a workgroup on one CPU thread with SIMD across its
 * invocations (lavapipe, SwiftShader), where a storage access whose address differs per
 * invocation runs lane by lane; 'gpu' otherwise. Kernels with shapes tuned for each ask this.
 */
export type AdapterKind = 'gpu' | 'software';

let override: AdapterKind | undefined;

/**
 * For tests: makes adapterKind() answer `kind` whatever the adapter is (so both dispatch
 * shapes can be checked on one machine); undefined restores the answer by adapter.
 * @internal
 */
export function setAdapterKindOverride(kind: AdapterKind | undefined): void {
  override = kind;
}

export function adapterKind(ctx: GpuContext): AdapterKind {
  if (override) return override;
  const { architecture, device, description } = ctx.adapterInfo;
  return architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${device} ${description}`) ? 'software' : 'gpu';
}
