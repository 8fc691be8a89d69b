// loadOnnx: an ONNX file or bytes to a built kdgpu model.
import type { GpuContext } from '../gpu/context.js';
import type { Shape } from '../graph/tensor.js';
import { sequential, type Sequential } from '../nn/sequential.js';
import { Standardize } from '../nn/standardize.js';
import { decodeOnnx, type OnnxTensor } from './decode.js';
import { OnnxGraphLayer } from './graph-layer.js';

export interface LoadOnnxOptions {
  /** Model name (default 'teacher'). */
  name?: string;
  /** Per-sample input shape, e.g. [1, 28, 28], when the file's input dims are symbolic. */
  inputShape?: Shape;
  /** Names the source in errors when bytes are given (default 'model.onnx'). */
  source?: string;
  /**
   * The normalisation the model was trained with: inputs in [0, 1] are standardised,
   * (x − mean) / std, before the graph (a 'standardize' layer), so kdgpu's data, students
   * and attacks stay in pixel units.
   */
  normalization?: { mean: number; std: number };
  /**
   * Values for the graph's other inputs, by name (float or integer data, ONNX dims): they
   * are fixed at load and act as constants (no gradient flows into them), so a model with
   * several inputs runs with the remaining one as its image input.
   * @example { fixedInputs: { shape: { dims: [2], ints: [3, 4] } } }
   */
  fixedInputs?: Readonly<Record<string, Pick<OnnxTensor, 'dims' | 'floats' | 'ints'>>>;
  /**
   * The largest Gemm weight kept as one GPU tensor, in bytes (default: the device's
   * maxStorageBufferBindingSize, 128 MiB by default); larger ones (VGG's fc6) are split
   * into column blocks whose products are joined.
   */
  maxWeightBytes?: number;
}

/**
 * Imports an ONNX model (a path in Node, or its bytes) as a built kdgpu model whose single
 * layer runs the ONNX graph with kdgpu's ops: usable as a frozen teacher in `distill` and
 * the robust objectives, as an attack target (input gradients flow through it) and with
 * `evaluate`. Unsupported ops or attributes fail here, naming the node, op, opset and file.
 *
 * @example
 * // Python: torch.onnx.export(model, torch.zeros(1, 1, 28, 28), 'teacher.onnx', dynamo=False)
 * const teacher = await kdgpu.loadOnnx(ctx, 'teacher.onnx');
 */
export async function loadOnnx(ctx: GpuContext, bytesOrPath: Uint8Array | string, options: LoadOnnxOptions = {}): Promise<Sequential> {
  let bytes: Uint8Array;
  let source = options.source ?? 'model.onnx';
  if (typeof bytesOrPath === 'string') {
    source = bytesOrPath;
    const { readFileBytes } = await import('../io/atomic-write.js');
    bytes = await readFileBytes(bytesOrPath);
  } else {
    bytes = bytesOrPath;
  }
  const layer = new OnnxGraphLayer(decodeOnnx(bytes, source), 'onnx', { fixedInputs: options.fixedInputs, maxWeightBytes: options.maxWeightBytes });
  const inputShape = options.inputShape ?? layer.declaredInputShape;
  if (!inputShape) throw new Error(`${source}: the input '${layer.inputName}' has symbolic dims; pass { inputShape: [channels, height, width] }`);
  const layers = options.normalization ? [new Standardize(options.normalization.mean, options.normalization.std), layer] : [layer];
  return sequential(layers, { name: options.name ?? 'teacher' }).build(ctx, inputShape);
}
