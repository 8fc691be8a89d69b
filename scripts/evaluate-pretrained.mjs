#!/usr/bin/env node
// Measures a shipped teacher's robustness with the AutoAttack-style cascade (APGD-CE, APGD-T
// with 9 targets, Square with 5,000 queries; L∞) beside PGD-40 on the first 1,000 MNIST test
// images, and records the cascade's numbers in its manifest (models/NAME.json, field
// accuracy.robust.autoattack_eps<ε>; the weights and their sha256 are untouched).
//   npm run build && node scripts/evaluate-pretrained.mjs NAME [--epsilons 0.1,0.3] [--images 1000] [--models DIR]
// --models: the folder holding NAME.safetensors and NAME.json (default models/; e.g. a candidate
// written by train-pretrained.mjs --models).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kdgpu from '../dist/kdgpu.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...rest] = process.argv.slice(2);
if (!kdgpu.PRETRAINED_NAMES.includes(name)) {
  console.error(`usage: node scripts/evaluate-pretrained.mjs NAME [--epsilons 0.1,0.3] [--images 1000] [--models DIR]\nNAME is one of: ${kdgpu.PRETRAINED_NAMES.join(', ')}`);
  process.exit(2);
}
const option = (flag, fallback) => (rest.includes(flag) ? rest[rest.indexOf(flag) + 1] : fallback);
const epsilons = option('--epsilons', '0.1,0.3').split(',').map(Number);
const images = Number(option('--images', 1000));
const modelsDir = option('--models', join(root, 'models'));
if (!epsilons.every((e) => e > 0 && e < 1) || !Number.isInteger(images) || images < 1) throw new Error('evaluate-pretrained: --epsilons must be in (0, 1) and --images a positive integer');
const log = (line) => console.log(`[${new Date().toISOString()}] ${line}`);

const ctx = await kdgpu.init();
const model = await kdgpu.pretrained(ctx, name, { directory: modelsDir });
const attacked = kdgpu.subset((await kdgpu.loadMnistFromDirectory()).test, 0, images);
log(`${name}: ${attacked.count} test images, ε ${epsilons.join(', ')}`);
const attacks = [
  { name: 'pgd40-ce', kind: 'pgd', loss: 'ce', steps: 40 },
  { name: 'autoattack', kind: 'autoattack', steps: 100, targets: 9, queries: 5000 },
];
// A line per batch: on a software GPU the cascade on a robust model runs for an hour or more.
const onProgress = (p) => log(`    ${p.attack} ε ${p.epsilon}: ${p.stage} ${p.done}/${p.total} images (${p.seconds.toFixed(0)} s)`);
const curve = await kdgpu.robustAccuracyCurve(model, attacked, { epsilons, attacks, seed: 1, onProgress });
for (const c of curve.curves) log(`  ${c.name}: ${curve.epsilons.map((e, k) => `ε ${e} ${(100 * c.accuracy[k]).toFixed(1)}%`).join(', ')}`);
for (const f of curve.flags) log(`  SANITY FLAG ${f.check}: ${f.message}`);
log(`clean on these images ${(100 * curve.clean).toFixed(1)}%; ${curve.seconds.toFixed(0)} s`);

const manifestPath = join(modelsDir, `${name}.json`);
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const cascade = curve.curves.find((c) => c.name === 'autoattack');
manifest.accuracy.robust ??= {};
// The curve ends with the unbounded ε = 1 sanity check; only the asked-for radii are recorded.
curve.epsilons.forEach((e, k) => {
  if (epsilons.includes(e)) manifest.accuracy.robust[`autoattack_eps${e}`] = cascade.accuracy[k];
});
const adapter = kdgpu.adapterLabel(ctx.adapterInfo);
manifest.accuracy.autoattack = `APGD-CE, APGD-T (9 targets), Square (5,000 queries), 100 iterations, L∞, seed 1, on the first ${attacked.count} test images: node scripts/evaluate-pretrained.mjs ${process.argv.slice(2).join(' ')} (${new Date().toISOString()}, adapter ${adapter}); sanity flags: ${curve.flags.map((f) => f.check).join(', ') || 'none'}`;
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
log(`recorded the cascade in ${manifestPath}`);
model.dispose();
ctx.dispose();
