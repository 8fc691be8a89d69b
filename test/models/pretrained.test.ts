// The teachers shipped in models/: they load by name, their weights match the manifest's
// sha256, and the accuracy the manifest states is re-measured on 1,000 test images.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate, loadMnistFromDirectory, pretrained, pretrainedManifest, PRETRAINED_NAMES, subset } from '../../src/index.js';
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
