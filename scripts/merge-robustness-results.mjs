#!/usr/bin/env node
// Joins the parts of a robustness run evaluated in separate processes (robust-distillation.mjs
// --evaluate NAME --json PART) into one results file, in the order given. Refuses parts whose
// settings or data differ (their numbers would not be comparable), except for the list of ε:
// a part attacked at fewer ε (to save time) merges, and the tables show '–' where it has none.
// One model evaluated at different ε in different parts (--evaluate NAME --epsilons 0.1, then
// 0.3) joins into one entry: its clean accuracy, corruptions and calibration must agree (same
// weights, same seeds), its ε must not overlap (the unbounded ε, attacked by every part, keeps
// the lowest accuracy any part found), and its sanity flags are recomputed over the joined
// curves (needs dist/: npm run build).
//   node scripts/merge-robustness-results.mjs OUT.json PART.json [PART.json ...]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [outPath, ...parts] = process.argv.slice(2);
if (!outPath || parts.length === 0) {
  console.error('usage: node scripts/merge-robustness-results.mjs OUT.json PART.json [PART.json ...]');
  process.exit(2);
}
// The settings every part must share: all of them but the ε list (each ε is attacked on its own).
const comparable = (value) => (value && 'epsilons' in value ? { ...value, epsilons: undefined } : value);
const reports = parts.map((path) => ({ path, report: JSON.parse(readFileSync(path, 'utf8')) }));
const [first] = reports;
for (const { path, report } of reports.slice(1)) {
  for (const key of ['settings', 'data']) {
    if (JSON.stringify(comparable(report[key])) !== JSON.stringify(comparable(first.report[key]))) {
      throw new Error(`merge-robustness-results: ${path} has other ${key} than ${first.path}; run every part with the same options`);
    }
  }
}
const entries = reports.flatMap(({ path, report }) => report.models.map((model) => ({ path, model })));
const names = [...new Set(entries.map(({ model }) => model.name))];
const models = [];
for (const name of names) {
  const same = entries.filter(({ model }) => model.name === name);
  models.push(same.length === 1 ? same[0].model : await joinEpsilonParts(same));
}
const merged = {
  ...first.report,
  command: reports.map(({ report }) => report.command).join('; '),
  parts: reports.map(({ path, report }) => ({ path, command: report.command, date: report.date, seconds: report.seconds, models: report.models.map((m) => m.name) })),
  date: reports.map(({ report }) => report.date).sort().at(-1),
  seconds: Math.max(...reports.map(({ report }) => report.seconds)),
  settings: { ...first.report.settings, epsilons: [...new Set(reports.flatMap(({ report }) => report.settings.epsilons))].sort((a, b) => a - b) },
  models,
};
writeFileSync(outPath, `${JSON.stringify(merged, null, 2)}\n`);
console.log(`merge-robustness-results: ${models.length} models (${names.join(', ')}) from ${parts.length} parts into ${outPath}`);

// One model's parts, each attacked at other ε, as one entry (see the header).
async function joinEpsilonParts(same) {
  const [head, ...rest] = same;
  const where = same.map(({ path }) => path).join(', ');
  for (const { path, model } of rest) {
    for (const key of ['parameters', 'clean', 'corruptions', 'meanCorruptionError', 'calibration']) {
      if (JSON.stringify(model[key]) !== JSON.stringify(head.model[key])) {
        throw new Error(`merge-robustness-results: model ${model.name} has other ${key} in ${path} than in ${head.path}; join only parts of the same weights evaluated with the same options`);
      }
    }
    for (const key of ['count', 'clean', 'unboundedEpsilon']) {
      if (model.attacks[key] !== head.model.attacks[key]) throw new Error(`merge-robustness-results: model ${model.name} has other attacks.${key} in ${path} than in ${head.path}`);
    }
    const curveNames = (m) => JSON.stringify(m.attacks.curves.map((c) => [c.name, (c.stages ?? []).map((st) => st.name)]));
    if (curveNames(model) !== curveNames(head.model)) throw new Error(`merge-robustness-results: model ${model.name} ran other attacks in ${path} than in ${head.path}`);
  }
  const unbounded = head.model.attacks.unboundedEpsilon;
  const bounded = same.flatMap(({ model }) => model.attacks.epsilons.filter((e) => e !== unbounded));
  const twice = bounded.find((e, i) => bounded.indexOf(e) !== i);
  if (twice !== undefined) throw new Error(`merge-robustness-results: model ${head.model.name} is attacked at ε = ${twice} in more than one of ${where}; give each ε to one part`);
  const epsilons = [...bounded.sort((a, b) => a - b), unbounded];
  // Accuracy at ε of one curve (or stage), picked by index path from the part that attacked ε;
  // at the unbounded ε every part attacked, so the lowest (strongest attack found) counts.
  const valueAt = (e, pick) => {
    const values = same.filter(({ model }) => model.attacks.epsilons.includes(e)).map(({ model }) => pick(model)[model.attacks.epsilons.indexOf(e)]);
    return Math.min(...values);
  };
  const curves = head.model.attacks.curves.map((curve, c) => ({
    ...curve,
    accuracy: epsilons.map((e) => valueAt(e, (m) => m.attacks.curves[c].accuracy)),
    ...(curve.stages ? { stages: curve.stages.map((stage, s) => ({ ...stage, accuracy: epsilons.map((e) => valueAt(e, (m) => m.attacks.curves[c].stages[s].accuracy)) })) } : {}),
  }));
  const dist = fileURLToPath(new URL('../dist/kdgpu.js', import.meta.url));
  const { sanityFlags } = await import(dist).catch((error) => {
    throw new Error(`merge-robustness-results: joining ${head.model.name}'s parts recomputes its sanity flags with the library at ${dist}, which did not load (${error.message}); run npm run build first`);
  });
  const { count, clean } = head.model.attacks;
  const flags = sanityFlags({ clean, count, epsilons, unbounded: true, curves });
  const seconds = same.reduce((sum, { model }) => sum + (model.attacks.seconds ?? 0), 0);
  return { ...head.model, attacks: { ...head.model.attacks, epsilons, curves, flags, seconds } };
}
