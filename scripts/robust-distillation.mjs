#!/usr/bin/env node
// Robust distillation on full MNIST (issue 12, item 5): a robust teacher distilled into the seed
// CNN by ARD and RSLAD, beside the seed CNN trained alone, distilled (KD) from the standard
// teacher, and trained directly with TRADES. The students start from the same weights. Every
// model, both teachers included, is evaluated as `kdgpu robustness` does (runRobustness):
// clean accuracy on the 10,000 test images; FGSM, PGD-40 (CE and CW margin) and the
// AutoAttack-style cascade (APGD-CE, APGD-T, Square) on the first --attack-images test images
// at each ε, with the sanity flags; the 15 MNIST-C corruptions (mCE); ECE before and after
// temperature scaling fitted on the held-out images 55,000-59,999.
//
//   npm run build && node scripts/robust-distillation.mjs [--robust-teacher FILE]
//     [--epochs 10] [--inner pgd10|fgsm-rs] [--train-images 55000] [--attack-images 1000]
//     [--epsilons 0.1,0.3] [--no-autoattack] [--runs runs/robust-distillation]
//     [--json docs/robust-distillation/results.json] [--train-only NAME,NAME] [--evaluate NAME,NAME]
//
// --robust-teacher: the teacherCnn weights (safetensors) of the robust teacher (default
// models/mnist-robust-teacher.safetensors, written by scripts/train-pretrained.mjs).
// --inner: the attack inside ARD, RSLAD and TRADES at ε = 0.3: 'pgd10' (10 steps of ε/4 from a
// random start, as TRADES on MNIST; the default) or 'fgsm-rs' (one FGSM step of 1.25·ε from a
// random start; ~4× cheaper, but single-step training of the teacher CNN at ε = 0.3 overfitted
// catastrophically twice: docs/pretrained/mnist-robust-teacher-attempt-*). Both ramp ε from 0
// over the first two epochs. ARD and RSLAD feed the robust teacher's logits computed once
// (cacheTeacherLogits): the teacher only ever sees the clean images.
// --train-only: train (or resume) just these students, e.g. student-alone,student-kd,student-trades
// (which need no robust teacher), and stop without evaluating.
// --evaluate: evaluate (and train or resume first) only these models, among teacher (the shipped
// mnist-teacher), robust-teacher and the students; processes running side by side on one GPU
// each write their part (--json), and scripts/merge-robustness-results.mjs joins the parts (every model's numbers are its
// own: the same seeds, attacks and corruptions whichever models share a run).
// Every student checkpoints every 100 steps under --runs (ARD, RSLAD and TRADES in folders named
// after --inner too), so a killed run resumes bit-exactly.
// Then print the tables: node scripts/robustness-table.mjs docs/robust-distillation/results.json
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bundleKdgpu, root } from '../bench/profile-tools.mjs';

