// kdgpu models to ONNX (opset 13): one node per layer, weights as initializers.
import { BatchNorm } from '../nn/batch-norm.js';
import { Dropout, Flatten, ReLU } from '../nn/basic.js';
import { Conv2d } from '../nn/conv2d.js';
import { Dense } from '../nn/dense.js';
import type { Layer } from '../nn/layer.js';
import { AvgPool2d, GlobalAvgPool, MaxPool2d } from '../nn/pooling.js';
import { Standardize } from '../nn/standardize.js';
import type { OnnxTensor } from './decode.js';
import { OnnxGraphLayer } from './graph-layer.js';
import type { Sequential } from '../nn/sequential.js';
import { KDGPU_VERSION } from '../version.js';
import { ONNX_ATTRIBUTE, ONNX_DTYPE, onnxTypes } from './schema.js';

/** The opset exported models declare: every op used has had its current form since 13. */
export const ONNX_EXPORT_OPSET = 13;

export interface OnnxExportOptions {
  /** Name of the graph input (default 'input'); its batch dimension is symbolic ('batch'). */
  inputName?: string;
  /** Name of the graph output (default 'logits'). */
  outputName?: string;
}

interface Attribute {
  name: string;
  type: number;
  i?: number;
  f?: number;
  ints?: number[];
}

interface Node {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}

interface Initializer {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/** What exporting one layer adds besides nodes and initializers. */
interface ExportState {
  /** Nodes and initializers taken as read from an imported ONNX graph (protobufjs objects). */
  importedNodes: Record<string, unknown>[];
  importedInitializers: Record<string, unknown>[];
  /** The imported graph's opset, when there is one (the export keeps it). */
  importedOpset?: number;
}

const ints = (name: string, values: number[]): Attribute => ({ name, type: ONNX_ATTRIBUTE.INTS, ints: values });
const int = (name: string, value: number): Attribute => ({ name, type: ONNX_ATTRIBUTE.INT, i: value });
const float = (name: string, value: number): Attribute => ({ name, type: ONNX_ATTRIBUTE.FLOAT, f: value });

/** A constant given to loadOnnx as a fixed input, as an initializer again (INT64 for integer data). */
function fixedTensor(t: OnnxTensor): Initializer {
  if (t.floats) return floatTensor(t.name, t.dims, t.floats);
  const bytes = new Uint8Array((t.ints ?? []).length * 8);
  const view = new DataView(bytes.buffer);
  (t.ints ?? []).forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name: t.name, dims: t.dims, data_type: ONNX_DTYPE.INT64, raw_data: bytes };
}

function floatTensor(name: string, dims: number[], data: Float32Array): Initializer {
  // ONNX raw_data is little-endian whatever the host's byte order.
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, data_type: ONNX_DTYPE.FLOAT, raw_data: bytes };
}

/** Appends the nodes of one layer; returns the name of its output. */
async function exportLayer(layer: Layer, input: string, nodes: Node[], initializers: Initializer[], state: ExportState): Promise<string> {
  const out = `${layer.name}_out`;
  const node = (op_type: string, inputs: string[], attribute: Attribute[] = [], output = out): string => {
    nodes.push({ op_type, name: layer.name + (output === out ? '' : `_${op_type.toLowerCase()}`), input: inputs, output: [output], attribute });
    return output;
  };
  const weights = async () => {
    const params = layer.parameters();
    const entries: [string, Float32Array, number[]][] = [];
    for (const [key, tensor] of Object.entries(params)) entries.push([`${layer.name}.${key}`, (await tensor.read()) as Float32Array, [...tensor.shape]]);
    for (const [name, data, dims] of entries) initializers.push(floatTensor(name, dims, data));
    return entries.map(([name]) => name);
  };
  // A layer with a fused ReLU (activation: 'relu') exports as the op followed by Relu.
  const withRelu = (op: string, fused: boolean) => {
    if (!fused) return op;
    return node('Relu', [op], [], `${layer.name}_relu_out`);
  };
  if (layer instanceof Conv2d) {
    const [w, b] = await weights();
    const p = layer.padding;
    const conv = node('Conv', [input, w!, b!], [ints('kernel_shape', [layer.kernel, layer.kernel]), ints('strides', [layer.stride, layer.stride]), ints('pads', [p, p, p, p])], layer.fusesRelu ? out : `${layer.name}_conv_out`);
    return withRelu(conv, !layer.fusesRelu);
  }
  if (layer instanceof Dense) {
    const [w, b] = await weights();
    // Dense weights are [in, out]: Gemm(x, W, b) with transB = 0.
    const gemm = node('Gemm', [input, w!, b!], [float('alpha', 1), float('beta', 1), int('transA', 0), int('transB', 0)], layer.fusesRelu ? out : `${layer.name}_gemm_out`);
    return withRelu(gemm, !layer.fusesRelu);
  }
  if (layer instanceof BatchNorm) {
    const [scale, bias] = await weights();
    const buffers = layer.buffers();
    for (const key of ['running_mean', 'running_var']) initializers.push(floatTensor(`${layer.name}.${key}`, [...buffers[key]!.shape], (await buffers[key]!.read()) as Float32Array));
    return node('BatchNormalization', [input, scale!, bias!, `${layer.name}.running_mean`, `${layer.name}.running_var`], [float('epsilon', layer.eps)]);
  }
  if (layer instanceof ReLU) return node('Relu', [input]);
  if (layer instanceof MaxPool2d) return node('MaxPool', [input], [ints('kernel_shape', [layer.size, layer.size]), ints('strides', [layer.stride, layer.stride])]);
  if (layer instanceof AvgPool2d) return node('AveragePool', [input], [ints('kernel_shape', [layer.size, layer.size]), ints('strides', [layer.stride, layer.stride])]);
  if (layer instanceof GlobalAvgPool) {
    // kdgpu's GlobalAvgPool gives [C]; ONNX's gives [C, 1, 1]: flatten it back.
    const pooled = node('GlobalAveragePool', [input], [], `${layer.name}_pooled`);
    return node('Flatten', [pooled], [int('axis', 1)]);
  }
  if (layer instanceof Flatten) return node('Flatten', [input], [int('axis', 1)]);
  if (layer instanceof Standardize) {
    // (x − mean) / std with scalar constants (broadcast by Sub and Div since opset 7).
    initializers.push(floatTensor(`${layer.name}.mean`, [], new Float32Array([layer.mean])), floatTensor(`${layer.name}.std`, [], new Float32Array([layer.std])));
    const centred = node('Sub', [input, `${layer.name}.mean`], [], `${layer.name}_centred`);
    return node('Div', [centred, `${layer.name}.std`]);
  }
  if (layer instanceof OnnxGraphLayer) {
    // An imported graph goes out as it came in: its weights are frozen, so its own nodes and
    // initializers are exact. An Identity feeds it from the previous layer's output.
    if (state.importedOpset !== undefined) throw new Error(`saveOnnx: the model holds more than one imported ONNX graph; kdgpu exports at most one`);
    const graph = layer.exportGraph();
    if (graph.opset < 7) throw new Error(`saveOnnx: the imported graph has opset ${graph.opset}; kdgpu exports imported graphs of opset 7 or newer`);
    state.importedOpset = graph.opset;
    if (input !== graph.input) node('Identity', [input], [], graph.input);
    state.importedNodes.push(...graph.nodes);
    state.importedInitializers.push(...graph.initializers);
    initializers.push(...graph.fixed.map(fixedTensor));
    return graph.output;
  }
  if (layer instanceof Dropout) return input; // inference: the identity
  throw new Error(`saveOnnx: layer '${layer.name}' (${layer.constructor.name}) has no ONNX export; exportable layers are Conv2d, Dense, BatchNorm, ReLU, MaxPool2d, AvgPool2d, GlobalAvgPool, Flatten, Dropout, Standardize and imported ONNX graphs`);
}

