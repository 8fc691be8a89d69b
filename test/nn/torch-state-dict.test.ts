// PyTorch state dicts (safetensors.torch.save_file) loaded into kdgpu models: a CNN with batch
// norm saved by test/fixtures/torch/make_state_dicts.py in float32, float16 and bfloat16,
// whose logits must match PyTorch's (eval mode) on the same inputs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchNorm, Conv2d, Dense, decodeSafetensors, encodeSafetensors, Flatten, loadTorchStateDict, MaxPool2d, ReLU, sequential, Tensor } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'torch');
const read = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)));
const expected = decodeSafetensors(read('small-cnn-expected.safetensors')).tensors;

const smallCnn = () =>
  sequential([new Conv2d(4, { kernel: 3 }), new BatchNorm(), new ReLU(), new MaxPool2d(2), new Flatten(), new Dense(16), new BatchNorm(), new ReLU(), new Dense(10)], { name: 'small' }).build(gpu(), [1, 12, 12], { seed: 3 });

async function logits(model: ReturnType<typeof smallCnn>): Promise<Float32Array> {
  const inputs = expected.get('inputs')!;
  const x = Tensor.from(gpu(), inputs.data as Float32Array, inputs.shape);
  const y = model.call(x, { training: false });
  const out = await y.read();
  x.dispose();
  y.dispose();
  return out as Float32Array;
}

describe('loadTorchStateDict', () => {
  // Tolerance: float32 arithmetic in a different order than PyTorch's, on logits of size ~1.
  for (const precision of ['f32', 'f16', 'bf16']) {
    it(`gives PyTorch's logits for a ${precision} state dict (max |Δ| ≤ 1e-4)`, async () => {
      const model = smallCnn();
      const mapping = loadTorchStateDict(model, read(`small-cnn-${precision}.safetensors`), { source: `small-cnn-${precision}.safetensors` });
      expect(mapping).toEqual({ conv1: '0', bn1: '1', dense1: '5', bn2: '6', dense2: '8' });
      const ours = await logits(model);
      const theirs = expected.get(`logits_${precision}`)!.data as Float32Array;
      const maxError = Math.max(...ours.map((v, i) => Math.abs(v - theirs[i]!)));
      expect(maxError).toBeLessThan(1e-4);
      model.dispose();
    });
  }

  it('takes explicit module names, and says what does not match without writing anything', async () => {
    const f32 = decodeSafetensors(read('small-cnn-f32.safetensors')).tensors;
    // The same tensors under other module names, as a model with named children saves them:
    // 'features.conv' now sorts after the numbered modules, so only a mapping can place it.
    const rename = (name: string) => name.replace(/^0\./, 'features.conv.').replace(/^8\./, 'head.');
    const renamed = new Map([...f32].map(([name, t]) => [rename(name), { shape: t.shape, data: t.data as Float32Array }]));
    const bytes = encodeSafetensors(renamed as never);
    const model = smallCnn();
    const before = await logits(model);
    expect(() => loadTorchStateDict(model, bytes, { source: 'renamed' })).toThrow("renamed: layer 'conv1' (Conv2d) needs weight, bias but module '1' (bias [4], running_mean [4], running_var [4], weight [4]) also has running_mean, running_var");
    expect(await logits(model)).toEqual(before); // nothing written
    expect(() => loadTorchStateDict(model, bytes, { source: 'renamed', modules: { dense2: 'classifier' } })).toThrow("options.modules maps 'dense2' to 'classifier', which the file does not have");
    expect(loadTorchStateDict(model, bytes, { source: 'renamed', modules: { conv1: 'features.conv' } })).toEqual({ conv1: 'features.conv', bn1: '1', dense1: '5', bn2: '6', dense2: 'head' });
    const theirs = expected.get('logits_f32')!.data as Float32Array;
    expect(Math.max(...(await logits(model)).map((v, i) => Math.abs(v - theirs[i]!)))).toBeLessThan(1e-4);

    const withoutHead = new Map([...renamed].filter(([name]) => !name.startsWith('head.')));
    expect(() => loadTorchStateDict(model, encodeSafetensors(withoutHead as never), { source: 'no-head', modules: { conv1: 'features.conv' } })).toThrow(
      /no-head: the model has 4 layer\(s\) with parameters left to match \(bn1 \[bn\], dense1 \[dense\], bn2 \[bn\], dense2 \[dense\]\) but the file has 3 module\(s\) left/,
    );
    const wrongShape = new Map(renamed);
    wrongShape.set('head.weight', { shape: [10, 15], data: new Float32Array(150) });
    expect(() => loadTorchStateDict(model, encodeSafetensors(wrongShape as never), { source: 'bad', modules: { conv1: 'features.conv' } })).toThrow(
      "a Linear weight [out, in] = [10, 16] is needed for Dense [16, 10], the file has [10, 15]",
    );
    model.dispose();
  });
});
