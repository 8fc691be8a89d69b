// Reproduces the MNIST experiment of Hinton, Vinyals & Dean (2015), "Distilling the
// Knowledge in a Neural Network", section 3:
//   teacher   784-1200-1200-10, dropout (20% input, 50% hidden), jitter ±2 px  (paper: 67 test errors)
//             or, with --teacher mnist-teacher, the CNN shipped in models/ (58 errors)
//             or, with --teacher-file F, the same MLP's weights from a PyTorch state dict in
//             safetensors (made by examples/hinton-torch-teacher.py), loaded by loadTorchStateDict
//   student   784-800-800-10 trained alone on hard labels                        (paper: 146)
//   distilled the same student trained on the teacher's soft targets at T = 20    (paper: 74)
// Neither student sees jittered images (as in the paper) unless --jitter N shifts the training
// images of BOTH students by up to ±N px (a transfer set of jittered images for the distilled
// student, with the student alone jittered the same way so it stays a fair control; the teacher
// then runs on every shifted batch). Every model checkpoints each epoch
// under --runs, so a run killed part-way resumes bit-exactly when started again with the same
// arguments. The report ends with McNemar's exact test of distilled vs alone on the 10,000
// test images and the share of the alone-to-teacher gap the distilled student closes.
// Run: npm run build && node examples/hinton-mnist.mjs [--teacher hinton-mlp|mnist-teacher | --teacher-file F.safetensors]
//      [--teacher-epochs 5] [--student-epochs 5] [--decay 0.7] [--hard-weight 0.1] [--temperature 20] [--jitter 0]
//      [--runs runs/hinton] [--out docs/hinton-mnist/results.json]
// Checkpoint folders are named after the settings that shape each model (epochs, decay, seed,
// and T and the hard weight for the distilled student), so a run with other settings never
// resumes another's weights.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as kdgpu from '../dist/kdgpu.js';

const args = process.argv.slice(2);
const KNOWN = ['teacher', 'teacher-file', 'teacher-epochs', 'student-epochs', 'decay', 'hard-weight', 'temperature', 'jitter', 'seed', 'runs', 'out'];
for (let i = 0; i < args.length; i += 2) {
  const name = args[i].replace(/^--/, '');
  if (!args[i].startsWith('--') || !KNOWN.includes(name)) throw new Error(`hinton-mnist: unknown option ${args[i]} (known: ${KNOWN.map((k) => `--${k}`).join(', ')})`);
  if (args[i + 1] === undefined) throw new Error(`hinton-mnist: ${args[i]} needs a value`);
}
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const positive = (name, fallback, integer) => {
  const value = Number(option(name, fallback));
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`hinton-mnist: --${name} must be a positive ${integer ? 'integer' : 'number'}, got ${option(name, fallback)}`);
  return value;
};
const teacherFile = option('teacher-file', null);
if (teacherFile !== null && option('teacher', null) !== null) throw new Error('hinton-mnist: give --teacher or --teacher-file, not both');
if (teacherFile !== null && !existsSync(teacherFile)) throw new Error(`hinton-mnist: --teacher-file ${teacherFile} does not exist (make it with: python examples/hinton-torch-teacher.py)`);
const teacherKind = teacherFile !== null ? 'torch-file' : option('teacher', 'hinton-mlp');
if (teacherFile === null && !['hinton-mlp', 'mnist-teacher'].includes(teacherKind)) throw new Error(`hinton-mnist: --teacher must be hinton-mlp (train the paper's MLP) or mnist-teacher (the shipped CNN), or give --teacher-file F.safetensors (a PyTorch state dict of the MLP), got ${teacherKind}`);
const teacherEpochs = positive('teacher-epochs', 5, true);
const studentEpochs = positive('student-epochs', 5, true);
const decay = positive('decay', 0.7, false);
const hardWeight = Number(option('hard-weight', 0.1));
const temperature = positive('temperature', 20, false);
const jitter = Number(option('jitter', 0));
if (!(Number.isInteger(jitter) && jitter >= 0 && jitter <= 4)) throw new Error(`hinton-mnist: --jitter must be a whole number of pixels from 0 to 4, got ${option('jitter')}`);
const studentData = jitter > 0 ? { augment: { maxShift: jitter } } : {};
const jitterTag = jitter > 0 ? `-j${jitter}` : '';
const batchSize = 128;
const seed = Number(option('seed', 1));
const runs = option('runs', 'runs/hinton');
const out = option('out', 'docs/hinton-mnist/results.json');

const started = performance.now();
const ctx = await kdgpu.init();
const mnist = await kdgpu.loadMnistFromDirectory();
const steps = Math.floor(mnist.train.count / batchSize);
const adam = () => new kdgpu.Adam({ learningRate: (t) => 1e-3 * decay ** Math.floor((t - 1) / steps) });
const log = (label, epochs) => ({
  onStep: ({ epoch, step }) => step % 50 === 0 && process.stderr.write(`\r${label} epoch ${epoch}/${epochs} step ${step}/${steps}  `),
  onEpoch: (s) => process.stderr.write(`\r${label} epoch ${s.epoch}/${epochs}: loss ${s.loss.toFixed(4)} (${s.seconds.toFixed(0)} s)\n`),
});
const checkpoint = (name) => ({ checkpoint: kdgpu.fileCheckpoint(join(runs, name)) });

