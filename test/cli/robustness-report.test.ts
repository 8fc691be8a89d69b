// The robustness report (src/cli/robustness.ts, robustness-report.ts, robustness-charts.ts,
// png.ts): the PNG encoder decoded back with node:zlib (pixels exact: both sides round
// v·255); runRobustness on two small MLPs trained briefly on real MNIST (finite numbers,
// every corruption, mCE = mean of the 15 MNIST-C errors, calibration fitted on held-out
// data, accuracies non-increasing in ε and PGD ≤ FGSM unless flagged, within the sanity
// checks' sampling tolerance); the HTML is self-contained and holds every example image;
// saved models load back bit for bit with their roles and training.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, Dense, Flatten, loadMnistFromDirectory, ReLU, seedCnn, sequential, subset, teacherCnn, train } from '../../src/index.js';
import { encodeGreyPng, greyPngDataUri } from '../../src/cli/png.js';
import { loadModels, ROBUSTNESS_MODEL_NAMES, saveModels } from '../../src/cli/robustness-models.js';
import { robustnessReportHtml, robustnessTable, type RobustnessReport } from '../../src/cli/robustness-report.js';
import { CORRUPTION_SETTINGS, runRobustness, type RobustnessResults, throttledProgress } from '../../src/cli/robustness.js';
import { noiseTolerance } from '../../src/robust/attack-sanity.js';
import { MNIST_C_CORRUPTIONS } from '../../src/robust/corruptions.js';
import { useGpu } from '../support/gpu.js';

/** Decodes a PNG written by encodeGreyPng: checks signature, chunk CRCs and header; returns the pixels. */
function decodeGreyPng(bytes: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: { type: string; data: Uint8Array }[] = [];
  for (let offset = 8; offset < bytes.length; ) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    expect(view.getUint32(offset + 8 + length), `CRC of ${type}`).toBe(crc32(bytes.subarray(offset + 4, offset + 8 + length)));
    chunks.push({ type, data });
    offset += 12 + length;
  }
  expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  const header = new DataView(chunks[0]!.data.buffer, chunks[0]!.data.byteOffset, 13);
  const [width, height] = [header.getUint32(0), header.getUint32(4)];
  expect([...chunks[0]!.data.subarray(8)]).toEqual([8, 0, 0, 0, 0]); // 8-bit greyscale, no interlace
  const raw = new Uint8Array(inflateSync(chunks[1]!.data));
  expect(raw.length).toBe(height * (width + 1));
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width + 1)], 'filter type of a row').toBe(0);
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, pixels };
}

describe('PNG encoder', () => {
  it('writes a valid greyscale PNG whose pixels decode back exactly', async () => {
    const image = Float32Array.from({ length: 28 * 28 }, (_, i) => ((i * 37) % 101) / 100);
    const { width, height, pixels } = decodeGreyPng(await encodeGreyPng(image, 28, 28));
    expect([width, height]).toEqual([28, 28]);
    expect([...pixels]).toEqual([...image].map((v) => Math.round(v * 255)));
  });

  it('clamps to [0, 1], maps NaN to black, keeps non-square shapes, and makes data URIs', async () => {
    const { width, height, pixels } = decodeGreyPng(await encodeGreyPng([-1, 0.5, 2, NaN, 1, 0], 3, 2));
    expect([width, height, ...pixels]).toEqual([3, 2, 0, 128, 255, 0, 255, 0]);
    const uri = await greyPngDataUri([0.25, 0.75], 2, 1);
    expect(uri.startsWith('data:image/png;base64,')).toBe(true);
    expect([...decodeGreyPng(new Uint8Array(Buffer.from(uri.split(',')[1]!, 'base64'))).pixels]).toEqual([64, 191]);
    await expect(encodeGreyPng([0, 1], 3, 1)).rejects.toThrow('2 pixels do not make a 3 × 1 image');
  });
});

