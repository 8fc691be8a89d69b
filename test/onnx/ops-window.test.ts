// ONNX window ops through the importer (src/onnx/ops-window.ts): one small model per case,
// made by test/fixtures/onnx-window/make_window_fixtures.py with onnxruntime's output (ONNX's
// reference evaluator for auto_pad SAME with dilations, which onnxruntime refuses; LRN of
// even size has no trustworthy oracle here: test/ops/lrn.test.ts checks it). Covers Conv 1-D and 2-D (non-square kernels, per-axis strides,
// dilations, asymmetric pads, auto_pad SAME_UPPER/SAME_LOWER/VALID, groups, no bias),
// MaxPool (1-D, dilations, ceil mode, SAME_UPPER), AveragePool (count_include_pad 0 and 1,
// ceil mode, SAME_LOWER, 1-D), Pad reflect/edge (2-D and 1-D), LRN, BatchNormalization on
// [N, C, L] and [N, C, D, H, W], ConvTranspose (1-D and 2-D, strides, pads, output_padding,
// output_shape, auto_pad SAME_UPPER, groups, dilations), and a Gemm whose weight is a Reshape
// of a constant (folded at load, as Inception v1's classifier needs). Tolerance: |ours − expected| ≤ 1e-5 + 1e-4·|expected|
// (f32 sums of ≤ 50 products, pow in LRN). Then input gradients through a small imported
// teacher chaining them, by finite differences, and the load-time refusals.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeOnnxTensor, loadOnnx, Random, Tensor } from '../../src/index.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose } from '../support/reference.js';

const gpu = useGpu();
const root = join(import.meta.dirname, '..', 'fixtures', 'onnx-window');
const cases = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

function load(name: string) {
  const read = (file: string) => new Uint8Array(readFileSync(join(root, name, file)));
  return { model: read('model.onnx'), input: decodeOnnxTensor(read('input_0.pb'), 'input_0.pb'), expected: decodeOnnxTensor(read('output_0.pb'), 'output_0.pb') };
}

describe('ONNX window ops match onnxruntime', () => {
  it('has every fixture case', () => {
    expect(cases.length).toBe(27);
  });

  for (const name of cases) {
    it(name, async () => {
      const ctx = gpu();
      const { model, input, expected } = load(name);
      const imported = await loadOnnx(ctx, model, { source: name, inputShape: input.dims.slice(1) });
      const x = Tensor.from(ctx, input.floats!, input.dims);
      const y = imported.call(x, { training: false });
      expect(y.shape).toEqual(expected.dims);
      expectClose(await y.read(), Float64Array.from(expected.floats!), { atol: 1e-5, rtol: 1e-4 }, name);
      x.dispose();
      y.dispose();
      imported.dispose();
    });
  }
});

describe('gradients through an imported teacher with window ops', () => {
  it('reflect Pad → 1×7 Conv → LRN → ceil-mode MaxPool → dilated Conv → AveragePool (count_include_pad 0) → Gemm: input gradient by finite differences', async () => {
    const ctx = gpu();
    const { model } = load('window_teacher');
    const teacher = await loadOnnx(ctx, model, { source: 'window_teacher', inputShape: [2, 9, 9] });
    // Spread-out inputs keep max-pool windows free of near-ties, so finite differences hold.
    const random = new Random(21);
    const data = random.shuffle(Float32Array.from({ length: 2 * 2 * 9 * 9 }, (_, i) => (i - 162) * 0.006));
    await checkGradients(ctx, ([x]) => teacher.call(x!, { training: false }), [{ name: 'x', shape: [2, 2, 9, 9], data }], { samples: 16, eps: 1e-3 });
    teacher.dispose();
  });

  it('1-D Conv, MaxPool and AveragePool, reflect Pad, BatchNormalization, LRN, ConvTranspose: input gradients by finite differences', async () => {
    const ctx = gpu();
    const names = ['conv_1d_same_upper_groups', 'maxpool_1d', 'avgpool_1d_ceil', 'pad_reflect_1d', 'batchnorm_1d', 'lrn', 'convtranspose_1d_groups_dilated', 'convtranspose_strided', 'pad_edge'];
    for (const name of names) {
      const { model, input } = load(name);
      const imported = await loadOnnx(ctx, model, { source: name, inputShape: input.dims.slice(1) });
      const count = input.dims.reduce((a, b) => a * b, 1);
      const data = new Random(count).shuffle(Float32Array.from({ length: count }, (_, i) => (i - count / 2) * (2 / count)));
      await checkGradients(ctx, ([x]) => imported.call(x!, { training: false }), [{ name: 'x', shape: input.dims, data }], { samples: 10, eps: 1e-3 });
      imported.dispose();
    }
  });

});

