// Reproduces the MNIST experiment of Hinton, Vinyals & Dean (2015), "Distilling the
// Knowledge in a Neural Network", section 3, at a budget a CPU-only machine can afford:
//   teacher   784-1200-1200-10, dropout (20% input, 50% hidden), jitter ±2 px  (paper: 67 test errors)
//   student   784-800-800-10 trained alone on hard labels                        (paper: 146)
//   distilled the same student trained on the teacher's soft targets at T = 20    (paper: 74)
// The paper trained for far longer; the epochs used here are printed with the table.
// Run: npm run build && node examples/hinton-mnist.mjs [--teacher-epochs 5] [--student-epochs 5]
//      [--hard-weight 0.1] [--out docs/hinton-mnist.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as kdgpu from '../dist/kdgpu.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const teacherEpochs = Number(option('teacher-epochs', 5));
const studentEpochs = Number(option('student-epochs', 5));
const hardWeight = Number(option('hard-weight', 0.1));
const temperature = 20;
const batchSize = 128;
const seed = Number(option('seed', 1));
const out = option('out', 'docs/hinton-mnist.json');

const started = performance.now();
const ctx = await kdgpu.init();
const mnist = await kdgpu.loadMnistFromDirectory();
const steps = Math.floor(mnist.train.count / batchSize);
const adam = () => new kdgpu.Adam({ learningRate: (t) => 1e-3 * 0.7 ** Math.floor((t - 1) / steps) });
const log = (label, epochs) => ({
  onStep: ({ epoch, step }) => step % 50 === 0 && process.stderr.write(`\r${label} epoch ${epoch}/${epochs} step ${step}/${steps}  `),
  onEpoch: (s) => process.stderr.write(`\r${label} epoch ${s.epoch}/${epochs}: loss ${s.loss.toFixed(4)} (${s.seconds.toFixed(0)} s)\n`),
});

const rows = [];
async function report(model, name, paper, result, epochs) {
  const e = await kdgpu.evaluate(model, mnist.test);
  rows.push({ name, paper, errors: e.errors, accuracy: e.accuracy, epochs, seconds: result.seconds });
  console.log(`${name}: ${e.errors} test errors (paper ${paper}), ${epochs} epochs, ${result.seconds.toFixed(0)} s`);
}

const teacher = kdgpu.hintonTeacher('teacher').build(ctx, [1, 28, 28], { seed });
const teacherRun = await kdgpu.train(teacher, mnist.train, { epochs: teacherEpochs, batchSize, seed, optimizer: adam(), augment: { maxShift: 2 }, ...log('teacher', teacherEpochs) });
await report(teacher, 'teacher 1200-1200, dropout + jitter', 67, teacherRun, teacherEpochs);

const alone = kdgpu.hintonStudent('student').build(ctx, [1, 28, 28], { seed: seed + 1 });
const aloneRun = await kdgpu.train(alone, mnist.train, { epochs: studentEpochs, batchSize, seed, optimizer: adam(), ...log('student alone', studentEpochs) });
await report(alone, 'student 800-800 alone', 146, aloneRun, studentEpochs);

const distilled = kdgpu.hintonStudent('distilled').build(ctx, [1, 28, 28], { seed: seed + 1 });
const kdRun = await kdgpu.distill(distilled, mnist.train, { teacher, temperature, hardWeight, epochs: studentEpochs, batchSize, seed, optimizer: adam(), ...log('distilled', studentEpochs) });
await report(distilled, `student 800-800 distilled, T = ${temperature}`, 74, kdRun, studentEpochs);

const totalSeconds = (performance.now() - started) / 1000;
const table = [
  '| model | test errors (kdgpu) | test errors (paper) | epochs | train time |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.name} | ${r.errors} | ${r.paper} | ${r.epochs} | ${r.seconds.toFixed(0)} s |`),
].join('\n');
console.log(`\n${table}\n\ntotal ${totalSeconds.toFixed(0)} s on ${ctx.adapterInfo.description || ctx.adapterInfo.vendor}; hardWeight (hard-loss weight) = ${hardWeight}, Adam 1e-3 decayed ×0.7 per epoch, batch ${batchSize}`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), device: ctx.adapterInfo, hardWeight, temperature, batchSize, seed, rows, totalSeconds }, null, 2)}\n`);
ctx.dispose();
