// Resuming a robust-distillation run (src/robust/robust-distill.ts) from a checkpoint is
// bit-exact: the inner attack's random-start counter (src/robust/inner-attack.ts) is saved
// with the checkpoint next to the dropout counter, and a checkpoint without it (an older
// kdgpu's) warns and continues the counter as an uninterrupted run of a fresh objective would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Adam, Dense, Dropout, type CheckpointStore, fileCheckpoint, Flatten, loadMnistFromDirectory, ReLU, type Sequential, sequential, subset } from '../../src/index.js';
import { ardDistill } from '../../src/robust/robust-distill.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();
let data: ReturnType<typeof subset>;
let teacher: Sequential;
let dir: string;

// A student with dropout, so both counters (random starts and dropout masks) must resume.
const student = (seed: number) =>
  sequential([new Flatten(), new Dense(16), new ReLU(), new Dropout(0.2), new Dense(10)], { name: 'student' }).build(gpu(), [1, 28, 28], { seed });
const options = () => ({
  teacher,
  attack: { epsilon: 0.1, steps: 2, seed: 5 },
  batchSize: 32,
  seed: 3,
  optimizer: new Adam({ learningRate: 3e-3 }),
});

async function weights(model: Sequential): Promise<number[]> {
  const out: number[] = [];
  for (const t of model.state().values()) out.push(...(await t.read()));
  return out;
}

let straight: number[];

beforeAll(async () => {
  const mnist = await loadMnistFromDirectory();
  data = subset(mnist.train, 0, 128); // 4 steps per epoch
  dir = mkdtempSync(join(tmpdir(), 'kdgpu-robust-resume-'));
  // The teacher only has to be fixed, not good: an untrained network of its own seed.
  teacher = sequential([new Flatten(), new Dense(32), new ReLU(), new Dense(10)], { name: 'teacher' }).build(gpu(), [1, 28, 28], { seed: 1 });
  const model = student(2);
  await ardDistill(model, data, { ...options(), epochs: 2 });
  straight = await weights(model);
  model.dispose();
});
afterAll(() => {
  teacher?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('robust distillation resume', () => {
  it('ARD interrupted after epoch 1 and resumed gives the weights of the uninterrupted 2-epoch run', async () => {
    const store = fileCheckpoint(join(dir, 'ard'));
    const interrupted = student(2);
    await ardDistill(interrupted, data, { ...options(), epochs: 1, checkpoint: store });
    interrupted.dispose();

    const resumed = student(99); // different init: the checkpoint must overwrite it
    const result = await ardDistill(resumed, data, { ...options(), epochs: 2, checkpoint: store });
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(await weights(resumed)).toEqual(straight);
    resumed.dispose();
  });

  it('a checkpoint without the attack counter (older kdgpu) warns and continues it from the steps done', async () => {
    const file = fileCheckpoint(join(dir, 'legacy'));
    // What an older kdgpu wrote: the same checkpoint without objectiveState.
    const legacy: CheckpointStore = { path: file.path, save: ({ objectiveState: _, ...state }) => file.save(state), load: (t) => file.load(t) };
    const interrupted = student(2);
    await ardDistill(interrupted, data, { ...options(), epochs: 1, checkpoint: legacy });
    interrupted.dispose();

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const resumed = student(99);
      await ardDistill(resumed, data, { ...options(), epochs: 2, checkpoint: legacy });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/does not record the inner attack's random-start counter.*continuing it at step 4/);
      // The interrupted run began with a fresh objective, so the reconstruction is exact.
      expect(await weights(resumed)).toEqual(straight);
      resumed.dispose();
    } finally {
      warn.mockRestore();
    }
  });
});
