// robustness-table.mjs — prints the Markdown tables of a `kdgpu robustness` run from its
// robustness.json, so the committed tables (docs/robustness-*.md) come from the file, not
// from hand copying.
// Usage: node scripts/robustness-table.mjs OUT/robustness.json
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/robustness-table.mjs OUT/robustness.json');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const percent = (v) => (v == null ? '–' : `${(100 * v).toFixed(1)}%`);
const row = (cells) => `| ${cells.join(' | ')} |`;
const models = report.models;
// Columns by ε value, over every model: a merged run's parts may have been attacked at different ε.
const allEpsilons = [...new Set(models.flatMap((m) => m.attacks.epsilons))].sort((a, b) => a - b);
const epsilons = allEpsilons.filter((e) => models.every((m) => m.attacks.unboundedEpsilon !== e));
const at = (m, curve, e) => (m.attacks.epsilons.includes(e) ? curve.accuracy[m.attacks.epsilons.indexOf(e)] : null);

console.log('Accuracy on the attacked test images under the strongest attack at each ε (the minimum over the attacks run), mean corruption error (mCE, the mean over the 15 MNIST-C corruptions) and calibration:\n');
console.log(row(['model', 'clean (all test images)', ...epsilons.map((e) => `ε ${e}`), 'mCE', 'ECE (T=1 → fitted T)', 'sanity flags']));
console.log(row(['---', '---', ...epsilons.map(() => '---'), '---', '---', '---']));
for (const m of models) {
  const worst = epsilons.map((e) => (m.attacks.epsilons.includes(e) ? Math.min(...m.attacks.curves.map((c) => at(m, c, e))) : null));
  const calibration = `${m.calibration.before.ece.toFixed(4)} → ${m.calibration.after.ece.toFixed(4)} (T = ${m.calibration.temperature.toFixed(2)})`;
  const flags = m.attacks.flags.length ? m.attacks.flags.map((f) => f.check ?? f.name ?? JSON.stringify(f)).join('; ') : 'ok';
  console.log(row([m.name, percent(m.clean.accuracy), ...worst.map(percent), percent(m.meanCorruptionError), calibration, flags]));
}

console.log('\nEach attack separately (accuracy on the attacked images; the last column is the unbounded-ε sanity check):\n');
console.log(row(['model', 'attack', 'clean (attacked images)', ...allEpsilons.map((e) => `ε ${e}`)]));
console.log(row(['---', '---', '---', ...allEpsilons.map(() => '---')]));
for (const m of models) {
  for (const c of m.attacks.curves) console.log(row([m.name, c.name, percent(m.attacks.clean), ...allEpsilons.map((e) => percent(at(m, c, e)))]));
}

console.log('\nCorruption error per corruption (MNIST-C style, seeded; Gaussian noise at each severity):\n');
const names = models[0].corruptions.map((c) => (c.mnistC ? c.name : `${c.name} s${c.severity}`));
console.log(row(['corruption', ...models.map((m) => m.name)]));
console.log(row(['---', ...models.map(() => '---')]));
names.forEach((name, i) => console.log(row([name, ...models.map((m) => percent(m.corruptions[i].error))])));
console.log(row(['**mCE (mean of the 15 MNIST-C)**', ...models.map((m) => `**${percent(m.meanCorruptionError)}**`)]));
