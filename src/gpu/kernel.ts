import { type EntryReflection, type Shader, packUniforms, reflectEntry } from './shader.js';

/** A compute pipeline for one entry point of one shader, with its reflected bindings. */
export interface Kernel {
  readonly shader: Shader;
  readonly entry: string;
  readonly pipeline: GPUComputePipeline;
  readonly reflection: EntryReflection;
}

/** Creates pipelines once per (shader, entry, override constants) and keeps them. */
export class KernelCache {
  private readonly modules = new Map<Shader, GPUShaderModule>();
  private readonly kernels = new Map<string, Kernel>();

  constructor(private readonly device: GPUDevice) {}

  get(shader: Shader, entry: string, constants: Record<string, number> = {}): Kernel {
    const key = `${shader.name}/${entry}/${JSON.stringify(constants)}`;
    let kernel = this.kernels.get(key);
    if (kernel) return kernel;
    const reflection = reflectEntry(shader, entry);
    let module = this.modules.get(shader);
    if (!module) {
      module = this.device.createShaderModule({ code: shader.code, label: shader.name });
      this.modules.set(shader, module);
    }
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: 'auto',
      compute: { module, entryPoint: entry, constants },
    });
    kernel = { shader, entry, pipeline, reflection };
    this.kernels.set(key, kernel);
    return kernel;
  }

  /** Every pipeline created so far (for tests of caching). */
  get size(): number {
    return this.kernels.size;
  }
}

/**
 * Makes a bind group from buffers named as the shader names them. Missing or unknown
 * names fail with a message that names the shader, the entry point and the binding.
 */
export function createBindGroup(device: GPUDevice, kernel: Kernel, buffers: Record<string, GPUBuffer>): GPUBindGroup {
  const { shader, entry, reflection } = kernel;
  for (const name of Object.keys(buffers)) {
    if (!reflection.bindings.has(name)) {
      throw new Error(
        `shader '${shader.name}' entry '${entry}' has no binding named '${name}' (bindings: ${bindingNames(kernel)})`,
      );
    }
  }
  const entries: GPUBindGroupEntry[] = [];
  for (const [name, info] of reflection.bindings) {
    const buffer = buffers[name];
    if (!buffer) throw new Error(`shader '${shader.name}' entry '${entry}' needs a buffer for binding '${name}' (@binding(${info.binding}))`);
    entries.push({ binding: info.binding, resource: { buffer } });
  }
  return device.createBindGroup({ layout: kernel.pipeline.getBindGroupLayout(0), entries, label: `${shader.name}/${entry}` });
}

/**
 * Packs `values` into the entry point's uniform struct: the uniform named `params`, or else
 * its only uniform. Other uniforms (e.g. an optimizer's step) are bound as buffers by name.
 */
export function packParams(kernel: Kernel, values: Record<string, number>): { binding: string; data: ArrayBuffer } {
  const uniforms = [...kernel.reflection.bindings.values()].filter((b) => b.kind === 'uniform');
  const binding = uniforms.find((b) => b.name === 'params') ?? (uniforms.length === 1 ? uniforms[0] : undefined);
  if (!binding) {
    throw new Error(
      `shader '${kernel.shader.name}' entry '${kernel.entry}' has no uniform to receive values: it needs one uniform struct, or one named 'params' (it has ${uniforms.length})`,
    );
  }
  return { binding: binding.name, data: packUniforms(kernel.shader, binding, values) };
}

function bindingNames(kernel: Kernel): string {
  return [...kernel.reflection.bindings.values()]
    .sort((a, b) => a.binding - b.binding)
    .map((b) => b.name)
    .join(', ');
}
