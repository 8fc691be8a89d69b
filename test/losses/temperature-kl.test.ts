// Shader-level tests of shaders/temperature_kl.wgsl (entries temperature_kl_rows[_labelled]
// for ≤ 64 classes; temperature_kl_group[4][_labelled] above, with the dispatch shapes of the
// adapter at hand, and below forced to both the GPU and the software ones; the backward
// scaling temperature_kl_scale_rows*) against a float64 reference.
// Tolerances: loss |err| ≤ 1e-5·|loss| (+1e-6 absolute); gradient, per row,
// |err| ≤ 1e-5·max|grad row| (+1e-5 relative), since single gradient entries near zero have
// no meaningful relative error. Gradient rules: checkGradients (f32 finite differences).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, Graph, gradients, Random, sum, Tensor } from '../../src/index.js';
import type { AdapterKind } from '../../src/gpu/adapter-kind.js';
import { temperatureKl, temperatureKlPerRow } from '../../src/losses/temperature-kl.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();

interface Case {
  student: Float32Array;
  teacher: Float32Array;
  rows: number;
  classes: number;
  temperature: number;
  hardWeight: number;
  labels?: Uint32Array;
}

function logSoftmax(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let s = 0;
  for (const v of z) s += Math.exp(v - max);
  const lse = max + Math.log(s);
  return z.map((v) => v - lse);
}

/** Float64 loss per row and d(loss row)/d(student row), straight from the definitions. */
function reference({ student, teacher, rows, classes, temperature: T, hardWeight, labels }: Case) {
  const loss = new Float64Array(rows);
  const grad = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const s = Float64Array.from(student.subarray(r * classes, (r + 1) * classes));
    const t = Float64Array.from(teacher.subarray(r * classes, (r + 1) * classes));
    const logPt = logSoftmax(t.map((v) => v / T));
    const logPs = logSoftmax(s.map((v) => v / T));
    const logQ = logSoftmax(s);
    let kl = 0;
    for (let c = 0; c < classes; c++) {
      const pt = Math.exp(logPt[c]!);
      if (pt > 0) kl += pt * (logPt[c]! - logPs[c]!);
    }
    const y = labels ? labels[r]! : -1;
    loss[r] = (hardWeight === 1 ? 0 : (1 - hardWeight) * T * T * kl) + (hardWeight > 0 ? -hardWeight * logQ[y]! : 0);
    for (let c = 0; c < classes; c++) {
      const soft = T * (Math.exp(logPs[c]!) - Math.exp(logPt[c]!));
      const hard = hardWeight > 0 ? Math.exp(logQ[c]!) - (c === y ? 1 : 0) : 0;
      grad[r * classes + c] = (1 - hardWeight) * soft + hardWeight * hard;
    }
  }
  return { loss, grad };
}

/** Per-row loss (eager) and its gradient w.r.t. the student (through a compiled graph). */
async function runGpu({ student, teacher, rows, classes, temperature, hardWeight, labels }: Case) {
  const ctx = gpu();
  const s = Tensor.from(ctx, student, [rows, classes]);
  const t = Tensor.from(ctx, teacher, [rows, classes]);
  const y = labels ? Tensor.from(ctx, labels, [rows], 'u32') : undefined;
  const eager = temperatureKlPerRow(s, t, { temperature, hardWeight, labels: y });
  const loss = (await eager.read()) as Float32Array;
  const graph = new Graph(ctx);
  const sIn = graph.input('student', [rows, classes]);
  const perRow = temperatureKlPerRow(sIn, graph.bind(t), { temperature, hardWeight, labels: y && graph.bind(y) });
  const [dStudent] = gradients(sum(perRow), [sIn]);
  const plan = compile(graph, { fetch: [perRow, dStudent!] });
  plan.run({ student });
  const graphLoss = await plan.read(perRow);
  const grad = (await plan.read(dStudent!)) as Float32Array;
  plan.dispose();
  graph.dispose();
  for (const x of [s, t, y, eager]) x?.dispose();
  expect(Array.from(graphLoss)).toEqual(Array.from(loss));
  return { loss, grad };
}

function expectRowsClose(actual: Float32Array, expected: Float64Array, rows: number, classes: number, rtol: number, what: string): void {
  for (let r = 0; r < rows; r++) {
    const row = expected.subarray(r * classes, (r + 1) * classes);
    const scale = row.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectClose(actual.subarray(r * classes, (r + 1) * classes), row, { atol: rtol * scale, rtol }, `${what} row ${r}`);
  }
}

