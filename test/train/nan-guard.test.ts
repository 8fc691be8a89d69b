// The NaN guard of fit(): the step whose loss goes non-finite is undone (weights, optimizer
// state and step count as before it) and the error names the step and the non-finite parts.
// Without the guard the same run only fails at the end of the epoch, with spoilt weights.
import { describe, expect, it } from 'vitest';
import { Adam, Dense, type Dataset, distill, fit, Flatten, type Objective, ReLU, sequential, softmaxCrossEntropy, scale, sum } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();
const BAD_IMAGE = 200;

/** 256 random 8×8 images; one holds 3e38 in every pixel (finite, but its sums overflow). */
function data(): Dataset {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const count = 256;
  const images = Float32Array.from({ length: count * 64 }, random);
  images.fill(3e38, BAD_IMAGE * 64, (BAD_IMAGE + 1) * 64);
  const labels = Uint32Array.from({ length: count }, () => Math.floor(random() * 10));
  return { images, labels, count, shape: [1, 8, 8] };
}

function setup() {
  const model = sequential([new Flatten(), new Dense(16), new ReLU(), new Dense(10)]).build(gpu(), [1, 8, 8], { seed: 5 });
  const objective: Objective = {
    parameters: [...model.parameters().values()],
    build: (x, y) => {
      const logits = model.call(x, { training: true });
      const ce = softmaxCrossEntropy(logits, y);
      const magnitude = scale(sum(x), 1e-9);
      return { loss: ce, logits, parts: { ce, magnitude } };
    },
  };
  return { model, objective, optimizer: new Adam({ learningRate: 1e-2 }) };
}

async function weights(model: ReturnType<typeof setup>['model']): Promise<Float32Array[]> {
  return Promise.all([...model.state().values()].map(async (t) => (await t.read()) as Float32Array));
}

const options = { epochs: 1, batchSize: 16, seed: 7 };

describe('NaN guard', () => {
  it('stops at the step whose loss is non-finite, names the parts and undoes the step', async () => {
    const guarded = setup();
    const error = await fit(guarded.model, data(), guarded.objective, { ...options, optimizer: guarded.optimizer }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/at step \d+ of epoch 1/);
    expect(message).toContain('magnitude = Infinity');
    expect(message).toContain('the weights are as they were before that step');
    const badStep = Number(/at step (\d+)/.exec(message)![1]);
    expect(badStep).toBeGreaterThan(1);
    expect(guarded.optimizer.step).toBe(badStep - 1);

    // The same run stopped right after the step before: its weights must match bit for bit.
    const reference = setup();
    const stop = new Error('stop');
    await expect(fit(reference.model, data(), reference.objective, {
      ...options,
      optimizer: reference.optimizer,
      onStep: (p) => {
        if (p.step === badStep - 1) throw stop;
      },
    })).rejects.toBe(stop);
    const kept = await weights(guarded.model);
    expect(kept.every((w) => w.every(Number.isFinite))).toBe(true);
    expect(kept).toEqual(await weights(reference.model));
    guarded.model.dispose();
    reference.model.dispose();
  });

  it('with nanGuard: false the run fails only at the end of the epoch, with spoilt weights', async () => {
    const unguarded = setup();
    await expect(fit(unguarded.model, data(), unguarded.objective, { ...options, optimizer: unguarded.optimizer, nanGuard: false }))
      .rejects.toThrow(/training loss became .* in epoch 1/);
    const spoilt = await weights(unguarded.model);
    expect(spoilt.some((w) => w.some((v) => !Number.isFinite(v)))).toBe(true);
    unguarded.model.dispose();
  });

  it('a distillation step names the teacher logits and the soft loss as the non-finite terms', async () => {
    const build = (seed: number) => sequential([new Flatten(), new Dense(16), new ReLU(), new Dense(10)]).build(gpu(), [1, 8, 8], { seed });
    const student = build(5);
    const teacher = build(6);
    // A teacher spoilt by one NaN bias: every logit of every image is NaN.
    const bias = [...teacher.state().values()].at(-1)!;
    const values = (await bias.read()) as Float32Array;
    values[3] = Number.NaN;
    bias.write(values);
    const clean = { ...data(), images: data().images.fill(0.5, BAD_IMAGE * 64, (BAD_IMAGE + 1) * 64) };
    const optimizer = new Adam({ learningRate: 1e-2 });
    const error = await distill(student, clean, { ...options, teacher, temperature: 2, hardWeight: 0.3, optimizer }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('at step 1 of epoch 1');
    expect(message).toContain('on that batch with the weights from before the step, non-finite: teacher logits, soft loss (T²·KL(teacher ‖ student)); finite: student logits, hard loss (cross-entropy with the labels)');
    expect(optimizer.step).toBe(0);
    student.dispose();
    teacher.dispose();
  });
});
