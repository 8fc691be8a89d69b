// The ONNX project's own backend test cases (Apache-2.0; test/fixtures/onnx-conformance/LICENSE)
// that kdgpu's importer passes, copied by `node scripts/onnx-conformance.mjs --copy-passing`:
// each must match the expected outputs within the ONNX runner's tolerance. A case it does
// not support must say what is missing (unsupported window attributes: test/onnx/ops-window.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeOnnx, onnxTypes, runOnnxCase } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();
const root = join(import.meta.dirname, '..', 'fixtures', 'onnx-conformance');

function load(dir: string) {
  const sets = readdirSync(dir).filter((f) => f.startsWith('test_data_set_')).sort();
  return {
    model: new Uint8Array(readFileSync(join(dir, 'model.onnx'))),
    dataSets: sets.map((set) => {
      const files = readdirSync(join(dir, set)).sort();
      const read = (prefix: string) => files.filter((f) => f.startsWith(prefix)).map((f) => new Uint8Array(readFileSync(join(dir, set, f))));
      return { inputs: read('input_'), outputs: read('output_') };
    }),
  };
}

const passing = ['pytorch-converted', 'pytorch-operator', 'simple'].flatMap((suite) => readdirSync(join(root, suite)).map((name) => [suite, name] as const));
const lightNetworks = readdirSync(join(root, 'light')).filter((f) => f.endsWith('.onnx')).map((f) => f.replace(/\.onnx$/, ''));

/** A float tensor as TensorProto bytes (the light networks come without an input file). */
function tensorProto(name: string, dims: number[], floats: Float32Array): Uint8Array {
  const { TensorProto } = onnxTypes;
  return TensorProto.encode(TensorProto.fromObject({ name, dims, data_type: 1, raw_data: new Uint8Array(floats.buffer) })).finish();
}

describe('ONNX backend conformance cases', () => {
  it('has the cases the README table counts as passing', () => {
    expect(passing.length).toBe(99);
    expect(lightNetworks).toHaveLength(9);
  });

  for (const [suite, name] of passing) {
    it(`${suite}/${name} matches within atol 1e-7 + rtol 1e-3`, async () => {
      const { model, dataSets } = load(join(root, suite, name));
      const result = await runOnnxCase(gpu(), name, model, dataSets);
      expect(result, JSON.stringify(result)).toMatchObject({ result: 'pass' });
    });
  }

  // Whole networks at 224 × 224 (AlexNet, DenseNet-121, Inception v1/v2, ResNet-50,
  // ShuffleNet, SqueezeNet, VGG-19, ZFNet-512; all nine take ~30 s on lavapipe). Their weights
  // are constants, so the expected output does not depend on the input: zeros are fed.
  for (const name of lightNetworks) {
    it(`light network ${name} imports and matches its expected output`, async () => {
      const model = new Uint8Array(readFileSync(join(root, 'light', `${name}.onnx`)));
      const graph = decodeOnnx(model, name);
      const input = graph.inputs.find((i) => !graph.initializers.has(i.name) && !graph.nodes.some((n) => n.outputs.includes(i.name)))!;
      const dims = input.dims as number[];
      const zeros = tensorProto(input.name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)));
      const expected = new Uint8Array(readFileSync(join(root, 'light', `${name}_output_0.pb`)));
      const result = await runOnnxCase(gpu(), name, model, [{ inputs: [zeros], outputs: [expected] }]);
      expect(result, JSON.stringify(result)).toMatchObject({ result: 'pass' });
    }, 120_000);
  }

  it('passes test_PReLU_2d (kept under unsupported/ from before PRelu was imported)', async () => {
    const prelu = load(join(root, 'unsupported', 'test_PReLU_2d'));
    expect(await runOnnxCase(gpu(), 'test_PReLU_2d', prelu.model, prelu.dataSets)).toMatchObject({ result: 'pass' });
  });

  it('names what is missing for cases it does not support', async () => {
    const erf = new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'onnx', 'unsupported-op.onnx')));
    expect(await runOnnxCase(gpu(), 'unsupported-op', erf, [])).toMatchObject({ result: 'unsupported', missing: 'op Erf' });
  });

  it('runs test_Conv2d_groups (a 3×2 kernel), once refused for its non-square kernel', async () => {
    const groups = load(join(root, 'unsupported', 'test_Conv2d_groups'));
    expect(await runOnnxCase(gpu(), 'test_Conv2d_groups', groups.model, groups.dataSets)).toMatchObject({ result: 'pass' });
  });
});