const rows = [];
async function report(model, name, paper, result, epochs) {
  const e = await kdgpu.evaluate(model, mnist.test);
  rows.push({ name, paper, errors: e.errors, accuracy: e.accuracy, epochs, seconds: result?.seconds ?? null });
  console.log(`${name}: ${e.errors} test errors (paper ${paper})${epochs ? `, ${epochs} epochs, ${result.seconds.toFixed(0)} s` : ''}`);
  return e;
}

let teacher;
let teacherEval;
let teacherSha256 = null;
if (teacherKind === 'torch-file') {
  const bytes = readFileSync(teacherFile);
  teacherSha256 = createHash('sha256').update(bytes).digest('hex');
  teacher = kdgpu.hintonTeacher('teacher').build(ctx, [1, 28, 28], { seed });
  kdgpu.loadTorchStateDict(teacher, bytes, { source: teacherFile });
  teacherEval = await report(teacher, `teacher 1200-1200 from PyTorch (${teacherFile}, sha256 ${teacherSha256.slice(0, 12)}…)`, 67, null, null);
} else if (teacherKind === 'mnist-teacher') {
  teacher = await kdgpu.pretrained(ctx, 'mnist-teacher');
  teacherEval = await report(teacher, 'teacher: shipped CNN mnist-teacher', 67, null, null);
} else {
  teacher = kdgpu.hintonTeacher('teacher').build(ctx, [1, 28, 28], { seed });
  const teacherRun = await kdgpu.train(teacher, mnist.train, { epochs: teacherEpochs, batchSize, seed, optimizer: adam(), augment: { maxShift: 2 }, ...checkpoint(`teacher-e${teacherEpochs}-d${decay}-s${seed}`), ...log('teacher', teacherEpochs) });
  teacherEval = await report(teacher, 'teacher 1200-1200, dropout + jitter', 67, teacherRun, teacherEpochs);
}

const alone = kdgpu.hintonStudent('student').build(ctx, [1, 28, 28], { seed: seed + 1 });
const aloneRun = await kdgpu.train(alone, mnist.train, { epochs: studentEpochs, batchSize, seed, optimizer: adam(), ...studentData, ...checkpoint(`alone-e${studentEpochs}-d${decay}${jitterTag}-s${seed}`), ...log('student alone', studentEpochs) });
const aloneEval = await report(alone, `student 800-800 alone${jitter ? `, jitter ±${jitter} px` : ''}`, 146, aloneRun, studentEpochs);

const distilled = kdgpu.hintonStudent('distilled').build(ctx, [1, 28, 28], { seed: seed + 1 });
// Without jitter the teacher's logits are the same every epoch: run it once. With jitter it
// sees each shifted batch (the same shifts as the student alone's, from the same seed).
const kdRun = await kdgpu.distill(distilled, mnist.train, { teacher, temperature, hardWeight, epochs: studentEpochs, batchSize, seed, optimizer: adam(), ...(jitter > 0 ? studentData : { cacheTeacherLogits: true }), ...checkpoint(`distilled-${{ 'hinton-mlp': `hinton-mlp${teacherEpochs}`, 'mnist-teacher': 'mnist-teacher', 'torch-file': `torch-${teacherSha256?.slice(0, 12)}` }[teacherKind]}-T${temperature}-h${hardWeight}-e${studentEpochs}-d${decay}${jitterTag}-s${seed}`), ...log('distilled', studentEpochs) });
const kdEval = await report(distilled, `student 800-800 distilled, T = ${temperature}${jitter ? `, jitter ±${jitter} px` : ''}`, 74, kdRun, studentEpochs);

// The paper's distilled student closes (146 − 74) / (146 − 67) = 91 % of the gap.
const gapClosed = (aloneEval.errors - kdEval.errors) / (aloneEval.errors - teacherEval.errors);
const paired = kdgpu.pairedComparison(kdEval.predictions, aloneEval.predictions, mnist.test.labels);
const totalSeconds = (performance.now() - started) / 1000;
const table = [
  '| model | test errors (kdgpu) | test errors (paper) | epochs | train time |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.name} | ${r.errors} | ${r.paper} | ${r.epochs ?? '(shipped)'} | ${r.seconds === null ? '–' : `${r.seconds.toFixed(0)} s`} |`),
].join('\n');
console.log(`\n${table}\n`);
console.log(`gap closed by distillation: ${(gapClosed * 100).toFixed(1)} % of (alone − teacher) = ${aloneEval.errors - teacherEval.errors} errors (paper 91 %)`);
console.log(`distilled vs alone on the same ${paired.count} test images: distilled alone right on ${paired.onlyA}, alone alone right on ${paired.onlyB}; McNemar exact p = ${paired.pValue.toPrecision(3)}`);
console.log(`total ${totalSeconds.toFixed(0)} s on ${ctx.adapterInfo.description || ctx.adapterInfo.vendor}; hardWeight (hard-loss weight) = ${hardWeight}, T = ${temperature}, student jitter ±${jitter} px, Adam 1e-3 decayed ×${decay} per epoch, batch ${batchSize}`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), command: `node examples/hinton-mnist.mjs ${args.join(' ')}`, device: ctx.adapterInfo, teacher: teacherKind, teacherFile, teacherSha256, hardWeight, temperature, jitter, batchSize, decay, seed, rows, gapClosed, paired, totalSeconds }, null, 2)}\n`);
ctx.dispose();
