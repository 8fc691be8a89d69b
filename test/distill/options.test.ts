// src/distill/options.ts and src/losses/loss-options.ts: one rule (and one message) for the
// temperature, the hard loss's weight and the teacher, whichever trainer or loss is given them,
// and the former names (`alpha`, DKD's alpha/beta) refused with their replacements.
import { describe, expect, it } from 'vitest';
import {
  Adam,
  ardDistill,
  checkTeacher,
  DISTILLATION_DEFAULTS,
  distill,
  distillationWeights,
  dkdLoss,
  Dense,
  Flatten,
  rsladDistill,
  sequential,
  Tensor,
  temperatureKl,
} from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();
const mlp = (name: string) => sequential([new Flatten(), new Dense(10)], { name }).build(gpu(), [1, 4, 4], { seed: 1 });
const data = { images: new Float32Array(32 * 16).fill(0.5), labels: new Uint32Array(32), count: 32, shape: [1, 4, 4] };
const fitOptions = { epochs: 1, batchSize: 16, optimizer: new Adam() };
const attack = { epsilon: 0.1, steps: 1 };

describe('distillation options', () => {
  it('defaults and checks temperature and hardWeight in one place', () => {
    expect(distillationWeights('x', {})).toEqual({ temperature: 4, hardWeight: 0.1 });
    expect(DISTILLATION_DEFAULTS).toEqual({ temperature: 4, hardWeight: 0.1 });
    expect(distillationWeights('x', { temperature: 2, hardWeight: 0 })).toEqual({ temperature: 2, hardWeight: 0 });
    expect(() => distillationWeights('x', { temperature: 0 })).toThrow('x: temperature must be a finite number > 0, got 0');
    expect(() => distillationWeights('x', { temperature: Number.NaN })).toThrow('got NaN');
    expect(() => distillationWeights('x', { hardWeight: 1.5 })).toThrow('x: hardWeight weights the hard loss and must be in [0, 1], got 1.5');
    expect(() => distillationWeights('kdgpu', { hardWeight: -1 }, { temperature: '--temperature', hardWeight: '--hard-weight' })).toThrow(
      'kdgpu: --hard-weight weights the hard loss and must be in [0, 1], got -1',
    );
  });

  it('distill, ARD and temperatureKl give the same message for the same bad value', async () => {
    const student = mlp('student');
    const teacher = mlp('teacher');
    const bad = { hardWeight: 2 };
    await expect(distill(student, data, { ...fitOptions, teacher, ...bad })).rejects.toThrow('distill: hardWeight weights the hard loss and must be in [0, 1], got 2');
    await expect(ardDistill(student, data, { ...fitOptions, teacher, attack, ...bad })).rejects.toThrow('ard: hardWeight weights the hard loss and must be in [0, 1], got 2');
    const logits = Tensor.from(gpu(), new Float32Array(20), [2, 10]);
    expect(() => temperatureKl(logits, logits, { temperature: 4, ...bad })).toThrow('temperature_kl: hardWeight weights the hard loss and must be in [0, 1], got 2');
    await expect(distill(student, data, { ...fitOptions, teacher, temperature: -1 })).rejects.toThrow('distill: temperature must be a finite number > 0, got -1');
    await expect(ardDistill(student, data, { ...fitOptions, teacher, attack, temperature: -1 })).rejects.toThrow('ard: temperature must be a finite number > 0, got -1');
    logits.dispose();
    student.dispose();
    teacher.dispose();
  });

  it('the teacher check is shared: same model, other input or output shape', async () => {
    const student = mlp('student');
    const wide = sequential([new Flatten(), new Dense(12)], { name: 'wide' }).build(gpu(), [1, 4, 4], { seed: 1 });
    expect(() => checkTeacher('x', student, student)).toThrow('x: the teacher and the student must be different models');
    expect(() => checkTeacher('x', student, wide)).toThrow("x: teacher 'wide' outputs [12] but student 'student' outputs [10]");
    await expect(rsladDistill(student, data, { ...fitOptions, teacher: wide, attack })).rejects.toThrow("rslad: teacher 'wide' outputs [12]");
    await expect(distill(student, data, { ...fitOptions, teacher: wide })).rejects.toThrow("distill: teacher 'wide' outputs [12]");
    student.dispose();
    wide.dispose();
  });

  it('former names fail naming their replacement', async () => {
    const student = mlp('student');
    const teacher = mlp('teacher');
    await expect(distill(student, data, { ...fitOptions, teacher, alpha: 0.3 } as never)).rejects.toThrow("distill: option 'alpha' was renamed; pass 'hardWeight'");
    await expect(distill(student, data, { ...fitOptions, teacher, dkd: { alpha: 1, beta: 8 } } as never)).rejects.toThrow("distill: dkd: option 'alpha' was renamed; pass 'tckdWeight'");
    const logits = Tensor.from(gpu(), new Float32Array(20), [2, 10]);
    const labels = Tensor.from(gpu(), new Uint32Array(2), [2]);
    expect(() => temperatureKl(logits, logits, { temperature: 4, alpha: 0.5 } as never)).toThrow("temperature_kl: option 'alpha' was renamed; pass 'hardWeight'");
    expect(() => dkdLoss(logits, logits, labels, { temperature: 4, tckdWeight: 1, beta: 8 } as never)).toThrow("dkd: option 'beta' was renamed; pass 'nckdWeight'");
    for (const t of [logits, labels, student, teacher]) t.dispose();
  });
});