describe('Gemm weights over the binding limit are split into column blocks', () => {
  // window_teacher ends in a Gemm with a [3, 125] weight (transB): 1500 bytes as one tensor.
  for (const [limit, widths] of [[1000, [2, 1]], [500, [1, 1, 1]]] as const) {
    it(`maxWeightBytes ${limit}: blocks of ${widths.join(' + ')} columns give onnxruntime's output and the input gradient`, async () => {
      const ctx = gpu();
      const { model, input, expected } = load('window_teacher');
      const teacher = await loadOnnx(ctx, model, { source: 'window_teacher', inputShape: [2, 9, 9], maxWeightBytes: limit });
      const blocks = [...teacher.parameters()].filter(([key]) => key.includes(':columns'));
      expect(blocks.map(([, t]) => t.shape)).toEqual(widths.map((w) => [125, w]));
      const x = Tensor.from(ctx, input.floats!, input.dims);
      expectClose(await teacher.call(x, { training: false }).read(), Float64Array.from(expected.floats!), { atol: 1e-5, rtol: 1e-4 }, 'y');
      const data = new Random(4).shuffle(Float32Array.from({ length: 324 }, (_, i) => (i - 162) * 0.006));
      await checkGradients(ctx, ([t]) => teacher.call(t!, { training: false }), [{ name: 'x', shape: [2, 2, 9, 9], data }], { samples: 8, eps: 1e-3 });
      teacher.dispose();
    });
  }

  it('fails naming the node when one column is over the limit', async () => {
    const { model } = load('window_teacher');
    await expect(loadOnnx(gpu(), model, { source: 'window_teacher', inputShape: [2, 9, 9], maxWeightBytes: 400 })).rejects.toThrow(
      "node 'fc' (Gemm): one column of its [125, 3] weight needs 500 bytes, over the 400-byte binding limit",
    );
  });
});

describe('ONNX window ops: shapes that do not fit fail at build naming the node and shapes', () => {
  const attempt = (name: string, inputShape: number[]) => loadOnnx(gpu(), load(name).model, { source: name, inputShape });
  it('Conv: channels, rank; pools: a window larger than the map; Pad reflect: pads as long as the axis', async () => {
    await expect(attempt('conv_1d', [5, 17])).rejects.toThrow("conv_1d: node 'conv' (Conv, opset 13) on input [5, 17]: 5 input channels, but the weight [4,3,5] with group 1 expects 3");
    await expect(attempt('conv_1d', [3, 4, 17])).rejects.toThrow('a 1-D weight [4,3,5] on samples of shape [3,4,17]');
    await expect(attempt('conv_asymmetric_pads_dilations', [3, 9, 1])).rejects.toThrow('a 2×3 window (dilations [3,2]) does not fit [3,9,1] with pads [2,0,1,3]');
    await expect(attempt('maxpool_ceil_googlenet', [3, 2, 13])).rejects.toThrow("maxpool_ceil_googlenet: node 'pool' (MaxPool, opset 13) on input [3, 2, 13]: a 3×3 window (dilations [1,1]) does not fit [3,2,13] with pads [0,0,0,0]");
    await expect(attempt('pad_reflect', [3, 4, 6])).rejects.toThrow('reflect pads [0,0,1,2,0,0,4,1] need each padded axis longer than its pads');
    await expect(attempt('batchnorm_1d', [5, 9])).rejects.toThrow('5 channels but statistics for 4');
    await expect(attempt('convtranspose_strided', [3, 5, 4])).rejects.toThrow('3 input channels, but the weight [4,3,3,3] expects 4');
  });
});

describe('ONNX window ops refused at load', () => {
  it('names each node, its op and opset, and what it has', async () => {
    const path = join(root, 'unsupported.onnx');
    const error = await loadOnnx(gpu(), path, { inputShape: [2, 8, 8] }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(error).toContain(`${path}: cannot import 5 node(s):`);
    expect(error).toContain("node 'pool_indices' (MaxPool, opset 19) has an Indices output (kdgpu computes only the pooled values)");
    expect(error).toContain("node 'pad_wrap' (Pad, opset 19) has mode 'wrap' (kdgpu pads in modes constant, reflect and edge)");
    expect(error).toContain("node 'conv_3d' (Conv, opset 19) has a weight that is not a constant 3-D or 4-D float tensor (kdgpu runs 1-D and 2-D convolutions)");
    expect(error).toContain("node 'avg_dilated' (AveragePool, opset 19) has dilations [2,2] (average pooling only without dilation)");
    expect(error).toContain("node 'pool_wide_pads' (MaxPool, opset 19) has pads [2,0,0,0] as wide as the window [2,2]");
  });
});