async function expectMatchesReference(c: Case, rtol = 1e-5): Promise<void> {
  const { loss, grad } = await runGpu(c);
  const ref = reference(c);
  expectClose(loss, ref.loss, { atol: 1e-6, rtol }, 'loss');
  expectRowsClose(grad, ref.grad, c.rows, c.classes, rtol, 'grad');
}

/** Teacher logits of spread ~3 and a student that mostly agrees with it (a realistic pair). */
function logitPair(random: Random, rows: number, classes: number) {
  const teacher = randomArray(random, rows * classes, -6, 6);
  const noise = randomArray(random, rows * classes, -2, 2);
  const student = teacher.map((v, i) => 0.7 * v + noise[i]!);
  const labels = Uint32Array.from({ length: rows }, () => Math.floor(random.uniform() * classes));
  return { teacher, student, labels };
}

describe('temperature_kl.wgsl vs float64 reference', () => {
  for (const classes of [2, 10, 1000, 32768]) {
    const rows = classes === 32768 ? 3 : 9;
    for (const temperature of [1, 4, 20, 100]) {
      for (const hardWeight of [0, 0.5, 1]) {
        it(`C=${classes} T=${temperature} hardWeight=${hardWeight}`, async () => {
          const random = new Random(classes * 101 + temperature * 7 + hardWeight * 4);
          const { teacher, student, labels } = logitPair(random, rows, classes);
          await expectMatchesReference({ student, teacher, rows, classes, temperature, hardWeight, labels: hardWeight > 0 ? labels : undefined });
        });
      }
    }
  }

  it('labels are ignored when hardWeight = 0 (pure distillation)', async () => {
    const random = new Random(5);
    const { teacher, student } = logitPair(random, 4, 10);
    const badLabels = new Uint32Array([99, 99, 99, 99]);
    await expectMatchesReference({ student, teacher, rows: 4, classes: 10, temperature: 2, hardWeight: 0, labels: badLabels });
  });

  it('a label out of range makes its row NaN', async () => {
    const random = new Random(6);
    const { teacher, student } = logitPair(random, 2, 300);
    const { loss, grad } = await runGpu({ student, teacher, rows: 2, classes: 300, temperature: 2, hardWeight: 0.5, labels: new Uint32Array([3, 300]) });
    expect(Number.isFinite(loss[0])).toBe(true);
    expect(Number.isNaN(loss[1])).toBe(true);
    expect(grad.subarray(300).every(Number.isNaN)).toBe(true);
  });

  for (const classes of [10, 1000]) {
    for (const temperature of [1, 4, 20]) {
      it(`one-hot-like teacher (+50 / −50), C=${classes} T=${temperature}`, async () => {
        const random = new Random(classes + temperature);
        const rows = 3;
        const teacher = new Float32Array(rows * classes).fill(-50);
        for (let r = 0; r < rows; r++) teacher[r * classes + ((r * 7) % classes)] = 50;
        const student = randomArray(random, rows * classes, -4, 4);
        await expectMatchesReference({ student, teacher, rows, classes, temperature, hardWeight: 0.5, labels: new Uint32Array([0, 1, 2]) });
      });
    }
  }

  for (const classes of [10, 1000]) {
    for (const temperature of [1, 20, 100]) {
      it(`huge logits (±1e4), C=${classes} T=${temperature}`, async () => {
        const random = new Random(classes * 3 + temperature);
        const rows = 4;
        const teacher = randomArray(random, rows * classes, -1e4, 1e4);
        const student = randomArray(random, rows * classes, -1e4, 1e4);
        await expectMatchesReference({ student, teacher, rows, classes, temperature, hardWeight: 0.5, labels: new Uint32Array([1, 2, 3, 4]) });
      });
    }
  }

  for (const classes of [10, 1000]) {
    it(`−1e30 logits (masked classes) give finite results, C=${classes}`, async () => {
      const random = new Random(classes);
      const rows = 3;
      const { teacher, student } = logitPair(random, rows, classes);
      for (let c = 0; c < classes; c += 3) {
        teacher[c] = -1e30; // row 0: the teacher rules classes out (its terms must contribute 0)
        student[2 * classes + c] = -1e30; // row 2: both rule the same classes out
        teacher[2 * classes + c] = -1e30;
      }
      student[classes + 1] = -1e30; // row 1: the student rules out a class the teacher allows
      const c: Case = { student, teacher, rows, classes, temperature: 4, hardWeight: 0.5, labels: new Uint32Array([1, 2, 4]) };
      const { loss, grad } = await runGpu(c);
      expect(loss.every(Number.isFinite)).toBe(true);
      expect(grad.every(Number.isFinite)).toBe(true);
      const ref = reference(c);
      expectClose(loss, ref.loss, { atol: 1e-6, rtol: 1e-5 }, 'loss');
      expectRowsClose(grad, ref.grad, rows, classes, 1e-5, 'grad');
    });
  }

  // The student close to the teacher (logits ~±10 apart by ~1e-3): each row used to be
  // shifted by its own maximum and rounded before the teacher − student difference was
  // taken, which cost 2e-4 relative in the loss and 2.5e-3 of the row's largest gradient.
  // Both paths: the multi-lane one (C > 64) also corrects log(p_s/p_t) once KL is known.
  for (const classes of [10, 60, 1000, 1001]) {
    for (const temperature of [1, 4]) {
      it(`student within 1e-3 of the teacher, C=${classes} T=${temperature}`, async () => {
        const random = new Random(classes * 13 + temperature);
        const rows = 4;
        const teacher = randomArray(random, rows * classes, -10, 10);
        const student = teacher.map((v) => v + (random.uniform() - 0.5) * 2e-3);
        await expectMatchesReference({ student, teacher, rows, classes, temperature, hardWeight: 0 });
        await expectMatchesReference({ student, teacher, rows, classes, temperature, hardWeight: 0.3, labels: Uint32Array.from({ length: rows }, (_, r) => r) });
      });
    }
  }

  it('the dominant class gets its tiny non-zero gradient, not exactly 0 (C = 1000, multi-lane path)', async () => {
    const rows = 2;
    const classes = 1000;
    const random = new Random(77);
    const teacher = randomArray(random, rows * classes, -4, 4);
    teacher[3] = 30;
    teacher[classes + 500] = 30;
    const student = teacher.map((v) => v + (random.uniform() - 0.5) * 2e-3);
    const c: Case = { student, teacher, rows, classes, temperature: 1, hardWeight: 0 };
    const { grad } = await runGpu(c);
    const ref = reference(c);
    for (const i of [3, classes + 500]) {
      expect(ref.grad[i]).not.toBe(0);
      expect(Math.abs(grad[i]! - ref.grad[i]!)).toBeLessThanOrEqual(0.05 * Math.abs(ref.grad[i]!));
    }
  });

  it('hardWeight = 1 ignores the teacher in loss and gradient alike, even a teacher of ±Infinity or NaN', async () => {
    for (const classes of [10, 1000]) {
      const random = new Random(classes + 9);
      const { student, labels } = logitPair(random, 3, classes);
      const teacher = randomArray(random, 3 * classes, -3, 3);
      teacher[1] = Infinity;
      teacher[classes + 2] = -Infinity;
      teacher[2 * classes] = Number.NaN;
      const { loss, grad } = await runGpu({ student, teacher, rows: 3, classes, temperature: 4, hardWeight: 1, labels });
      const ref = reference({ student, teacher: new Float32Array(3 * classes), rows: 3, classes, temperature: 4, hardWeight: 1, labels });
      expect(grad.every(Number.isFinite)).toBe(true);
      expectClose(loss, ref.loss, { atol: 1e-6, rtol: 1e-5 }, 'loss');
      expectRowsClose(grad, ref.grad, 3, classes, 1e-5, 'grad');
    }
  });

  it('temperatureKl is the batch mean of the per-row losses', async () => {
    const ctx = gpu();
    const random = new Random(8);
    const { teacher, student } = logitPair(random, 5, 10);
    const s = Tensor.from(ctx, student, [5, 10]);
    const t = Tensor.from(ctx, teacher, [5, 10]);
    const mean = temperatureKl(s, t, { temperature: 3 });
    const expected = reference({ student, teacher, rows: 5, classes: 10, temperature: 3, hardWeight: 0 }).loss.reduce((a, b) => a + b) / 5;
    expectClose(await mean.read(), [expected], { atol: 1e-6, rtol: 1e-5 }, 'mean loss');
    for (const x of [s, t, mean]) x.dispose();
  });
});

