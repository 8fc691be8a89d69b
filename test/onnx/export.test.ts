// ONNX export checked by an independent runtime: onnxruntime-node runs the exported file on
// real MNIST test images and must give kdgpu's logits within 1e-4 (float32 sums in another
// order; logits of size ~10, and up to ~57 for the imported PyTorch model).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { type AnyTensor, AvgPool2d, BatchNorm, Layer, scale, type Shape, Conv2d, decodeOnnx, Dense, Dropout, encodeOnnx, evaluate, loadOnnx, Flatten, GlobalAvgPool, hintonStudent, loadMnistFromDirectory, MaxPool2d, ReLU, saveOnnx, seedCnn, sequential, subset, teacherCnn, type Sequential } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();
const scratch = mkdtempSync(join(tmpdir(), 'kdgpu-onnx-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const IMAGES = 64;

async function compareWithOnnxRuntime(model: Sequential, bytes: Uint8Array): Promise<number> {
  const test = subset((await loadMnistFromDirectory()).test, 0, IMAGES);
  const ours = (await evaluate(model, test, { logits: true, batchSize: IMAGES })).logits!;
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ input: new ort.Tensor('float32', test.images, [IMAGES, ...model.inputShape]) });
  const theirs = result.logits!.data as Float32Array;
  expect(theirs.length).toBe(ours.length);
  return Math.max(...ours.map((v, i) => Math.abs(v - theirs[i]!)));
}

describe('ONNX export (checked with onnxruntime-node)', () => {
  const zoo: [string, () => Sequential][] = [
    ['seedCnn', () => seedCnn()],
    ['teacherCnn (with dropout)', () => teacherCnn()],
    ['hintonStudent (MLP)', () => hintonStudent()],
    [
      'a CNN with padding, stride, batch norm, average and global pooling, fused activations',
      () => sequential([new Conv2d(6, { kernel: 3, padding: 1, stride: 2, activation: 'relu' }), new BatchNorm(), new AvgPool2d(2), new Conv2d(8, { kernel: 3, padding: 1 }), new ReLU(), new GlobalAvgPool(), new Dense(12, { activation: 'relu' }), new Dropout(0.2), new Dense(10)], { name: 'mixed' }),
    ],
  ];
  for (const [label, make] of zoo) {
    it(`${label}: onnxruntime gives kdgpu's logits within 1e-4`, async () => {
      const model = make().build(gpu(), [1, 28, 28], { seed: 7 });
      // Non-trivial batch-norm statistics, so the export of running stats is checked.
      for (const [name, tensor] of model.state()) {
        if (name.endsWith('running_mean')) tensor.write(Float32Array.from({ length: tensor.shape[0]! }, (_, i) => 0.1 * Math.sin(i + 1)));
        if (name.endsWith('running_var')) tensor.write(Float32Array.from({ length: tensor.shape[0]! }, (_, i) => 0.5 + 0.25 * Math.cos(i)));
      }
      expect(await compareWithOnnxRuntime(model, await encodeOnnx(model))).toBeLessThan(1e-4);
      model.dispose();
    });
  }

  it('an imported model (behind its Standardize) exports again: onnxruntime gives kdgpu\'s logits within 1e-4', async () => {
    // The PyTorch-trained residual CNN of test/fixtures/onnx (input 'image', BN folded),
    // imported with the normalisation it was trained with, then exported and run by onnxruntime.
    const source = join(import.meta.dirname, '..', 'fixtures', 'onnx', 'mnist-torch-cnn.onnx');
    const teacher = await loadOnnx(gpu(), source, { inputShape: [1, 28, 28], normalization: { mean: 0.1307, std: 0.3081 } });
    const bytes = await encodeOnnx(teacher);
    const graph = decodeOnnx(bytes, 'exported.onnx');
    expect(graph.opset).toBe(decodeOnnx(new Uint8Array(readFileSync(source)), 'source').opset); // the imported graph keeps its opset
    expect(graph.nodes.slice(0, 3).map((n) => n.opType)).toEqual(['Sub', 'Div', 'Identity']);
    const test = subset((await loadMnistFromDirectory()).test, 0, IMAGES);
    const ours = (await evaluate(teacher, test, { logits: true, batchSize: IMAGES })).logits!;
    const session = await ort.InferenceSession.create(bytes);
    const theirs = (await session.run({ input: new ort.Tensor('float32', test.images, [IMAGES, 1, 28, 28]) })).logits!.data as Float32Array;
    expect(Math.max(...ours.map((v, i) => Math.abs(v - theirs[i]!)))).toBeLessThan(1e-4); // measured 1.3e-5 on logits up to 57
    // Imported again, the exported file gives the same logits as the first import.
    const again = await loadOnnx(gpu(), bytes, { inputShape: [1, 28, 28] });
    const twice = (await evaluate(again, test, { logits: true, batchSize: IMAGES })).logits!;
    expect(Math.max(...ours.map((v, i) => Math.abs(v - twice[i]!)))).toBeLessThan(1e-4); // Sub/Div ops round unlike Standardize's x/std + shift
    teacher.dispose();
    again.dispose();
  });

  it('refuses an export whose names would clash, naming the name', async () => {
    const source = join(import.meta.dirname, '..', 'fixtures', 'onnx', 'mnist-torch-cnn.onnx');
    const teacher = await loadOnnx(gpu(), source, { inputShape: [1, 28, 28], normalization: { mean: 0.1307, std: 0.3081 } });
    await expect(encodeOnnx(teacher, { inputName: 'image' })).rejects.toThrow("saveOnnx: the name 'image' is used twice");
    teacher.dispose();
  });

  it('saveOnnx writes a file onnxruntime loads, with opset 13, a symbolic batch and named weights', async () => {
    const model = seedCnn().build(gpu(), [1, 28, 28], { seed: 1 });
    const path = join(scratch, 'student.onnx');
    await saveOnnx(model, path);
    const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(path)));
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['logits']);
    const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(3 * 784).fill(0.5), [3, 1, 28, 28]) });
    expect(out.logits!.dims).toEqual([3, 10]);
    model.dispose();
  });

  it('refuses a layer it cannot export, naming it, and a model that computes nothing', async () => {
    class Doubler extends Layer {
      readonly kind = 'double';
      outputShape(input: Shape): Shape {
        return input;
      }
      forward<T extends AnyTensor>(x: T): T {
        return scale(x, 2);
      }
    }
    const odd = sequential([new Flatten(), new Doubler(), new Dense(4)], { name: 'odd' }).build(gpu(), [1, 2, 2], { seed: 1 });
    await expect(encodeOnnx(odd)).rejects.toThrow("saveOnnx: layer 'double1' (Doubler) has no ONNX export; exportable layers are Conv2d, Dense");
    odd.dispose();
    await expect(encodeOnnx(sequential([new Dropout(0.1)], { name: 'nothing' }).build(gpu(), [4], { seed: 1 }))).rejects.toThrow("saveOnnx: model 'nothing' has no layer that computes anything");
  });
});
