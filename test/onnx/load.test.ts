// ONNX import: a residual CNN trained and exported by PyTorch (test/fixtures/onnx/
// make_onnx_fixtures.py) must give onnxruntime's logits, work as a distillation teacher and
// pass input gradients to attacks, give feature hints by ONNX value name (Relus fused into
// their Conv or Gemm unless tapped); unsupported ops and damaged files fail at load.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Adam, attackDataset, compile, decodeOnnx, distill, evaluate, Graph, loadMnistFromDirectory, loadOnnx, seedCnn, subset } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();
const fixture = join(import.meta.dirname, '..', 'fixtures', 'onnx', 'mnist-torch-cnn.onnx');

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

  it('taps ONNX values by name: a Relu fused into its Conv or Gemm unless its input is tapped, same logits either way', async () => {
    const ctx = gpu();
    const teacher = await loadOnnx(ctx, fixture, { inputShape: [1, 28, 28] });
    const conv = '/stem/stem.0/Conv_output_0';
    const relu = '/stem/stem.2/Relu_output_0';
    const hidden = '/head/head.3/Relu_output_0';
    expect(teacher.shapeOf(hidden)).toHaveLength(1);
    expect(teacher.shapeOf(conv)).toEqual(teacher.shapeOf(relu));
    const images = subset((await loadMnistFromDirectory()).test, 0, 8).images;
    const run = async (taps: string[]) => {
      const graph = new Graph(ctx);
      const { output, features } = teacher.forward(graph.input('x', [8, 1, 28, 28]), { training: false, taps });
      const plan = compile(graph, { fetch: [output, ...Object.values(features)] });
      plan.run({ x: images });
      const read = async (t: typeof output) => (await plan.read(t)) as Float32Array;
      const out = { output: await read(output), features: Object.fromEntries(await Promise.all(Object.entries(features).map(async ([k, t]) => [k, await read(t)] as const))) };
      plan.dispose();
      graph.dispose();
      return out;
    };
    const fused = await run([]);
    const tapped = await run([conv, relu, hidden]);
    // Tapping the pre-activation unfuses the stem's Relu: the logits must not change.
    expect(Math.max(...tapped.output.map((v, i) => Math.abs(v - fused.output[i]!)))).toBeLessThan(1e-5);
    const pre = tapped.features[conv]!;
    expect(pre.some((v) => v < 0)).toBe(true);
    expect(Array.from(tapped.features[relu]!)).toEqual(Array.from(pre, (v) => Math.max(v, 0)));
    expect(tapped.features[hidden]!.every((v) => v >= 0)).toBe(true);
    expect(() => teacher.shapeOf('/nope')).toThrow(/has no layer named '\/nope' \(layers: onnx\); or a value inside it: '\/stem\/stem.0\/Conv_output_0'/);
    teacher.dispose();
  });

  it('an imported teacher gives feature hints by ONNX value name to distill', async () => {
    const ctx = gpu();
    const teacher = await loadOnnx(ctx, fixture, { inputShape: [1, 28, 28] });
    const mnist = await loadMnistFromDirectory();
    const student = seedCnn('student').build(ctx, [1, 28, 28], { seed: 3 });
    const hints = [{ student: 'relu2', teacher: '/head/head.3/Relu_output_0', weight: 0.5 }];
    const result = await distill(student, subset(mnist.train, 0, 256), { teacher, hints, epochs: 3, batchSize: 32, optimizer: new Adam({ learningRate: 2e-3 }) });
    const hint = result.history.map((h) => h.parts['hint:relu2']!);
    expect(hint.every(Number.isFinite)).toBe(true);
    expect(hint[2]!).toBeLessThan(hint[0]!); // the hint term is being learned
    expect(Object.keys(result.projections)).toEqual(['relu2']); // a learned dense projection: the widths differ
    student.dispose();
    teacher.dispose();
  });

  it('fails at load naming the node, op, opset and file for an unsupported op', async () => {
    const path = join(import.meta.dirname, '..', 'fixtures', 'onnx', 'unsupported-op.onnx');
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
