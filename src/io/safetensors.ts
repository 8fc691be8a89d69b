// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of UTF-8 JSON describing each tensor (dtype, shape,
// data_offsets into the byte buffer) and an optional "__metadata__" string map, then the byte
// buffer. Pure functions over bytes, so they run in Node and in browsers alike.

/**
 * Element types kdgpu reads and writes. F64, F16 and BF16 are read only (converted to
 * float32, as PyTorch half-precision state dicts need); I64 is read only, as int32 when
 * every value fits (PyTorch's BatchNorm `num_batches_tracked`).
 */
export type SafetensorsDType = 'F32' | 'U32' | 'I32' | 'F64' | 'F16' | 'BF16' | 'I64';

export type SafetensorsData = Float32Array | Uint32Array | Int32Array;

/** One tensor to encode: dtype defaults to the array's type (F32, U32 or I32). */
export interface SafetensorsInput {
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
  readonly dtype?: 'F32' | 'U32' | 'I32';
}

/** One decoded tensor. `dtype` is the file's; F64 data arrives rounded to a Float32Array. */
export interface SafetensorsTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: number[];
  readonly data: SafetensorsData;
}

export interface DecodedSafetensors {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDType, number> = { F32: 4, U32: 4, I32: 4, F64: 8, F16: 2, BF16: 2, I64: 8 };
const METADATA_KEY = '__metadata__';
// The reference writer orders tensors by dtype (widest first), then by name.
const WRITE_ORDER: Record<'F32' | 'U32' | 'I32', number> = { F32: 0, U32: 1, I32: 2 };

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function dtypeOfArray(data: SafetensorsData): 'F32' | 'U32' | 'I32' {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Uint32Array) return 'U32';
  return 'I32';
}

/**
 * Encodes named tensors (and optional string metadata) as a safetensors file. Tensors are
 * sorted as the reference (Python/Rust) writer sorts them — by dtype (F32, U32, I32), then by
 * name — metadata keys are sorted and the JSON is compact, so the same weights always give
 * the same bytes, identical to `safetensors.numpy.save_file`'s for ASCII names. Assumes a
 * little-endian host, as WebGPU itself does.
 * @example const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsInput> | Readonly<Record<string, SafetensorsInput>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const entries: [string, SafetensorsInput][] = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(
    ([nameA, a], [nameB, b]) => WRITE_ORDER[dtypeOfArray(a.data)] - WRITE_ORDER[dtypeOfArray(b.data)] || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0),
  );
  // The JSON is assembled by hand: a JS object would move integer-like names ("0") first.
  const fields: string[] = [];
  if (metadata) {
    const keys = Object.keys(metadata).sort();
    fields.push(`${JSON.stringify(METADATA_KEY)}:{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(metadata[k]))}`).join(',')}}`);
  }
  let offset = 0;
  for (const [name, tensor] of entries) {
    if (name === METADATA_KEY) throw new Error(`encodeSafetensors: '${METADATA_KEY}' is reserved and cannot name a tensor`);
    const dtype = tensor.dtype ?? dtypeOfArray(tensor.data);
    if (dtype !== dtypeOfArray(tensor.data)) {
      throw new Error(`encodeSafetensors: tensor '${name}' is declared ${dtype} but its data is a ${tensor.data.constructor.name}`);
    }
    if (!tensor.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`encodeSafetensors: tensor '${name}' has invalid shape [${tensor.shape.join(', ')}]`);
    }
    if (elementCount(tensor.shape) !== tensor.data.length) {
      throw new Error(`encodeSafetensors: tensor '${name}' has shape [${tensor.shape.join(', ')}] (${elementCount(tensor.shape)} values) but ${tensor.data.length} values`);
    }
    const end = offset + tensor.data.byteLength;
    fields.push(`${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${tensor.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  // Spaces pad the header so the byte buffer starts 8-byte aligned, as the reference writer does.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, tensor] of entries) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), at);
    at += tensor.data.byteLength;
  }
  return out;
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseEntry(name: string, value: unknown, fail: (message: string) => never): HeaderEntry {
  const where = `tensor '${name}'`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${where}: header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (dtype === undefined) fail(`${where}: header entry has no "dtype"`);
  if (shape === undefined) fail(`${where}: header entry has no "shape"`);
  if (offsets === undefined) fail(`${where}: header entry has no "data_offsets"`);
  if (typeof dtype !== 'string' || !(dtype in BYTES_PER_ELEMENT)) {
    fail(`${where}: dtype ${JSON.stringify(dtype)} is not supported (kdgpu reads ${Object.keys(BYTES_PER_ELEMENT).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) fail(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger) || offsets[0] > offsets[1]) {
    fail(`${where}: data_offsets ${JSON.stringify(offsets)} must be [begin, end] with 0 ≤ begin ≤ end`);
  }
  const [begin, end] = offsets as [number, number];
  const bytes = elementCount(shape) * BYTES_PER_ELEMENT[dtype as SafetensorsDType];
  if (end - begin !== bytes) {
    fail(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${bytes}`);
  }
  return { name, dtype: dtype as SafetensorsDType, shape, begin, end };
}

function parseMetadata(value: unknown, fail: (message: string) => never): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`"${METADATA_KEY}" must be an object of strings`);
  for (const [key, v] of Object.entries(value as object)) {
    if (typeof v !== 'string') fail(`"${METADATA_KEY}" entry '${key}' must be a string, got ${JSON.stringify(v)}`);
  }
  return { ...(value as Record<string, string>) };
}

/** The byte ranges must tile the buffer exactly: no gaps, no overlaps, nothing past the end. */
function checkLayout(entries: HeaderEntry[], bufferLength: number, fail: (message: string) => never): void {
  const byStart = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of byStart) {
    if (entry.begin < covered) {
      fail(`tensor '${entry.name}': data_offsets [${entry.begin}, ${entry.end}] overlap tensor '${previous!.name}' [${previous!.begin}, ${previous!.end}]`);
    }
    if (entry.begin > covered) fail(`tensor '${entry.name}': bytes ${covered}..${entry.begin} before it belong to no tensor (tensors must be stored contiguously)`);
    if (entry.end > bufferLength) {
      fail(`tensor '${entry.name}': data_offsets [${entry.begin}, ${entry.end}] run past the end of the data (${bufferLength} bytes); the file is truncated or the offsets are out of range`);
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered !== bufferLength) fail(`${bufferLength - covered} bytes after the last tensor belong to no tensor`);
}