const args = process.argv.slice(2);
const KNOWN = { '--robust-teacher': 1, '--epochs': 1, '--inner': 1, '--train-images': 1, '--attack-images': 1, '--epsilons': 1, '--runs': 1, '--json': 1, '--no-autoattack': 0, '--train-only': 1, '--evaluate': 1 };
for (let i = 0; i < args.length; i += 1 + (KNOWN[args[i]] ?? 0)) {
  if (!(args[i] in KNOWN)) throw new Error(`robust-distillation: unknown option ${args[i]} (known: ${Object.keys(KNOWN).join(', ')})`);
  if (KNOWN[args[i]] && args[i + 1] === undefined) throw new Error(`robust-distillation: ${args[i]} needs a value`);
}
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const integer = (name, fallback) => {
  const value = Number(option(name, fallback));
  if (!Number.isInteger(value) || value < 1) throw new Error(`robust-distillation: ${name} must be a positive integer, got ${option(name, fallback)}`);
  return value;
};
const robustTeacherPath = option('--robust-teacher', join(root, 'models', 'mnist-robust-teacher.safetensors'));
const epochs = integer('--epochs', 10);
const inner = option('--inner', 'pgd10');
if (!['fgsm-rs', 'pgd10'].includes(inner)) throw new Error(`robust-distillation: --inner must be fgsm-rs or pgd10, got ${inner}`);
const trainImages = integer('--train-images', 55000);
const attackImages = integer('--attack-images', 1000);
const epsilons = option('--epsilons', '0.1,0.3').split(',').map(Number);
if (!epsilons.every((e) => e > 0 && e < 1)) throw new Error(`robust-distillation: --epsilons must be numbers in (0, 1), got ${option('--epsilons')}`);
const runs = option('--runs', join(root, 'runs', 'robust-distillation'));
const jsonPath = option('--json', join(root, 'docs', 'robust-distillation', 'results.json'));
const STUDENTS = ['student-alone', 'student-kd', 'student-ard', 'student-rslad', 'student-trades'];
const trainOnly = args.includes('--train-only') ? option('--train-only').split(',') : undefined;
const unknownStudent = trainOnly?.find((name) => !STUDENTS.includes(name));
if (unknownStudent) throw new Error(`robust-distillation: --train-only names students among ${STUDENTS.join(', ')}; got ${unknownStudent}`);
const TEACHERS = ['teacher', 'robust-teacher']; // the model names: mnist-teacher's is 'teacher'
const evaluateOnly = args.includes('--evaluate') ? option('--evaluate').split(',') : undefined;
const unknownModel = evaluateOnly?.find((name) => ![...TEACHERS, ...STUDENTS].includes(name));
if (unknownModel) throw new Error(`robust-distillation: --evaluate names models among ${[...TEACHERS, ...STUDENTS].join(', ')}; got ${unknownModel}`);
if (trainOnly && evaluateOnly) throw new Error('robust-distillation: give --train-only or --evaluate, not both');
const wanted = (name) => (trainOnly ?? evaluateOnly ?? [...TEACHERS, ...STUDENTS]).includes(name);
const needsRobustTeacher = ['student-ard', 'student-rslad', ...(trainOnly ? [] : ['robust-teacher'])].some(wanted);
if (needsRobustTeacher && !existsSync(robustTeacherPath)) {
  throw new Error(`robust-distillation: no robust teacher at ${robustTeacherPath}; train it with node scripts/train-pretrained.mjs mnist-robust-teacher or pass --robust-teacher FILE`);
}

const kdgpu = await bundleKdgpu('robust-distillation', {
  stdin: `export * from './src/index.ts';\nexport { runRobustness } from './src/cli/robustness.ts';`,
});
const log = (line) => console.log(`[${new Date().toISOString()}] ${line}`);
const started = Date.now();
const ctx = await kdgpu.init();
const mnist = await kdgpu.loadMnistFromDirectory();
const { train: all, validation: heldOut } = kdgpu.split(mnist.train, 5000);
const train = kdgpu.subset(all, 0, Math.min(trainImages, all.count));
const batchSize = 64;
const stepsPerEpoch = Math.floor(train.count / batchSize);

const teacher = await kdgpu.pretrained(ctx, 'mnist-teacher', { directory: join(root, 'models') });
const robustTeacher = kdgpu.teacherCnn('robust-teacher').build(ctx, [1, 28, 28], { seed: 0 });
if (needsRobustTeacher) kdgpu.loadParametersInto(robustTeacher.state(), new Uint8Array(readFileSync(robustTeacherPath)), { source: robustTeacherPath });