/**
 * Encodes a built kdgpu model as an ONNX model (opset 13): the graph input [batch, ...input
 * shape] (float32, symbolic batch), one node per layer (Conv, Gemm, BatchNormalization, Relu,
 * MaxPool, AveragePool, GlobalAveragePool, Flatten, Sub/Div for Standardize; Dropout is
 * dropped, as in inference), the weights as initializers named like kdgpu's parameters, and
 * the logits as the output. Runs in inference mode (batch norm uses its running statistics).
 * A model imported with loadOnnx goes out with its own graph, opset and names inside (fixed
 * inputs become initializers), behind the Standardize it was given, if any.
 *
 * @example const bytes = await encodeOnnx(student); // then onnxruntime: InferenceSession.create(bytes)
 */
export async function encodeOnnx(model: Sequential, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'logits';
  const nodes: Node[] = [];
  const initializers: Initializer[] = [];
  const state: ExportState = { importedNodes: [], importedInitializers: [] };
  let current = inputName;
  for (const layer of model.layers) {
    const imported = state.importedNodes.length;
    current = await exportLayer(layer, current, nodes, initializers, state);
    // Imported nodes keep their place in the order: after the layers before them.
    if (state.importedNodes.length > imported) nodes.push(...(state.importedNodes.splice(imported) as unknown as Node[]));
  }
  if (current === inputName) throw new Error(`saveOnnx: model '${model.name}' has no layer that computes anything`);
  // The last node writes the graph output directly (an imported graph's output gets an Identity).
  const last = nodes[nodes.length - 1]!;
  if (current !== outputName) {
    if (last.output.length === 1 && last.output[0] === current && state.importedOpset === undefined) last.output = [outputName];
    else nodes.push({ op_type: 'Identity', name: 'output', input: [current], output: [outputName], attribute: [] });
  }
  const names = new Set<string>([inputName]);
  for (const name of [...nodes.flatMap((n) => n.output), ...initializers.map((t) => t.name), ...state.importedInitializers.map((t) => String(t.name))]) {
    if (names.has(name)) throw new Error(`saveOnnx: the name '${name}' is used twice (the graph input, an imported graph's value or a kdgpu layer's); pass another inputName or outputName, or rename the layer`);
    names.add(name);
  }
  const classes = model.outputShape;
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: ONNX_DTYPE.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  });
  const message = onnxTypes.ModelProto.fromObject({
    ir_version: 7,
    producer_name: 'kdgpu',
    producer_version: KDGPU_VERSION,
    opset_import: [{ domain: '', version: state.importedOpset ?? ONNX_EXPORT_OPSET }],
    graph: {
      name: model.name,
      node: nodes,
      initializer: [...initializers, ...state.importedInitializers],
      input: [valueInfo(inputName, ['batch', ...model.inputShape])],
      output: [valueInfo(outputName, ['batch', ...classes])],
    },
  });
  return onnxTypes.ModelProto.encode(message).finish();
}

/**
 * Writes `encodeOnnx(model)` to `path` atomically (Node).
 * @example await saveOnnx(student, 'student.onnx');
 */
export async function saveOnnx(model: Sequential, path: string, options: OnnxExportOptions = {}): Promise<void> {
  const { writeFileAtomic } = await import('../io/atomic-write.js');
  await writeFileAtomic(path, await encodeOnnx(model, options));
}