/** IEEE half precision to float32 (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The first key that appears twice at the top level of a valid JSON object text. */
function firstDuplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = end;
    } else if (ch === '{' || ch === '[') {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (ch === '}' || ch === ']') depth--;
    else if (ch === ',' && depth === 1) expectKey = true;
  }
  return undefined;
}

function readData(dtype: SafetensorsDType, bytes: Uint8Array, fail: (message: string) => never, name: string): SafetensorsData {
  // Copy into a fresh, aligned buffer: offsets in the file need not be aligned. Not
  // bytes.slice(): on a Node Buffer (readFileSync's result) slice() is a view, and its .buffer
  // the whole (pooled) allocation.
  const copy = new Uint8Array(bytes).buffer;
  switch (dtype) {
    case 'F16':
      return Float32Array.from(new Uint16Array(copy), halfToFloat);
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const halves = new Uint16Array(copy);
      const words = new Uint32Array(halves.length);
      for (let i = 0; i < halves.length; i++) words[i] = halves[i]! << 16;
      return new Float32Array(words.buffer);
    }
    case 'I64': {
      const wide = new BigInt64Array(copy);
      const narrow = new Int32Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        if (wide[i]! > 2147483647n || wide[i]! < -2147483648n) fail(`tensor '${name}': I64 value ${wide[i]} at index ${i} does not fit in 32 bits`);
        narrow[i] = Number(wide[i]);
      }
      return narrow;
    }
    case 'F32':
      return new Float32Array(copy);
    case 'U32':
      return new Uint32Array(copy);
    case 'I32':
      return new Int32Array(copy);
    case 'F64':
      return Float32Array.from(new Float64Array(copy));
  }
}

/**
 * Decodes a safetensors file, checking the header and the layout of the byte buffer; every
 * error names `source` (the file) and the offending tensor. F64, F16 and BF16 tensors arrive
 * as a Float32Array and I64 as an Int32Array (their `dtype` stays the file's); other dtypes
 * than these and F32, U32, I32 are rejected.
 * @example const { tensors, metadata } = decodeSafetensors(bytes, 'model.safetensors');
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): DecodedSafetensors {
  const fail = (message: string): never => {
    throw new Error(`${source}: ${message}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short to be a safetensors file (the header length alone takes 8)`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    fail(`header length ${headerLength} is larger than the ${bytes.length - 8} bytes that follow it (truncated file, or not a safetensors file)`);
  }
  const headerEnd = 8 + Number(headerLength);
  let header: unknown;
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd));
    header = JSON.parse(text);
  } catch (cause) {
    fail(`header is not valid UTF-8 JSON (${(cause as Error).message})`);
  }
  // JSON.parse keeps the last of two equal keys: a file naming a tensor twice is ambiguous.
  const duplicate = firstDuplicateTopLevelKey(text);
  if (duplicate !== undefined) fail(`tensor '${duplicate}' is named twice in the header; the file is ambiguous (which data is it?) and is rejected`);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header as object)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value, fail);
    else entries.push(parseEntry(name, value, fail));
  }
  const buffer = bytes.subarray(headerEnd);
  checkLayout(entries, buffer.length, fail);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    tensors.set(name, { dtype, shape, data: readData(dtype, buffer.subarray(begin, end), fail, name) });
  }
  return { tensors, metadata };
}
