// ONNX import: a residual CNN trained and exported by PyTorch (test/fixtures/onnx/
// make_onnx_fixtures.py) must give onnxruntime's logits, work as a distillation teacher and
// pass input gradients to attacks; unsupported ops and damaged files fail at load.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Adam, attackDataset, decodeOnnx, distill, evaluate, loadMnistFromDirectory, loadOnnx, seedCnn, subset } from '../src/index.js';
import { useGpu } from './support/gpu.js';

const gpu = useGpu();
const fixture = join(import.meta.dirname, 'fixtures', 'onnx', 'mnist-torch-cnn.onnx');

describe('loadOnnx', () => {
  it("gives onnxruntime's logits (max |Δ| ≤ 1e-4) and predictions on 500 MNIST test images", async () => {
    const teacher = await loadOnnx(gpu(), fixture, { inputShape: [1, 28, 28] });
    const test = subset((await loadMnistFromDirectory()).test, 0, 500);
    const ours = await evaluate(teacher, test, { logits: true, batchSize: 250 });
    const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(fixture)));
    const theirs = (await session.run({ image: new ort.Tensor('float32', test.images, [500, 1, 28, 28]) })).logits!.data as Float32Array;
    const maxError = Math.max(...ours.logits!.map((v, i) => Math.abs(v - theirs[i]!)));
    expect(maxError).toBeLessThan(1e-4);
    expect(ours.accuracy).toBeGreaterThan(0.95); // PyTorch trained it for one epoch
    teacher.dispose();
  });

  it('standardises inputs for a teacher trained on normalised pixels: model(x) = onnx((x − mean) / std)', async () => {
    const [mean, std] = [0.1307, 0.3081];
    const teacher = await loadOnnx(gpu(), fixture, { inputShape: [1, 28, 28], normalization: { mean, std } });
    expect(teacher.layers.map((l) => l.kind)).toEqual(['standardize', 'onnx']);
    const test = subset((await loadMnistFromDirectory()).test, 0, 100);
    const ours = (await evaluate(teacher, test, { logits: true, batchSize: 100 })).logits!;
    const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(fixture)));
    const standardised = test.images.map((v) => (v - mean) / std);
    const theirs = (await session.run({ image: new ort.Tensor('float32', standardised, [100, 1, 28, 28]) })).logits!.data as Float32Array;
    expect(Math.max(...ours.map((v, i) => Math.abs(v - theirs[i]!)))).toBeLessThan(1e-3); // logits ~10×larger here
    teacher.dispose();
  });

  it('works as a frozen distillation teacher and as an attack target', async () => {
    const ctx = gpu();
    const teacher = await loadOnnx(ctx, fixture, { inputShape: [1, 28, 28] });
    const before = await Promise.all([...teacher.parameters().values()].map((t) => t.read()));
    const mnist = await loadMnistFromDirectory();
    const student = seedCnn('student').build(ctx, [1, 28, 28], { seed: 3 });
    const result = await distill(student, subset(mnist.train, 0, 256), { teacher, temperature: 4, hardWeight: 0.1, epochs: 1, batchSize: 32, optimizer: new Adam({ learningRate: 1e-3 }) });
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
    const after = await Promise.all([...teacher.parameters().values()].map((t) => t.read()));
    expect(after).toEqual(before); // the teacher is a constant
    // FGSM through the imported graph: input gradients flow, so accuracy drops.
    const images = subset(mnist.test, 0, 200);
    const clean = (await evaluate(teacher, images)).accuracy;
    const { accuracy } = await attackDataset(teacher, images, { kind: 'fgsm', epsilon: 0.2, adversarial: false });
    expect(accuracy).toBeLessThan(clean - 0.2);
    student.dispose();
    teacher.dispose();
  });

  it('fails at load naming the node, op, opset and file for an unsupported op', async () => {
    const path = join(import.meta.dirname, 'fixtures', 'onnx', 'unsupported-op.onnx');
    await expect(loadOnnx(gpu(), path, { inputShape: [4] })).rejects.toThrow(`${path}: cannot import 1 node(s):\n  node 'smooth': op Erf is not supported (opset 13); kdgpu imports`);
  });

  it('fails at load naming the file for a truncated or foreign file', async () => {
    const bytes = new Uint8Array(readFileSync(fixture));
    for (const cut of [10, 1000, bytes.length - 7]) {
      expect(() => decodeOnnx(bytes.subarray(0, cut), 'cut.onnx')).toThrow(/^cut\.onnx: /);
    }
    await expect(loadOnnx(gpu(), new TextEncoder().encode('{"not": "onnx"}'), { source: 'weights.json' })).rejects.toThrow(/^weights\.json: /);
    await expect(loadOnnx(gpu(), '/nonexistent/teacher.onnx')).rejects.toThrow('cannot read /nonexistent/teacher.onnx');
  });
});