// The group entries run with the dispatch shapes chosen for a GPU (up to 256 lanes per row,
// workgroups of 256) or for a software adapter (8 lanes, a workgroup per row, serial backward
// scaling), whichever adapter runs the tests; *4 entries when classes % 4 = 0.
for (const tuning of ['gpu', 'software'] as const) {
  describe(`temperature_kl group entries, ${tuning} dispatch shapes`, () => {
    let adapterKind: AdapterKind;
    beforeAll(() => {
      adapterKind = gpu().profile.adapterKind;
      gpu().profile.adapterKind = tuning;
    });
    afterAll(() => {
      gpu().profile.adapterKind = adapterKind;
    });
    const shapes = [[64, 1000], [256, 1000], [256, 1001], [5, 65], [7, 4099], [64, 32768]] as const;
    for (const [rows, classes] of shapes) {
      it(`[${rows}, ${classes}] T=4 hardWeight=0.5, per-row loss and gradient`, async () => {
        const random = new Random(rows * 31 + classes);
        const { teacher, student, labels } = logitPair(random, rows, classes);
        await expectMatchesReference({ student, teacher, rows, classes, temperature: 4, hardWeight: 0.5, labels });
      });
    }
    for (const [rows, classes] of [[64, 1000], [9, 1001], [3, 32768]] as const) {
      it(`[${rows}, ${classes}] T=20 hardWeight=0: gradient of the batch mean (backward scaling by 1/rows)`, async () => {
        const ctx = gpu();
        const random = new Random(rows + classes);
        const { teacher, student } = logitPair(random, rows, classes);
        const graph = new Graph(ctx);
        const sIn = graph.input('student', [rows, classes]);
        const loss = temperatureKl(sIn, graph.constant(teacher, [rows, classes]), { temperature: 20 });
        const [dStudent] = gradients(loss, [sIn]);
        const plan = compile(graph, { fetch: [dStudent!] });
        plan.run({ student });
        const grad = (await plan.read(dStudent!)) as Float32Array;
        plan.dispose();
        graph.dispose();
        const ref = reference({ student, teacher, rows, classes, temperature: 20, hardWeight: 0 });
        expectRowsClose(grad, ref.grad.map((g) => g / rows), rows, classes, 1e-5, 'grad of mean');
      });
    }
  });
}

