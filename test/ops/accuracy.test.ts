// Shader-level test of shaders/accuracy.wgsl (argmax_correct): predicted classes and
// correctness are integers/0-1 values, so they must match the reference exactly.
import { describe, expect, it } from 'vitest';
import { accuracy, argmaxCorrect, Random, Tensor } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';
import { randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(3);

describe('accuracy.wgsl argmax_correct', () => {
  for (const [rows, classes] of [[1, 1], [65, 10], [70_000, 3]] as const) {
    it(`rows=${rows} classes=${classes}`, async () => {
      const ctx = gpu();
      const z = randomArray(random, rows * classes);
      const labels = Uint32Array.from({ length: rows }, () => Math.floor(random.uniform() * classes));
      const expectedPredicted = new Uint32Array(rows);
      let hits = 0;
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (z[r * classes + c]! > z[r * classes + best]!) best = c;
        expectedPredicted[r] = best;
        if (best === labels[r]) hits++;
      }
      const logits = Tensor.from(ctx, z, [rows, classes]);
      const y = Tensor.from(ctx, labels, [rows]);
      const [predicted, correct] = argmaxCorrect(logits, y);
      expect(Array.from(await predicted.read())).toEqual(Array.from(expectedPredicted));
      const correctValues = await correct.read();
      expect(correctValues.every((v, r) => v === (expectedPredicted[r] === labels[r] ? 1 : 0))).toBe(true);
      const acc = (await accuracy(logits, y).read())[0]!;
      expect(Math.abs(acc - hits / rows)).toBeLessThan(1e-6);
    });
  }

  it('ties go to the first index', async () => {
    const ctx = gpu();
    const [predicted] = argmaxCorrect(Tensor.from(ctx, new Float32Array([0.5, 2, 2, 1]), [1, 4]), Tensor.from(ctx, new Uint32Array([2]), [1]));
    expect(Array.from(await predicted.read())).toEqual([1]);
  });
});
