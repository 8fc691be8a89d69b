// The teachers shipped in models/: they load by name, their weights match the manifest's
// sha256, and the accuracy the manifest states is re-measured on 1,000 test images (the robust
// teacher's PGD-40 accuracy on 200 of them).
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attackDataset, evaluate, loadMnistFromDirectory, pretrained, pretrainedManifest, PRETRAINED_NAMES, subset } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();
const scratch = mkdtempSync(join(tmpdir(), 'kdgpu-pretrained-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// 3.5 standard errors of a proportion p measured on n images: the re-measurement must agree
// with the manifest's full-test-set number within sampling error.
const within = (p: number, n: number) => 3.5 * Math.sqrt((p * (1 - p)) / n) + 1 / n;

describe('pretrained teachers', () => {
  it('mnist-teacher loads by name and re-measures the manifest accuracy on 1,000 test images', async () => {
    const teacher = await pretrained(gpu(), 'mnist-teacher');
    try {
      const manifest = teacher.manifest;
      expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(manifest.command).toContain('scripts/train-pretrained.mjs mnist-teacher');
      expect(manifest.accuracy.testImages).toBe(10000);
      const test = subset((await loadMnistFromDirectory()).test, 0, 1000);
      const { accuracy } = await evaluate(teacher, test);
      expect(Math.abs(accuracy - manifest.accuracy.clean)).toBeLessThan(within(manifest.accuracy.clean, 1000));
    } finally {
      teacher.dispose();
    }
  });

  it('mnist-robust-teacher loads by name; clean accuracy on 1,000 and PGD-40 at ε = 0.3 on 200 test images re-measure its manifest', async () => {
    const teacher = await pretrained(gpu(), 'mnist-robust-teacher');
    try {
      const manifest = teacher.manifest;
      expect(manifest.command).toContain('scripts/train-pretrained.mjs mnist-robust-teacher');
      const robust = manifest.accuracy.robust!['pgd40_ce_eps0.3']!;
      expect(robust).toBeGreaterThan(0.89);
      const test = (await loadMnistFromDirectory()).test;
      const { accuracy } = await evaluate(teacher, subset(test, 0, 1000));
      expect(Math.abs(accuracy - manifest.accuracy.clean)).toBeLessThan(within(manifest.accuracy.clean, 1000));
      // The manifest's attack (train-pretrained.mjs): PGD-40, CE, step 2.5·ε/40, random start, seed 0,
      // on the first 1,000 test images; here the first 200 of them, for time.
      const attacked = await attackDataset(teacher, subset(test, 0, 200), { kind: 'pgd', epsilon: 0.3, steps: 40, loss: 'ce', seed: 0, adversarial: false });
      expect(Math.abs(attacked.accuracy - robust)).toBeLessThan(within(robust, 200));
    } finally {
      teacher.dispose();
    }
  }, 120_000);

  it('refuses weights whose sha256 differs from the manifest, and unknown names', async () => {
    const manifest = await pretrainedManifest('mnist-teacher');
    const { dirname } = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    const models = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
    copyFileSync(join(models, 'mnist-teacher.json'), join(scratch, 'mnist-teacher.json'));
    const weights = readFileSync(join(models, manifest.file));
    weights[weights.length - 1] ^= 1;
    writeFileSync(join(scratch, manifest.file), weights);
    await expect(pretrained(gpu(), 'mnist-teacher', { directory: scratch })).rejects.toThrow(/has sha256 [0-9a-f]{64} but its manifest says/);
    await expect(pretrained(gpu(), 'cifar-teacher' as never)).rejects.toThrow(`no shipped model 'cifar-teacher'; the shipped models are ${PRETRAINED_NAMES.join(', ')}`);
  });
});
