#!/usr/bin/env node
// Defensive distillation (Papernot et al. 2016) and why its robustness is only apparent
// (Carlini & Wagner 2017), on full MNIST: a seed CNN trained plainly, a teacher trained at
// temperature T, and a student distilled from it at T (then used at T = 1). Each is attacked
// on the first 1,000 test images at ε = 0.1 and 0.2 (L∞) by softmax-CE FGSM (what a naive
// evaluation runs), PGD-40 on CE, PGD-40 on the CW margin, APGD-DLR and the AutoAttack-style
// cascade (APGD-CE, APGD-T, Square), with the sanity flags. Writes JSON and prints a table.
//   npm run build && node scripts/defensive-distillation.mjs [--epochs N] [--temperature T] [--json FILE]
//     [--models plain,defensive] [--no-autoattack]   (the cascade costs most of the run)
import { writeFileSync } from 'node:fs';
import * as kdgpu from '../dist/kdgpu.js';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const epochs = Number(option('--epochs', 2));
const temperature = Number(option('--temperature', 100));
const jsonPath = option('--json', 'docs/defensive-distillation.json');
const epsilons = [0.1, 0.2];
const models = option('--models', 'plain,defensive').split(',');
const withCascade = !args.includes('--no-autoattack');
const log = (line) => console.log(`[${new Date().toISOString()}] ${line}`);

const ctx = await kdgpu.init();
const mnist = await kdgpu.loadMnistFromDirectory();
const attacked = kdgpu.subset(mnist.test, 0, 1000);
const fitOptions = (seed) => ({ epochs, batchSize: 64, seed, optimizer: new kdgpu.Adam({ learningRate: 1e-3 }) });
const started = Date.now();

const evaluated = [];
if (models.includes('plain')) {
  log(`plain seed CNN, ${epochs} epochs`);
  const plain = kdgpu.seedCnn('plain').build(ctx, [1, 28, 28], { seed: 1 });
  await kdgpu.train(plain, mnist.train, fitOptions(1));
  evaluated.push(plain);
}
if (models.includes('defensive')) {
  log(`teacher at T = ${temperature}, ${epochs} epochs`);
  const teacher = kdgpu.seedCnn('teacher-T').build(ctx, [1, 28, 28], { seed: 2 });
  await kdgpu.temperatureTrain(teacher, mnist.train, { ...fitOptions(2), temperature });
  log(`defensively distilled student at T = ${temperature}, ${epochs} epochs`);
  const student = kdgpu.seedCnn('defensive').build(ctx, [1, 28, 28], { seed: 1 });
  await kdgpu.defensiveDistill(student, mnist.train, { ...fitOptions(1), teacher, temperature });
  evaluated.push(student);
}

const attacks = [
  { name: 'fgsm-ce', kind: 'fgsm', loss: 'ce' },
  { name: 'pgd40-ce', kind: 'pgd', loss: 'ce', steps: 40 },
  { name: 'pgd40-margin', kind: 'pgd', loss: 'margin', steps: 40 },
  { name: 'apgd-dlr', kind: 'apgd', loss: 'dlr', steps: 100 },
  ...(withCascade ? [{ name: 'autoattack', kind: 'autoattack', steps: 100, targets: 9, queries: 5000 }] : []),
];
const rows = [];
for (const model of evaluated) {
  const clean = (await kdgpu.evaluate(model, mnist.test)).accuracy;
  log(`${model.name}: clean ${(100 * clean).toFixed(2)}% on ${mnist.test.count} test images; attacking ${attacked.count}`);
  const curve = await kdgpu.robustAccuracyCurve(model, attacked, { epsilons, attacks, seed: 1 });
  for (const c of curve.curves) log(`  ${c.name}: ${curve.epsilons.map((e, k) => `ε ${e} ${(100 * c.accuracy[k]).toFixed(1)}%`).join(', ')}`);
  for (const f of curve.flags) log(`  SANITY FLAG ${f.check}: ${f.message}`);
  rows.push({ model: model.name, clean, attackedClean: curve.clean, epsilons: curve.epsilons, curves: curve.curves.map(({ name, accuracy, stages }) => ({ name, accuracy, ...(stages ? { stages } : {}) })), flags: curve.flags, seconds: curve.seconds });
}
const seconds = (Date.now() - started) / 1000;
writeFileSync(jsonPath, `${JSON.stringify({ date: new Date().toISOString(), device: ctx.adapterInfo, epochs, temperature, attackedImages: attacked.count, rows, seconds }, null, 2)}\n`);
const pct = (v) => `${(100 * v).toFixed(1)}%`;
console.log(`\n| model | clean (10,000) | ${rows[0].curves.flatMap((c) => epsilons.map((e) => `${c.name} ε ${e}`)).join(' | ')} | flags |`);
console.log(`| --- | ---: | ${rows[0].curves.flatMap(() => epsilons.map(() => '---:')).join(' | ')} | --- |`);
for (const r of rows) console.log(`| ${r.model} | ${pct(r.clean)} | ${r.curves.flatMap((c) => epsilons.map((_, k) => pct(c.accuracy[k]))).join(' | ')} | ${r.flags.map((f) => `${f.check} (${f.attack}, ε ${f.epsilon})`).join('; ') || 'none'} |`);
log(`done in ${seconds.toFixed(0)} s; wrote ${jsonPath}`);
ctx.dispose();
