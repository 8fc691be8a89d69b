// Checks the importer against ONNX test data: a model plus input/expected-output tensors.
import type { GpuContext } from '../gpu/context.js';
import { Tensor } from '../graph/tensor.js';
import { decodeOnnx, decodeOnnxTensor } from './decode.js';
import { loadOnnx } from './load.js';
import { SUPPORTED_ONNX_OPS } from './ops.js';

/** One test data set: the protobuf bytes of input_0.pb and output_0.pb. */
export interface OnnxTestData {
  inputs: Uint8Array[];
  outputs: Uint8Array[];
}

export interface OnnxCaseResult {
  name: string;
  ops: string[];
  result: 'pass' | 'fail' | 'unsupported';
  /** Largest |kdgpu − expected| over every output value of every data set. */
  maxError: number | null;
  /** What kdgpu lacks for an unsupported case (op types, or the importer's reason). */
  missing: string | null;
}

/**
 * Runs an ONNX model on its test data through `loadOnnx` and compares every output value
 * with the expected one (the first input is the batch; further inputs are given to
 * `loadOnnx` as `fixedInputs`) within atol 1e-7 + rtol 1e-3·|expected| (the ONNX runner's
 * tolerance; equal infinities and NaN against NaN match, as in its assert_allclose). Unsupported ops are reported, not thrown.
 * @example const r = await runOnnxCase(ctx, 'test_Conv2d', modelBytes, [{ inputs: [input0], outputs: [output0] }]);
 */
export async function runOnnxCase(ctx: GpuContext, name: string, model: Uint8Array, dataSets: readonly OnnxTestData[]): Promise<OnnxCaseResult> {
  const graph = decodeOnnx(model, name);
  const ops = [...new Set(graph.nodes.map((n) => n.opType))];
  const row: OnnxCaseResult = { name, ops, result: 'fail', maxError: null, missing: null };
  const missing = ops.filter((op) => !SUPPORTED_ONNX_OPS.includes(op));
  if (missing.length > 0) return { ...row, result: 'unsupported', missing: `op ${missing.join(', ')}` };
  let imported: Awaited<ReturnType<typeof loadOnnx>> | undefined;
  try {
    let maxError = 0;
    let pass = true;
    // The first graph input is the batch; the others get this data set's values as fixedInputs.
    const graphInputs = graph.inputs.filter((i) => !graph.initializers.has(i.name));
    for (const set of dataSets) {
      if (set.outputs.length !== 1) return { ...row, result: 'unsupported', missing: `${set.outputs.length} outputs (kdgpu imports one)` };
      if (set.inputs.length !== graphInputs.length) return { ...row, result: 'fail', missing: `${set.inputs.length} input files for ${graphInputs.length} graph inputs` };
      const [input, ...others] = set.inputs.map((bytes, k) => decodeOnnxTensor(bytes, `${name}/input_${k}.pb`));
      const expected = decodeOnnxTensor(set.outputs[0]!, `${name}/output_0.pb`);
      // kdgpu tensors are f32: integer inputs (token ids) go in as floats when that is exact.
      if (input!.ints && input!.ints.every((v) => Math.abs(v) <= 2 ** 24)) input!.floats = Float32Array.from(input!.ints);
      if (!input!.floats || !expected.floats) return { ...row, result: 'unsupported', missing: 'integer input or output tensors' };
      const fixedInputs = Object.fromEntries(others.map((t, k) => [graphInputs[k + 1]!.name, t]));
      if (others.length > 0) {
        // Fixed inputs may differ between data sets: load the model again for each.
        imported?.dispose();
        imported = undefined;
      }
      imported ??= await loadOnnx(ctx, model, { source: name, inputShape: input!.dims.slice(1), fixedInputs });
      const x = Tensor.from(ctx, input!.floats, input!.dims);
      const y = imported.call(x, { training: false });
      const out = await y.read();
      x.dispose();
      y.dispose();
      if (out.length !== expected.floats.length) return { ...row, result: 'fail', missing: `${out.length} output values, expected ${expected.floats.length}` };
      for (let i = 0; i < out.length; i++) {
        // As numpy's assert_allclose (the ONNX runner's check): equal infinities and two NaNs match.
        if (out[i] === expected.floats[i] || (Number.isNaN(out[i]) && Number.isNaN(expected.floats[i]))) continue;
        const error = Math.abs(out[i]! - expected.floats[i]!);
        maxError = Math.max(maxError, error);
        if (!(error <= 1e-7 + 1e-3 * Math.abs(expected.floats[i]!))) pass = false;
      }
    }
    return { ...row, result: pass ? 'pass' : 'fail', maxError };
  } catch (error) {
    // The importer's reason for refusing, e.g. "node 'x' (Conv, opset 6) has group 2 (only 1)".
    const reason = (error as Error).message.split('\n').at(-1)!.trim().replace(/^node '[^']*' /, '');
    return { ...row, result: 'unsupported', missing: reason.slice(0, 160) };
  } finally {
    imported?.dispose();
  }
}
