// Model parameters (GPU tensors by name) to and from safetensors bytes.
import { type DType, type Tensor, formatShape } from '../graph/tensor.js';
import { type SafetensorsDType, type SafetensorsInput, type SafetensorsTensor, decodeSafetensors, encodeSafetensors } from './safetensors.js';

export type NamedTensors = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

export interface LoadParametersOptions {
  /** Names the file in error messages. */
  source?: string;
  /** Ignore tensors in the file that `named` does not have (e.g. a PyTorch file with extra buffers). */
  allowExtra?: boolean;
  /** Load NaN and ±Infinity as they are (default: refuse them, naming the tensor). */
  allowNonFinite?: boolean;
}

const FILE_DTYPE: Record<DType, SafetensorsDType> = { f32: 'F32', u32: 'U32', f16: 'F16' };

function entriesOf(named: NamedTensors): [string, Tensor][] {
  return named instanceof Map ? [...named.entries()] : Object.entries(named as Readonly<Record<string, Tensor>>);
}

/**
 * Float tensors accept every float type in the file: the decoder gives float32, which an f16
 * tensor rounds (f16 tensors are saved as F32, since they are read back as Float32Array).
 */
function dtypeFits(tensor: Tensor, found: SafetensorsDType): boolean {
  const float = found === 'F32' || found === 'F64' || found === 'F16' || found === 'BF16';
  return found === FILE_DTYPE[tensor.dtype] || (tensor.dtype !== 'u32' && float);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Reads the tensors back from the GPU and encodes them as safetensors bytes (names sorted,
 * so equal weights give identical files).
 * @example const bytes = await saveParameters({ 'dense1.weight': w, 'dense1.bias': b }, { epoch: '3' });
 */
export async function saveParameters(named: NamedTensors, metadata?: Readonly<Record<string, string>>): Promise<Uint8Array> {
  const entries = entriesOf(named);
  const values = await Promise.all(entries.map(([, tensor]) => tensor.read()));
  const inputs = new Map<string, SafetensorsInput>(entries.map(([name, tensor], i) => [name, { shape: tensor.shape, data: values[i]! }]));
  return encodeSafetensors(inputs, metadata);
}

function describeProblems(named: [string, Tensor][], file: Map<string, SafetensorsTensor>, allowExtra: boolean): string[] {
  const problems: string[] = [];
  for (const [name, tensor] of named) {
    const found = file.get(name);
    const expected = `${FILE_DTYPE[tensor.dtype]} ${formatShape(tensor.shape)}`;
    if (!found) {
      problems.push(`'${name}': missing from the file (expected ${expected})`);
      continue;
    }
    if (!sameShape(tensor.shape, found.shape)) problems.push(`'${name}': shape mismatch, expected ${formatShape(tensor.shape)}, file has ${formatShape(found.shape)}`);
    if (!dtypeFits(tensor, found.dtype)) problems.push(`'${name}': dtype mismatch, expected ${FILE_DTYPE[tensor.dtype]}, file has ${found.dtype}`);
  }
  if (!allowExtra) {
    const wanted = new Set(named.map(([name]) => name));
    for (const [name, found] of file) {
      if (!wanted.has(name)) problems.push(`'${name}': unexpected in the file (${found.dtype} ${formatShape(found.shape)}); pass { allowExtra: true } to ignore it`);
    }
  }
  return problems;
}

/**
 * Decodes safetensors bytes and writes each value into the existing GPU tensor of the same
 * name. Nothing is written unless every tensor matches: otherwise one error lists every
 * missing, unexpected (unless `allowExtra`), wrongly shaped or wrongly typed tensor.
 * @example loadParametersInto(model.parameters, bytes, { source: 'student.safetensors' });
 */
export function loadParametersInto(named: NamedTensors, bytes: Uint8Array, options: LoadParametersOptions = {}): void {
  const source = options.source ?? 'safetensors';
  const { tensors } = decodeSafetensors(bytes, source);
  const entries = entriesOf(named);
  const problems = describeProblems(entries, tensors, options.allowExtra ?? false);
  // Non-finite weights would only show up later as a NaN loss far from their cause.
  for (const [name, tensor] of entries) {
    const found = tensors.get(name);
    const data = found?.data;
    // Only tensors that fit: a wrongly shaped one is already reported.
    if (options.allowNonFinite || tensor.dtype !== 'f32' || !(data instanceof Float32Array) || !sameShape(tensor.shape, found!.shape)) continue;
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) problems.push(`'${name}': holds ${data[bad]} at index ${bad}; weights must be finite`);
  }
  if (problems.length > 0) {
    throw new Error(`${source}: cannot load ${problems.length} parameter(s):\n  ${problems.join('\n  ')}`);
  }
  for (const [name, tensor] of entries) tensor.write(tensors.get(name)!.data as Float32Array | Uint32Array);
}
