/**
 * 'software' for adapters that run a workgroup on one CPU thread with SIMD across its
 * invocations (lavapipe, SwiftShader), where a storage access whose address differs per
 * invocation runs lane by lane; 'gpu' otherwise. Kernels with shapes tuned for each read it
 * from `ctx.profile.adapterKind`.
 */
export type AdapterKind = 'gpu' | 'software';

/** The kind of adapter an adapter description names (see AdapterKind). */
export function adapterKindOf(info: { architecture: string; device: string; description: string }): AdapterKind {
  const { architecture, device, description } = info;
  return architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${device} ${description}`) ? 'software' : 'gpu';
}