const EPSILON = 0.3;
const attack = {
  ...(inner === 'pgd10' ? { steps: 10, relativeStepSize: 0.25 } : { steps: 1, stepSize: 1.25 * EPSILON }),
  epsilon: EPSILON,
  seed: 7,
  epsilonRampSteps: 2 * stepsPerEpoch,
};
const attackText = `${inner === 'pgd10' ? 'PGD-10 (step ε/4)' : 'FGSM (step 1.25·ε)'} from a random start at ε = ${EPSILON}, ε ramped from 0 over 2 epochs`;
const fitOptions = (name) => ({
  epochs,
  batchSize,
  seed: 1,
  optimizer: new kdgpu.Adam({ learningRate: (t) => 1e-3 * 0.8 ** Math.floor((t - 1) / stepsPerEpoch) }),
  checkpoint: kdgpu.fileCheckpoint(join(runs, name)),
  checkpointEvery: 100,
  onStep: ({ epoch, step }) => step % 200 === 0 && log(`  ${name} epoch ${epoch}/${epochs} step ${step}/${stepsPerEpoch}`),
  onEpoch: (s) => log(`  ${name} epoch ${s.epoch}/${epochs}: loss ${s.loss.toFixed(4)} (${s.seconds.toFixed(0)} s)`),
});
const student = (name) => kdgpu.seedCnn(name).build(ctx, [1, 28, 28], { seed: 2 });
const schedule = `${epochs} epochs of ${train.count} images, batch ${batchSize}, Adam 1e-3 ×0.8 per epoch`;
const recipes = [
  { name: 'student-alone', role: 'seed CNN trained alone', training: `cross-entropy; ${schedule}`, run: (m) => kdgpu.train(m, train, fitOptions(m.name)) },
  {
    name: 'student-kd',
    role: 'seed CNN distilled (KD) from the standard teacher',
    training: `0.1·CE + 0.9·T²·KL, T = 4, teacher mnist-teacher; ${schedule}`,
    run: (m) => kdgpu.distill(m, train, { ...fitOptions(m.name), teacher, temperature: 4, hardWeight: 0.1, cacheTeacherLogits: true }),
  },
  {
    name: 'student-ard',
    role: 'seed CNN distilled by ARD from the robust teacher',
    training: `ARD: 0.1·CE(s(x), y) + 0.9·T²·KL(t(x) ‖ s(x′)), T = 4, x′ = ${attackText} on the student's CE; ${schedule}`,
    run: (m) => kdgpu.ardDistill(m, train, { ...fitOptions(`${m.name}-${inner}`), teacher: robustTeacher, temperature: 4, hardWeight: 0.1, attack, cacheTeacherLogits: true }),
  },
  {
    name: 'student-rslad',
    role: 'seed CNN distilled by RSLAD from the robust teacher',
    training: `RSLAD: 5/6·KL(t(x) ‖ s(x′)) + 1/6·KL(t(x) ‖ s(x)), x′ = ${attackText} on that KL; ${schedule}`,
    run: (m) => kdgpu.rsladDistill(m, train, { ...fitOptions(`${m.name}-${inner}`), teacher: robustTeacher, attack, cacheTeacherLogits: true }),
  },
  {
    name: 'student-trades',
    role: 'seed CNN trained directly with TRADES (no teacher)',
    training: `TRADES β = 6, x′ = ${attackText} on KL(f(x) ‖ f(x′)); ${schedule}`,
    run: (m) => kdgpu.tradesTrain(m, train, { ...fitOptions(`${m.name}-${inner}`), attack, beta: 6 }),
  },
];

const models = [
  { model: teacher, role: 'standard teacher (shipped mnist-teacher)', training: teacher.manifest.command },
  { model: robustTeacher, role: 'robust teacher', training: `weights from ${robustTeacherPath}` },
].filter(({ model }) => !trainOnly && wanted(model.name));
for (const recipe of recipes) {
  if (!wanted(recipe.name)) continue;
  const model = student(recipe.name);
  log(`${recipe.name}: ${recipe.training}`);
  const t0 = Date.now();
  await recipe.run(model);
  models.push({ model, role: recipe.role, training: `${recipe.training} (${Math.round((Date.now() - t0) / 1000)} s this run)` });
}

if (trainOnly) {
  log(`trained ${trainOnly.join(', ')} (checkpoints in ${runs}); run without --train-only to train the rest and evaluate`);
  teacher.dispose();
  robustTeacher.dispose();
  for (const { model } of models) model.dispose();
  ctx.dispose();
  process.exit(0);
}
log(`evaluating ${models.length} models: clean on ${mnist.test.count}, attacks on the first ${attackImages} test images at ε ${epsilons.join(', ')}`);
const results = await kdgpu.runRobustness(models, { test: mnist.test, heldOut }, {
  epsilons,
  pgdSteps: 40,
  autoattack: args.includes('--no-autoattack') ? false : { steps: 100, targets: 9, queries: 5000 },
  attackImages,
  log,
});
const report = { command: `node scripts/robust-distillation.mjs ${args.join(' ')}`, date: new Date().toISOString(), device: ctx.adapterInfo, seconds: Math.round((Date.now() - started) / 1000), ...results };
delete report.examples; // images for the HTML report; not needed here
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${jsonPath}; tables: node scripts/robustness-table.mjs ${jsonPath}`);
teacher.dispose();
robustTeacher.dispose();
for (const { model } of models) if (model !== teacher && model !== robustTeacher) model.dispose();
ctx.dispose();
