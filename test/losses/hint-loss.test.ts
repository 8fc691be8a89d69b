// Shader-level tests of shaders/hint_loss.wgsl (entry hint_loss) against a float64
// reference. Tolerances: loss rtol 1e-5 (f32 squares summed by reduce_sum); gradient
// 2(s − t)/n is two roundings away from exact, rtol 1e-6. Gradient rule: checkGradients.
import { describe, expect, it } from 'vitest';
import { compile, Graph, gradients, Random, Tensor } from '../../src/index.js';
import { hintLoss } from '../../src/losses/hint-loss.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();

describe('hint_loss.wgsl vs float64 reference', () => {
  for (const shape of [[1], [3, 17], [4, 8, 5, 5], [2, 16, 64, 65]]) {
    it(`[${shape}]`, async () => {
      const ctx = gpu();
      const n = shape.reduce((a, b) => a * b, 1);
      const random = new Random(n);
      const student = randomArray(random, n, -2, 2);
      const teacher = randomArray(random, n, -2, 2);
      let expectedLoss = 0;
      for (let i = 0; i < n; i++) expectedLoss += (student[i]! - teacher[i]!) ** 2;
      expectedLoss /= n;
      const expectedGrad = Array.from(student, (s, i) => (2 * (s - teacher[i]!)) / n);

      const t = Tensor.from(ctx, teacher, shape);
      const s = Tensor.from(ctx, student, shape);
      const eager = hintLoss(s, t);
      expect(eager.shape).toEqual([1]);
      expectClose(await eager.read(), [expectedLoss], { atol: 0, rtol: 1e-5 }, 'eager loss');

      const graph = new Graph(ctx);
      const sIn = graph.input('student', shape);
      const loss = hintLoss(sIn, graph.bind(t));
      const [dStudent] = gradients(loss, [sIn]);
      const plan = compile(graph, { fetch: [loss, dStudent!] });
      plan.run({ student });
      expectClose(await plan.read(loss), [expectedLoss], { atol: 0, rtol: 1e-5 }, 'loss');
      expectClose(await plan.read(dStudent!), expectedGrad, { atol: 0, rtol: 1e-6 }, 'gradient');
      plan.dispose();
      graph.dispose();
      for (const x of [s, t, eager]) x.dispose();
    });
  }
});

describe('hint_loss gradient rule vs finite differences', () => {
  it('student [2, 3, 4, 4] (teacher is a constant)', async () => {
    const random = new Random(2);
    await checkGradients(gpu(), ([s, t]) => hintLoss(s!, t!), [
      { name: 'student', shape: [2, 3, 4, 4], data: randomArray(random, 96) },
      { name: 'teacher', shape: [2, 3, 4, 4], data: randomArray(random, 96), differentiable: false },
    ], { atol: 2e-3 });
  });
});

describe('hint_loss errors', () => {
  it('names both shapes when they differ', () => {
    const ctx = gpu();
    const s = Tensor.from(ctx, randomArray(new Random(1), 24), [2, 3, 4]);
    const t = Tensor.from(ctx, randomArray(new Random(2), 24), [2, 4, 3]);
    expect(() => hintLoss(s, t)).toThrow(/hint_loss: shapes must match, got \[2, 3, 4\] and \[2, 4, 3\]/);
    s.dispose();
    t.dispose();
  });
});
