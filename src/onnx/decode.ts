// ONNX model bytes to plain graph data: nodes, initializers (float32 or int64 values), the
// graph's inputs and outputs, and the default-domain opset.
import { ONNX_ATTRIBUTE, ONNX_DTYPE, onnxTypes } from './schema.js';

export type AttributeValue = number | number[] | string | OnnxTensor;

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

/** A constant: float data (FLOAT, DOUBLE, FLOAT16) or integer data (INT32, INT64), row-major. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  floats?: Float32Array;
  ints?: number[];
}

export interface OnnxGraphData {
  source: string;
  opset: number;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  /** Graph inputs that are not initializers, with their dims (a symbolic dim is undefined). */
  inputs: { name: string; dims: (number | undefined)[] }[];
  outputs: string[];
  /** The graph's nodes and initializers as protobufjs decoded them, for exporting the graph again unchanged. */
  proto: { nodes: Record<string, unknown>[]; initializers: Record<string, unknown>[] };
}

type Message = Record<string, unknown>;

function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value as bigint | string);
}

function tensorOf(t: Message, source: string): OnnxTensor {
  const name = String(t.name ?? '');
  const dims = ((t.dims as unknown[]) ?? []).map(toNumber);
  const type = toNumber(t.data_type ?? 0);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.raw_data as Uint8Array | undefined;
  const view = raw && raw.length > 0 ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const check = (found: number) => {
    if (found !== count) throw new Error(`${source}: tensor '${name}' has ${found} values for dims [${dims.join(', ')}] (${count}); the file is damaged`);
  };
  switch (type) {
    case ONNX_DTYPE.FLOAT: {
      const floats = view ? Float32Array.from({ length: raw!.length / 4 }, (_, i) => view.getFloat32(i * 4, true)) : Float32Array.from((t.float_data as number[]) ?? []);
      check(floats.length);
      return { name, dims, floats };
    }
    case ONNX_DTYPE.DOUBLE: {
      const floats = view ? Float32Array.from({ length: raw!.length / 8 }, (_, i) => view.getFloat64(i * 8, true)) : Float32Array.from((t.double_data as number[]) ?? []);
      check(floats.length);
      return { name, dims, floats };
    }
    case ONNX_DTYPE.INT64: {
      const ints = view ? Array.from({ length: raw!.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true))) : ((t.int64_data as unknown[]) ?? []).map(toNumber);
      check(ints.length);
      return { name, dims, ints };
    }
    case ONNX_DTYPE.INT32: {
      const ints = view ? Array.from({ length: raw!.length / 4 }, (_, i) => view.getInt32(i * 4, true)) : ((t.int32_data as unknown[]) ?? []).map(toNumber);
      check(ints.length);
      return { name, dims, ints };
    }
    default:
      throw new Error(`${source}: tensor '${name}' has ONNX data type ${type}, which kdgpu does not read (it reads FLOAT, DOUBLE, INT32, INT64)`);
  }
}

function attributeOf(a: Message, source: string): AttributeValue {
  switch (toNumber(a.type)) {
    case ONNX_ATTRIBUTE.FLOAT:
      return Number(a.f ?? 0);
    case ONNX_ATTRIBUTE.INT:
      return toNumber(a.i ?? 0);
    case ONNX_ATTRIBUTE.STRING:
      return new TextDecoder().decode((a.s as Uint8Array) ?? new Uint8Array());
    case ONNX_ATTRIBUTE.FLOATS:
      return ((a.floats as number[]) ?? []).map(Number);
    case ONNX_ATTRIBUTE.INTS:
      return ((a.ints as unknown[]) ?? []).map(toNumber);
    case ONNX_ATTRIBUTE.TENSOR:
      return tensorOf(a.t as Message, source);
    default:
      return `unsupported attribute type ${String(a.type)}`;
  }
}

/**
 * Decodes one TensorProto (e.g. the input_0.pb / output_0.pb files of ONNX test cases).
 * @example const { dims, floats } = decodeOnnxTensor(bytes, 'input_0.pb');
 */
export function decodeOnnxTensor(bytes: Uint8Array, source = 'tensor.pb'): OnnxTensor {
  let message: Message;
  try {
    message = onnxTypes.TensorProto.toObject(onnxTypes.TensorProto.decode(bytes), { longs: Number, bytes: Uint8Array, defaults: false }) as Message;
  } catch (cause) {
    throw new Error(`${source}: not a readable ONNX tensor (${(cause as Error).message})`);
  }
  return tensorOf(message, source);
}

/**
 * Decodes an ONNX model (protobuf, via protobufjs and onnx.proto). A truncated or damaged
 * file fails here, naming `source`.
 * @example const graph = decodeOnnx(bytes, 'teacher.onnx');
 */
export function decodeOnnx(bytes: Uint8Array, source = 'model.onnx'): OnnxGraphData {
  let model: Message;
  try {
    model = onnxTypes.ModelProto.toObject(onnxTypes.ModelProto.decode(bytes), { longs: Number, bytes: Uint8Array, defaults: false }) as Message;
  } catch (cause) {
    throw new Error(`${source}: not a readable ONNX model (${(cause as Error).message}); the file is truncated or not ONNX`);
  }
  const graph = model.graph as Message | undefined;
  if (!graph) throw new Error(`${source}: the ONNX model has no graph; the file is truncated or not ONNX`);
  const opsets = (model.opset_import as Message[]) ?? [];
  const opset = toNumber(opsets.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 1);
  const initializers = new Map<string, OnnxTensor>();
  for (const t of (graph.initializer as Message[]) ?? []) {
    const tensor = tensorOf(t, source);
    initializers.set(tensor.name, tensor);
  }
  const nodes = ((graph.node as Message[]) ?? []).map((n, index) => ({
    name: String(n.name || `node${index}`),
    opType: String(n.op_type ?? ''),
    inputs: ((n.input as string[]) ?? []).map(String),
    outputs: ((n.output as string[]) ?? []).map(String),
    attributes: new Map(((n.attribute as Message[]) ?? []).map((a) => [String(a.name), attributeOf(a, source)])),
  }));
  const inputs = ((graph.input as Message[]) ?? [])
    .filter((i) => !initializers.has(String(i.name)))
    .map((i) => {
      const shape = (((i.type as Message)?.tensor_type as Message)?.shape as Message)?.dim as Message[] | undefined;
      return { name: String(i.name), dims: (shape ?? []).map((d) => (d.dim_value !== undefined ? toNumber(d.dim_value) : undefined)) };
    });
  const outputs = ((graph.output as Message[]) ?? []).map((o) => String(o.name));
  return { source, opset, nodes, initializers, inputs, outputs, proto: { nodes: (graph.node as Message[]) ?? [], initializers: (graph.initializer as Message[]) ?? [] } };
}