describe('runRobustness and the report', () => {
  const gpu = useGpu();
  let results: RobustnessResults;
  const ATTACKED = 40;
  const EXAMPLES = 4;

  beforeAll(async () => {
    const mnist = await loadMnistFromDirectory();
    const data = subset(mnist.train, 0, 512);
    const mlp = (hidden: number, name: string) => sequential([new Flatten(), new Dense(hidden), new ReLU(), new Dense(10)], { name }).build(gpu(), [1, 28, 28], { seed: 3 });
    const models = [mlp(64, 'wide'), mlp(16, 'narrow')];
    for (const model of models) await train(model, data, { epochs: 2, batchSize: 32, seed: 1, optimizer: new Adam({ learningRate: 3e-3 }) });
    results = await runRobustness(
      models.map((model) => ({ model, role: `mlp ${model.name}`, training: 'cross-entropy, 2 epochs' })),
      { test: subset(mnist.test, 0, 100), heldOut: subset(mnist.train, 59_000, 100) },
      { attackImages: ATTACKED, pgdSteps: 3, exampleCount: EXAMPLES, seed: 1 },
    );
  }, 120_000);

  it('measures every model: finite numbers, all corruptions, mCE over the 15 MNIST-C ones, calibration', () => {
    expect(results.data).toEqual({ test: 100, heldOut: 100, attack: ATTACKED });
    expect(results.settings.attacks.map((a) => a.name)).toEqual(['fgsm-ce', 'pgd-ce', 'pgd-margin']);
    expect(results.settings.epsilons).toEqual([0.05, 0.1, 0.2, 0.3]);
    for (const m of results.models) {
      expect(m.attacks.epsilons).toEqual([0.05, 0.1, 0.2, 0.3, 1]);
      expect(m.clean.accuracy).toBeGreaterThan(0.6);
      expect(m.clean.errors).toBe(Math.round((1 - m.clean.accuracy) * 100));
      expect(m.corruptions.map((c) => [c.name, c.severity])).toEqual(CORRUPTION_SETTINGS.map((c) => [c.name, c.severity]));
      expect(m.corruptions.filter((c) => c.mnistC).map((c) => c.name)).toEqual([...MNIST_C_CORRUPTIONS]);
      const mnistC = m.corruptions.filter((c) => c.mnistC).map((c) => c.error);
      expect(m.meanCorruptionError).toBeCloseTo(mnistC.reduce((a, b) => a + b) / 15, 12);
      const { temperature, before, after } = m.calibration;
      expect(before.bins).toHaveLength(15);
      expect(before.accuracy).toBeCloseTo(m.clean.accuracy, 12); // T = 1 on the test logits
      expect(temperature).toBeGreaterThan(0);
      for (const metrics of [before, after]) for (const v of [metrics.ece, metrics.nll, metrics.brier]) expect(Number.isFinite(v)).toBe(true);
    }
    const numbers: unknown[] = [];
    JSON.stringify(results, (_key, value: unknown) => (typeof value === 'number' && numbers.push(value), value));
    expect(numbers.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('accuracy does not rise with ε and PGD is not weaker than FGSM, unless a sanity flag says so', () => {
    for (const m of results.models) {
      const { epsilons, curves, flags, count, clean } = m.attacks;
      const flagged = (check: string, attack: string, epsilon: number) => flags.some((f) => f.check === check && f.attack === attack && f.epsilon === epsilon);
      for (const c of curves) {
        expect(c.accuracy.every((a) => a <= clean)).toBe(true);
        for (let k = 1; k < epsilons.length; k++) {
          const [before, after] = [c.accuracy[k - 1]!, c.accuracy[k]!];
          if (after > before + noiseTolerance(count, (before + after) / 2)) expect(flagged('accuracy-rises-with-epsilon', c.name, epsilons[k]!)).toBe(true);
        }
      }
      const fgsm = curves.find((c) => c.kind === 'fgsm')!;
      for (const pgd of curves.filter((c) => c.kind === 'pgd')) {
        epsilons.forEach((epsilon, k) => {
          const [a, b] = [pgd.accuracy[k]!, fgsm.accuracy[k]!];
          if (a > b + noiseTolerance(count, (a + b) / 2)) expect(flagged('pgd-weaker-than-fgsm', pgd.name, epsilon)).toBe(true);
        });
        expect(pgd.accuracy.at(-1)).toBeLessThanOrEqual(0.05 + (flagged('unbounded-attack-fails', pgd.name, 1) ? 1 : 0));
      }
    }
  });

  it('writes a self-contained HTML page with every example image, and a text summary', async () => {
    const report: RobustnessReport = {
      kdgpu: '0.1.0',
      date: '2026-01-01T00:00:00.000Z',
      device: 'test <device>',
      command: 'robustness',
      config: { quick: true },
      teacherAdversariallyTrained: false,
      ...results,
      data: { train: 512, ...results.data },
      totalSeconds: 1,
    };
    const html = robustnessReportHtml(report);
    expect(html).not.toMatch(/<script|<link|<iframe|\b(src|href)="(https?:)?\/\/|url\(/i);
    expect(html).toContain('test &lt;device&gt;');
    const images = [...html.matchAll(/<img src="(data:image\/png;base64,[A-Za-z0-9+/=]+)"/g)].map((m) => m[1]!);
    // Originals, then per model a perturbation and an adversarial image each; the clean digit and one per corruption.
    expect(images).toHaveLength(EXAMPLES + 2 * EXAMPLES * results.models.length + 1 + CORRUPTION_SETTINGS.length);
    for (const uri of images.slice(0, 3)) expect(decodeGreyPng(new Uint8Array(Buffer.from(uri.split(',')[1]!, 'base64'))).width).toBe(28);
    const flagCount = results.models.reduce((n, m) => n + m.attacks.flags.length, 0);
    expect(html).toContain(flagCount === 0 ? 'class="banner ok"' : 'class="banner bad"');
    for (const m of results.models) expect(html).toContain(m.name);
    expect((html.match(/<svg/g) ?? []).length).toBe(3 + 1 + 2 * results.models.length); // attacks, corruptions, reliability before/after
    const table = robustnessTable(report).split('\n');
    expect(table[0]).toMatch(/^model\s+clean\s+ε 0.05\s+ε 0.1\s+ε 0.2\s+ε 0.3\s+mCE\s+ECE\s+ECE \(T\)\s+flags$/);
    expect(table.slice(2, 4).map((line) => line.split(/\s+/)[0])).toEqual(['wide', 'narrow']);
  });
});

describe('saved models', () => {
  const gpu = useGpu();

  it('load back bit for bit, with role, training and whether they were adversarially trained', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdgpu-models-'));
    const build = (name: string, seed: number) => (name === 'teacher' ? teacherCnn(name) : seedCnn(name)).build(gpu(), [1, 28, 28], { seed });
    const saved = ROBUSTNESS_MODEL_NAMES.map((name, i) => ({ model: build(name, 10 + i), role: `role ${i}`, training: `training ${i}`, adversariallyTrained: i === 3 }));
    try {
      await saveModels(dir, saved);
      const loaded = await loadModels(gpu(), dir);
      expect(loaded.map((m) => [m.model.name, m.role, m.adversariallyTrained])).toEqual(saved.map((m) => [m.model.name, m.role, m.adversariallyTrained]));
      for (const [i, m] of loaded.entries()) {
        expect(m.training).toBe(`training ${i} (loaded from ${dir}/${m.model.name}.safetensors)`);
        const expected = saved[i]!.model.state();
        for (const [name, tensor] of m.model.state()) expect(await tensor.read(), name).toEqual(await expected.get(name)!.read());
        m.model.dispose();
      }
      await expect(loadModels(gpu(), join(dir, 'missing'))).rejects.toThrow('cannot read');
    } finally {
      for (const m of saved) m.model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('throttledProgress', () => {
  it('prints nothing for quick stages, the end of a long stage, and at most a line a minute within one', () => {
    const lines: string[] = [];
    const progress = throttledProgress('m', (line) => lines.push(line));
    const at = (stage: string, done: number, seconds: number) => progress({ attack: 'autoattack', stage, epsilon: 0.3, done, total: 300, seconds });
    at('apgd-ce', 100, 1); // first batch: within a minute of the start, quiet
    at('apgd-ce', 300, 5); // a quick stage's end: quiet
    expect(lines).toEqual([]);
    at('square', 300, 61); // a long stage's end
    expect(lines).toEqual(['    m autoattack ε 0.3: square 300/300 images (61 s)']);
    const everyBatch = throttledProgress('m', (line) => lines.push(line), 0);
    everyBatch({ attack: 'pgd-ce', stage: 'pgd', epsilon: 0.1, done: 100, total: 300, seconds: 2 });
    expect(lines.at(-1)).toBe('    m pgd-ce ε 0.1: pgd 100/300 images (2 s)');
  });
});