describe('temperature_kl gradient rule vs finite differences', () => {
  const random = new Random(11);
  for (const [classes, hardWeight] of [[7, 0], [7, 0.5], [90, 0.3]] as const) {
    it(`C=${classes} hardWeight=${hardWeight} (teacher and labels are constants)`, async () => {
      const rows = 4;
      const labels = new Uint32Array([0, 3, 6, 2]);
      await checkGradients(gpu(), ([s, t, y]) => temperatureKlPerRow(s!, t!, { temperature: 3, hardWeight, labels: y }), [
        { name: 'student', shape: [rows, classes], data: randomArray(random, rows * classes, -3, 3) },
        { name: 'teacher', shape: [rows, classes], data: randomArray(random, rows * classes, -3, 3), differentiable: false },
        { name: 'labels', shape: [rows], data: labels, differentiable: false },
      ], { samples: 10, atol: 2e-3 });
    });
  }
});

describe('temperature_kl errors', () => {
  it('rejects bad shapes, label counts, hardWeight and temperature with the values in the message', () => {
    const ctx = gpu();
    const s = Tensor.from(ctx, randomArray(new Random(1), 6), [2, 3]);
    const t = Tensor.from(ctx, randomArray(new Random(2), 8), [2, 4]);
    const t2 = Tensor.from(ctx, randomArray(new Random(3), 6), [2, 3]);
    const y = Tensor.from(ctx, [0, 1, 2], [3], 'u32');
    const flat = Tensor.from(ctx, randomArray(new Random(4), 6), [6]);
    expect(() => temperatureKl(s, t, { temperature: 2 })).toThrow(/temperature_kl: shapes must match, got \[2, 3\] and \[2, 4\]/);
    expect(() => temperatureKl(flat, flat, { temperature: 2 })).toThrow(/student logits must have rank 2, got shape \[6\]/);
    expect(() => temperatureKl(s, t2, { temperature: 2, hardWeight: 0.5, labels: y })).toThrow(/3 labels for 2 rows of logits \[2, 3\]/);
    expect(() => temperatureKl(s, t2, { temperature: 2, hardWeight: 1.5, labels: y })).toThrow(/hardWeight .* must be in \[0, 1\], got 1.5/);
    expect(() => temperatureKl(s, t2, { temperature: 2, hardWeight: -0.1 })).toThrow(/got -0.1/);
    expect(() => temperatureKl(s, t2, { temperature: 2, hardWeight: 0.5 })).toThrow(/needs labels/);
    expect(() => temperatureKl(s, t2, { temperature: 0 })).toThrow(/temperature must be a finite number > 0, got 0/);
    expect(() => temperatureKl(s, t2, { temperature: -1 })).toThrow(/got -1/);
    for (const x of [s, t, t2, y, flat]) x.dispose();
  });
});
