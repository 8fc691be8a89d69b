// The demo page's FGSM (examples/browser/fgsm.js, plain JavaScript that takes the library as
// an argument) run in Node against src/: x′ must be clip(x + ε·sign(∇ₓ CE), 0, 1) with the
// gradient w.r.t. the raw pixels checked by central finite differences of the CE loss (float64
// on logits read back), for the page's student MLP and teacher CNN; ε = 0 changes nothing;
// 130 images cover a padded last batch.
import { describe, expect, it } from 'vitest';
import * as kdgpu from '../../src/index.js';
// @ts-expect-error: plain JavaScript shared with the browser page, no type declarations.
import { fgsm } from '../../examples/browser/fgsm.js';
import { useGpu } from '../support/gpu.js';

const PIXELS = 784;
const EPSILON = 0.1;
const NORMALIZATION = kdgpu.MNIST_NORMALIZATION;

/** Raw images in [0, 1], a third of the pixels exactly 0 and a tenth exactly 1 (so clipping shows). */
function rawImages(count: number, seed: number): kdgpu.Dataset {
  const random = new kdgpu.Random(seed);
  const images = new Float32Array(count * PIXELS);
  for (let i = 0; i < images.length; i++) {
    const u = random.uniform();
    images[i] = u < 1 / 3 ? 0 : u > 0.9 ? 1 : random.uniform();
  }
  const labels = Uint32Array.from({ length: count }, () => Math.floor(random.uniform() * 10));
  return { images, labels, count, shape: [1, 28, 28] };
}

function crossEntropy(logits: Float32Array, row: number, label: number): number {
  const z = Array.from(logits.subarray(row * 10, row * 10 + 10));
  const max = Math.max(...z);
  return Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) + max - z[label]!;
}

/** d CE / d pixel for image 0 by central differences of step h, all pixels in one evaluation. */
async function finiteDifferenceGradient(model: kdgpu.Sequential, raw: kdgpu.Dataset, h: number): Promise<Float64Array> {
  const images = new Float32Array(2 * PIXELS * PIXELS);
  for (let p = 0; p < PIXELS; p++) {
    for (const [k, sign] of [[0, 1], [1, -1]] as const) {
      const copy = images.subarray((2 * p + k) * PIXELS, (2 * p + k + 1) * PIXELS);
      copy.set(raw.images.subarray(0, PIXELS));
      copy[p]! += sign * h;
    }
  }
  const perturbed = { images, labels: new Uint32Array(2 * PIXELS).fill(raw.labels[0]!), count: 2 * PIXELS, shape: raw.shape };
  const { logits } = await kdgpu.evaluate(model, kdgpu.normalize(perturbed, NORMALIZATION), { logits: true, batchSize: 392 });
  return Float64Array.from({ length: PIXELS }, (_, p) => (crossEntropy(logits!, 2 * p, raw.labels[0]!) - crossEntropy(logits!, 2 * p + 1, raw.labels[0]!)) / (2 * h));
}

const MODELS = [
  { name: 'student MLP', make: () => kdgpu.sequential([new kdgpu.Flatten(), new kdgpu.Dense(32), new kdgpu.ReLU(), new kdgpu.Dense(10)]) },
  { name: 'teacher CNN', make: () => kdgpu.seedCnn('teacher') },
];

describe('the demo page FGSM (examples/browser/fgsm.js)', () => {
  const gpu = useGpu();

  it.each(MODELS)('moves each pixel of the $name by ε along the sign of the input gradient, within [0, 1]', async ({ make }) => {
    const model = make().build(gpu(), [1, 28, 28], { seed: 3 });
    try {
      const raw = rawImages(130, 11);
      const adversarial: kdgpu.Dataset = await fgsm(kdgpu, model, raw, EPSILON, NORMALIZATION);
      expect(adversarial.count).toBe(130);
      expect(Array.from(adversarial.labels)).toEqual(Array.from(raw.labels));
      for (let i = 0; i < raw.images.length; i++) {
        const [x, moved] = [raw.images[i]!, adversarial.images[i]!];
        if (!(moved >= 0 && moved <= 1 && Math.abs(moved - x) <= EPSILON * (1 + 1e-6))) throw new Error(`pixel ${i}: ${x} became ${moved}`);
      }
      // Unclipped pixels moved by exactly ±ε (or not at all where the gradient is 0); most must move.
      let moved = 0;
      for (let i = 0; i < raw.images.length; i++) if (adversarial.images[i] !== raw.images[i]) moved++;
      expect(moved / raw.images.length).toBeGreaterThan(0.5);

      // h = 1e-3 pixel: f32 logits (|error| ~ 1e-6) give gradient errors ~ 1e-3 at most; pixels
      // whose gradient is below 2% of the largest are skipped, where that error could flip a sign.
      const gradient = await finiteDifferenceGradient(model, raw, 1e-3);
      const largest = Math.max(...gradient.map(Math.abs));
      let checked = 0;
      for (let p = 0; p < PIXELS; p++) {
        if (Math.abs(gradient[p]!) < 0.02 * largest) continue;
        const expected = Math.fround(Math.min(1, Math.max(0, raw.images[p]! + EPSILON * Math.sign(gradient[p]!))));
        expect(adversarial.images[p], `pixel ${p}: x = ${raw.images[p]}, finite-difference gradient ${gradient[p]}`).toBe(expected);
        checked++;
      }
      expect(checked).toBeGreaterThan(PIXELS / 2);

      const unchanged: kdgpu.Dataset = await fgsm(kdgpu, model, raw, 0, NORMALIZATION);
      expect(unchanged.images).toEqual(raw.images);
    } finally {
      model.dispose();
    }
  });
});
