#!/usr/bin/env node
// Joins the parts of a robustness run evaluated in separate processes (robust-distillation.mjs
// --evaluate NAME --json PART) into one results file, in the order given. Refuses parts whose
// settings or data differ (their numbers would not be comparable), except for the list of ε:
// a part attacked at fewer ε (to save time) merges, and the tables show '–' where it has none.
//   node scripts/merge-robustness-results.mjs OUT.json PART.json [PART.json ...]
import { readFileSync, writeFileSync } from 'node:fs';

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
const models = reports.flatMap(({ report }) => report.models);
const names = models.map((m) => m.name);
const twice = names.find((name, i) => names.indexOf(name) !== i);
if (twice) throw new Error(`merge-robustness-results: model ${twice} is in more than one part`);
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
