// PyTorch state dicts (as safetensors.torch.save_file writes them) into kdgpu models.
import { formatShape, type Tensor } from '../graph/tensor.js';
import { decodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { Dense } from './dense.js';
import type { Layer } from './layer.js';
import type { Sequential } from './sequential.js';

export interface TorchStateDictOptions {
  /** Names the file in error messages (default 'state dict'). */
  source?: string;
  /**
   * kdgpu layer name → PyTorch module prefix (e.g. { conv1: 'features.0', dense1: 'fc' }).
   * Layers not listed are matched in order with the file's modules that hold parameters.
   */
  modules?: Readonly<Record<string, string>>;
}

/** What was loaded where: kdgpu layer name → PyTorch module prefix. */
export type TorchModuleMapping = Record<string, string>;

// Buffers PyTorch saves that kdgpu has no use for.
const IGNORED_SUFFIXES = new Set(['num_batches_tracked']);

function naturalCompare(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i]!, pb[i]!];
    if (x === y) continue;
    const [nx, ny] = [Number(x), Number(y)];
    if (Number.isInteger(nx) && Number.isInteger(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The file's modules (prefix → its tensors by local name), in PyTorch's registration order for numbered children. */
function modulesOf(tensors: Map<string, SafetensorsTensor>): Map<string, Map<string, SafetensorsTensor>> {
  const modules = new Map<string, Map<string, SafetensorsTensor>>();
  for (const name of [...tensors.keys()].sort(naturalCompare)) {
    const dot = name.lastIndexOf('.');
    const [prefix, local] = dot < 0 ? ['', name] : [name.slice(0, dot), name.slice(dot + 1)];
    if (IGNORED_SUFFIXES.has(local)) continue;
    if (!modules.has(prefix)) modules.set(prefix, new Map());
    modules.get(prefix)!.set(local, tensors.get(name)!);
  }
  return modules;
}

function layerTensors(layer: Layer): Record<string, Tensor> {
  return { ...layer.parameters(), ...layer.buffers() };
}

function describeModule(prefix: string, tensors: Map<string, SafetensorsTensor>): string {
  return `'${prefix}' (${[...tensors].map(([k, t]) => `${k} ${formatShape(t.shape)}`).join(', ')})`;
}

/** The file's value for one kdgpu tensor, in kdgpu's layout: Linear weights [out, in] become Dense's [in, out]. */
function valueFor(layer: Layer, local: string, target: Tensor, found: SafetensorsTensor, where: string): Float32Array {
  if (!(found.data instanceof Float32Array)) throw new Error(`${where}: ${found.dtype} is not a floating-point type`);
  if (layer instanceof Dense && local === 'weight') {
    const [inputs, outputs] = target.shape as [number, number];
    if (found.shape.length !== 2 || found.shape[0] !== outputs || found.shape[1] !== inputs) {
      throw new Error(`${where}: a Linear weight [out, in] = [${outputs}, ${inputs}] is needed for Dense ${formatShape(target.shape)}, the file has ${formatShape(found.shape)}`);
    }
    const transposed = new Float32Array(inputs * outputs);
    for (let o = 0; o < outputs; o++) for (let i = 0; i < inputs; i++) transposed[i * outputs + o] = found.data[o * inputs + i]!;
    return transposed;
  }
  if (found.shape.join() !== target.shape.join()) throw new Error(`${where}: shape ${formatShape(found.shape)} in the file, ${formatShape(target.shape)} in the model`);
  return found.data;
}

/**
 * Loads a PyTorch state dict saved as safetensors into a built kdgpu model: Conv2d and
 * BatchNorm tensors keep PyTorch's layout, Linear weights are transposed into Dense's
 * [in, out], F16/BF16/F64 tensors are converted to float32, and `num_batches_tracked` is
 * ignored. Modules are matched to the model's layers that have parameters, in order (PyTorch's
 * numbered children sort numerically), unless `options.modules` names them. Nothing is
 * written unless every tensor matches; errors list both sides.
 *
 * @example
 * // Python: safetensors.torch.save_file(model.state_dict(), 'teacher.safetensors')
 * const mapping = loadTorchStateDict(teacher, bytes, { source: 'teacher.safetensors' });
 */
export function loadTorchStateDict(model: Sequential, bytes: Uint8Array, options: TorchStateDictOptions = {}): TorchModuleMapping {
  const source = options.source ?? 'state dict';
  const modules = modulesOf(decodeSafetensors(bytes, source).tensors);
  const layers = model.layers.filter((layer) => Object.keys(layerTensors(layer)).length > 0);
  const named = options.modules ?? {};
  for (const [layerName, prefix] of Object.entries(named)) {
    if (!layers.some((l) => l.name === layerName)) throw new Error(`${source}: options.modules names layer '${layerName}', but the model's layers with parameters are ${layers.map((l) => l.name).join(', ')}`);
    if (!modules.has(prefix)) throw new Error(`${source}: options.modules maps '${layerName}' to '${prefix}', which the file does not have; its modules are ${[...modules.keys()].join(', ')}`);
  }
  const unclaimed = [...modules.keys()].filter((prefix) => !Object.values(named).includes(prefix));
  const positional = layers.filter((layer) => named[layer.name] === undefined);
  if (positional.length !== unclaimed.length) {
    throw new Error(
      `${source}: the model has ${positional.length} layer(s) with parameters left to match (${positional.map((l) => `${l.name} [${l.kind}]`).join(', ')}) ` +
        `but the file has ${unclaimed.length} module(s) left: ${unclaimed.map((p) => describeModule(p, modules.get(p)!)).join('; ')}. Map them with options.modules.`,
    );
  }
  const mapping: TorchModuleMapping = {};
  positional.forEach((layer, i) => (mapping[layer.name] = unclaimed[i]!));
  Object.assign(mapping, named);

  const writes: [Tensor, Float32Array][] = [];
  for (const layer of layers) {
    const prefix = mapping[layer.name]!;
    const file = modules.get(prefix)!;
    const wanted = layerTensors(layer);
    const kind = layer instanceof Conv2d ? 'Conv2d' : layer instanceof Dense ? 'Linear' : layer instanceof BatchNorm ? 'BatchNorm' : layer.kind;
    const missing = Object.keys(wanted).filter((k) => !file.has(k));
    const extra = [...file.keys()].filter((k) => !(k in wanted));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(`${source}: layer '${layer.name}' (${kind}) needs ${Object.keys(wanted).join(', ')} but module ${describeModule(prefix, file)} ${missing.length ? `lacks ${missing.join(', ')}` : `also has ${extra.join(', ')}`}; map the layers with options.modules`);
    }
    for (const [local, target] of Object.entries(wanted)) {
      writes.push([target, valueFor(layer, local, target, file.get(local)!, `${source}: '${prefix ? `${prefix}.` : ''}${local}' → ${layer.name}.${local}`)]);
    }
  }
  for (const [target, value] of writes) target.write(value);
  return mapping;
}
