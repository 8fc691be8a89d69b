// A child process for test/kill-resume.test.ts: trains a tiny MLP (dropout, shifts) on 320
// random 8×8 images for 2 epochs of 20 steps, checkpointing every 4 steps when given a
// folder, and SIGKILLs itself right after global step KILL_AT when that is set.
// Usage: node child.mjs OUT.safetensors [CHECKPOINT_DIR] [KILL_AT]
import { writeFileSync } from 'node:fs';
import { Adam, Dense, Dropout, fileCheckpoint, Flatten, init, ReLU, saveParameters, sequential, train } from '../../src/index.js';

const [out, checkpointDir, killAt] = process.argv.slice(2);
if (!out) throw new Error('usage: child OUT.safetensors [CHECKPOINT_DIR] [KILL_AT]');

let seed = 777;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const count = 320;
const data = {
  images: Float32Array.from({ length: count * 64 }, random),
  labels: Uint32Array.from({ length: count }, () => Math.floor(random() * 10)),
  count,
  shape: [1, 8, 8] as [number, number, number],
};

const ctx = await init();
const model = sequential([new Flatten(), new Dense(16), new ReLU(), new Dropout(0.2), new Dense(10)]).build(ctx, [1, 8, 8], { seed: 2 });
let firstStep: string | undefined;
const result = await train(model, data, {
  epochs: 2,
  batchSize: 16,
  seed: 3,
  augment: { maxShift: 1 },
  optimizer: new Adam({ learningRate: 3e-3 }),
  ...(checkpointDir ? { checkpoint: fileCheckpoint(checkpointDir), checkpointEvery: 4 } : {}),
  onStep: ({ epoch, step, steps }) => {
    firstStep ??= `${epoch}:${step}`;
    if (killAt && (epoch - 1) * steps + step === Number(killAt)) process.kill(process.pid, 'SIGKILL');
  },
});
writeFileSync(out, await saveParameters(model.state()));
console.log(`first step ${firstStep}`);
console.log(`history ${JSON.stringify(result.history.map((h) => [h.epoch, h.loss, h.accuracy]))}`);
model.dispose();
ctx.dispose();
