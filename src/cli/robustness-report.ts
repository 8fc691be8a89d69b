import { ensureWritableDirectory } from '../io/directories.js';
import type { SanityCheck } from '../robust/attack-sanity.js';
import { accuracyChart, groupedBarChart, MODEL_COLOURS, reliabilityDiagram } from './robustness-charts.js';
import { type ModelRobustness, type RobustnessResults, type RobustnessSettings, settingLabel } from './robustness.js';
import { escapeHtml } from './svg.js';

/** robustness.json: the results of runRobustness with where, when and how they were made. */
export interface RobustnessReport extends Omit<RobustnessResults, 'data'> {
  kdgpu: string;
  date: string;
  device: string;
  /** Which command wrote it. */
  command: 'robustness' | 'demo';
  config: object;
  /** Whether the teacher that ARD (and RSLAD) distil from was adversarially trained. */
  teacherAdversariallyTrained: boolean;
  /** Image counts; train is null when the models were loaded. */
  data: RobustnessResults['data'] & { train: number | null };
  totalSeconds: number;
}

/** The sanity checks, in the words the report uses for a passed check. */
const CHECKS: [SanityCheck, string][] = [
  ['unbounded-attack-fails', 'unbounded iterative attacks (ε = 1) reach ≤ 5%'],
  ['accuracy-rises-with-epsilon', 'accuracy never rises with ε'],
  ['pgd-weaker-than-fgsm', 'iterative attacks at least as strong as FGSM'],
  ['gradient-masking-suspected', 'no sign of gradient masking'],
  ['black-box-beats-white-box', 'the black-box attack finds nothing the gradient attacks missed'],
];

/**
 * Writes `dir/robustness.json` and a self-contained `dir/robustness.html`; returns their paths.
 * @example await writeRobustnessReport('kdgpu-out', report);
 */
export async function writeRobustnessReport(dir: string, report: RobustnessReport): Promise<string[]> {
  const { writeFileAtomic } = await import('../io/atomic-write.js');
  await ensureWritableDirectory(dir);
  const json = `${dir}/robustness.json`;
  const html = `${dir}/robustness.html`;
  await writeFileAtomic(json, new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  await writeFileAtomic(html, new TextEncoder().encode(robustnessReportHtml(report)));
  return [json, html];
}

/**
 * A plain-text summary: per model the clean accuracy, the accuracy under the strongest of
 * the attacks at each ε, the mean corruption error, ECE before and after temperature
 * scaling, and the number of sanity flags.
 * @example console.log(robustnessTable(report));
 */
export function robustnessTable(report: Pick<RobustnessReport, 'models' | 'settings'>): string {
  const header = ['model', 'clean', ...report.settings.epsilons.map((e) => `ε ${e}`), 'mCE', 'ECE', 'ECE (T)', 'flags'];
  const rows = report.models.map((m) => [
    m.name,
    pct(m.clean.accuracy),
    ...report.settings.epsilons.map((_, k) => pct(worstAccuracy(m, k))),
    pct(m.meanCorruptionError),
    m.calibration.before.ece.toFixed(4),
    m.calibration.after.ece.toFixed(4),
    m.attacks.flags.length === 0 ? 'ok' : String(m.attacks.flags.length),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const count = report.models[0]?.attacks.count ?? 0;
  const note =
    `ε columns: accuracy under the strongest of ${report.settings.attacks.map((a) => a.name).join(', ')} (L∞) on the ${count} attacked images ` +
    `(95 % interval within ±${(100 * halfWidth95(count)).toFixed(1)} points); mCE: mean error over the 15 MNIST-C corruptions`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), note].join('\n');
}

/** The robustness report as one HTML page: inline SVG charts and PNG data URIs, no scripts. */
export function robustnessReportHtml(report: RobustnessReport): string {
  const s = report.settings;
  const flagCount = report.models.reduce((n, m) => n + m.attacks.flags.length, 0);
  const pgd = s.attacks.find((a) => a.kind === 'pgd') as Extract<RobustnessSettings['attacks'][number], { kind: 'fgsm' | 'pgd' }>;
  const autoattack = s.attacks.find((a) => a.kind === 'autoattack') as Extract<RobustnessSettings['attacks'][number], { kind: 'autoattack' }> | undefined;
  const relative = pgd.relativeStepSize!;
  const stepRule = `step size α = ${Number(relative.toPrecision(4))}·ε${Math.abs(relative - 2.5 / pgd.steps) < 1e-12 ? ` (2.5·ε / ${pgd.steps} steps, Madry et al.)` : ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kdgpu robustness report</title>
<style>
body{font-family:sans-serif;margin:24px;max-width:1180px;color:#222;line-height:1.4}
h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}
td.l,th.l{text-align:left}
td.name,td.nowrap{white-space:nowrap}
th{background:#f4f4f4}
.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.banner{padding:10px 14px;border-radius:6px;font-size:16px;margin:12px 0}
.ok{background:#e6f4ea;border:2px solid #2e7d32;color:#1b5e20}
.bad{background:#fdecea;border:2px solid #c62828;color:#8e0000}
td.ok,td.bad{border-width:1px;text-align:center;font-weight:bold}
ul.flags li{color:#8e0000;margin:4px 0}
.strip img{width:56px;height:56px;image-rendering:pixelated;display:block;margin:auto;border:1px solid #ccc}
.strip td{text-align:center;padding:2px 4px;font-size:12px}
.wrong{color:#c62828;font-weight:bold}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid #ddd;border-radius:4px;padding:4px;width:112px;text-align:center;font-size:11px}
.card img{width:56px;height:56px;image-rendering:pixelated;border:1px solid #ccc}
.pred{display:inline-block;padding:0 3px;margin:1px;border-radius:3px;color:#fff}
.pred.wrong{outline:2px solid #c62828;background:#fff!important;color:#c62828}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
code{background:#f4f4f4;padding:1px 4px}
code.wrap{word-break:break-all}
.small{font-size:12px;color:#555}
</style></head>
<body>
<h1>Robustness of a teacher and its students on MNIST</h1>
<p>${escapeHtml(report.date)} · ${escapeHtml(report.device)} · written by <code>kdgpu ${report.command}</code> ·
${report.data.train === null ? 'models loaded from files' : `${report.data.train} training images`}, ${report.data.heldOut} held-out (temperature fitting),
${report.data.test} test images (clean, corruptions, calibration), the first ${report.data.attack} of them attacked · total ${report.totalSeconds.toFixed(0)} s
${(report.config as { quick?: boolean }).quick ? ' · <b>--quick</b> run' : ''}</p>
<p>The teacher that the ARD${report.models.some((m) => m.name === 'student-rslad') ? ' and RSLAD students distil' : ' student distils'} from was <b>${report.teacherAdversariallyTrained ? 'adversarially trained (Madry PGD)' : 'not adversarially trained'}</b>.
Every evaluation uses the raw logits at T = 1 (temperature scaling only in the calibration section).</p>
<div class="banner ${flagCount === 0 ? 'ok' : 'bad'}">${
    flagCount === 0
      ? `✓ Attack sanity checks passed for all ${report.models.length} models: ${CHECKS.map(([, text]) => text).join('; ')}.`
      : `✗ ${flagCount} attack sanity flag${flagCount === 1 ? '' : 's'} raised: the robust accuracies marked below may overstate robustness (see the list).`
  }</div>
${sanityTable(report.models)}
${modelsTable(report.models)}

<h2>Adversarial accuracy (L∞)</h2>
<p>Accuracy on the ${report.data.attack} attacked test images: an image counts as robust if it is classified correctly clean and under the attack.
FGSM: one signed-gradient step of size ε on the cross-entropy. PGD: ${pgd.steps} steps, ${stepRule}, ${pgd.restarts} random start${pgd.restarts === 1 ? '' : 's'} in the ε-ball
(strongest kept per image), on the cross-entropy (CE) or the Carlini–Wagner margin max<sub>c≠y</sub> z<sub>c</sub> − z<sub>y</sub>.${
    autoattack
      ? ` autoattack: the white-box part of AutoAttack (Croce &amp; Hein 2020): APGD-CE (${autoattack.steps} iterations, momentum 0.75, per-image step 2ε halved at the paper's checkpoints) on every attacked image,
then APGD-T (targeted DLR loss, ${autoattack.targets} target classes, ${autoattack.steps} iterations each)${autoattack.queries > 0 ? ` and the black-box Square attack (${autoattack.queries} queries, CW margin, p<sub>init</sub> 0.8)` : ''} on the images still robust; an image counts only if it survives every run.
If Square fools more than 1 % of the images the gradient attacks left robust, the model is flagged (black-box-beats-white-box: masked gradients).`
      : ''
  } ε = 0 is the clean accuracy;
ε = ${s.unboundedEpsilon} (every image reachable) is the sanity check and is only in the table.
With ${report.data.attack} attacked images each accuracy carries a 95 % interval of up to ±${(100 * halfWidth95(report.data.attack)).toFixed(1)} points (at 50 %; narrower near 0 and 100 %; hover a cell for its Wilson interval).</p>
<p>${legend(report.models)}</p>
<div class="charts">
${s.attacks.map((a) => accuracyChart(`${a.name}: accuracy vs ε`, report.models.map((m) => curveSeries(m, a.name)), s.epsilons)).join('\n')}
</div>
${attackTable(report.models, s.epsilons)}

<h2>Adversarial examples</h2>
<p>${escapeHtml(report.examples.adversarial.attack)} at ε = ${report.examples.adversarial.epsilon}, per model: the perturbation (grey = unchanged, white = +ε, black = −ε),
the adversarial image and the prediction clean → adversarial (<span class="wrong">red</span>: wrong).</p>
${adversarialStrip(report)}

<h2>Corruptions (MNIST-C)</h2>
<p>Test error on the ${report.data.test} test images under each of the 15 MNIST-C corruptions (Mu &amp; Gilmer 2019) at the benchmark's severity, and under Gaussian noise
at severities 1–5 (seed ${s.corruptionSeed}). <b>Mean corruption error (mCE)</b> = the mean of the 15 MNIST-C errors, unnormalised (no baseline model), Gaussian noise not included.</p>
<div class="charts">
${groupedBarChart(
  'Test error per corruption (lower is better)',
  [...report.models[0]!.corruptions.map((c, k) => ({ label: settingLabel(c), values: report.models.map((m) => m.corruptions[k]!.error) })), { label: 'mCE (15 MNIST-C)', values: report.models.map((m) => m.meanCorruptionError) }],
  report.models.map((m) => m.name),
  { width: 700 },
)}
</div>
<p>Test image ${report.examples.corrupted.index} (label ${report.examples.corrupted.label}) under every corruption, with each model's prediction
(${legend(report.models)}; red outline: wrong).</p>
${corruptedCards(report)}

<h2>Calibration</h2>
<p>ECE with ${s.calibrationBins} equal-width confidence bins, NLL (nats) and the multi-class Brier score (sum over classes, 0 to 2) on the test images, at T = 1 and after
temperature scaling with T fitted by minimising NLL on the ${report.data.heldOut} held-out training images (never the test set).</p>
${calibrationTable(report.models)}
<div class="charts">
${report.models
  .map((m) =>
    [
      reliabilityDiagram(`${m.name}, T = 1`, `ECE ${m.calibration.before.ece.toFixed(4)}`, m.calibration.before.bins),
      reliabilityDiagram(`${m.name}, T = ${m.calibration.temperature.toFixed(2)}`, `ECE ${m.calibration.after.ece.toFixed(4)}`, m.calibration.after.bins),
    ].join(''),
  )
  .join('\n')}
</div>
<p class="small">Bars: accuracy of the samples in each confidence bin; red: the gap to their mean confidence; dashed: perfect calibration.</p>

<h2>Settings</h2>
<p class="small">Attack seed ${s.attackSeed}; ε ∈ {${s.epsilons.join(', ')}} plus ${s.unboundedEpsilon}; examples at ε = ${s.exampleEpsilon}.
Configuration: <code class="wrap">${escapeHtml(JSON.stringify(report.config))}</code>. Machine-readable results: <code>robustness.json</code> beside this file.</p>
</body></html>
`;
}

/** Colour swatches naming the models, as the charts colour them. */
function legend(models: readonly ModelRobustness[]): string {
  return models.map((m, i) => `<span class="swatch" style="background:${MODEL_COLOURS[i % MODEL_COLOURS.length]}"></span>${escapeHtml(m.name)}`).join(', ');
}

function sanityTable(models: readonly ModelRobustness[]): string {
  const rows = models.map((m) => {
    const cells = CHECKS.map(([check]) => {
      const n = m.attacks.flags.filter((f) => f.check === check).length;
      return n === 0 ? '<td class="ok">✓ passed</td>' : `<td class="bad">✗ ${n} flag${n === 1 ? '' : 's'}</td>`;
    });
    return `<tr><td class="l">${escapeHtml(m.name)}</td>${cells.join('')}</tr>`;
  });
  const messages = models.flatMap((m) => m.attacks.flags.map((f) => `<li><b>${escapeHtml(m.name)}</b> (${escapeHtml(f.check)}): ${escapeHtml(f.message)}</li>`));
  return `<table><tr><th class="l">sanity checks</th>${CHECKS.map(([, text]) => `<th>${escapeHtml(text)}</th>`).join('')}</tr>
${rows.join('\n')}</table>
${messages.length > 0 ? `<ul class="flags">${messages.join('\n')}</ul>` : ''}`;
}

function modelsTable(models: readonly ModelRobustness[]): string {
  const rows = models.map(
    (m, i) =>
      `<tr><td class="l name"><span class="swatch" style="background:${MODEL_COLOURS[i % MODEL_COLOURS.length]}"></span>${escapeHtml(m.name)}</td><td class="l">${escapeHtml(m.role)}</td>` +
      `<td class="l small">${escapeHtml(m.training ?? '')}</td><td>${m.parameters.toLocaleString('en')}</td><td>${pct(m.clean.accuracy)}</td>` +
      `<td>${pct(m.meanCorruptionError)}</td><td class="nowrap">${m.calibration.before.ece.toFixed(4)} → ${m.calibration.after.ece.toFixed(4)}</td></tr>`,
  );
  return `<table><tr><th class="l">model</th><th class="l">role</th><th class="l">training</th><th>parameters</th><th>clean test accuracy</th><th>mCE</th><th>ECE (T = 1 → fitted T)</th></tr>
${rows.join('\n')}</table>`;
}

function attackTable(models: readonly ModelRobustness[], epsilons: readonly number[]): string {
  const first = models[0]!.attacks;
  const head = first.curves.map((c) => `<th colspan="${first.epsilons.length}">${escapeHtml(c.name)}</th>`).join('');
  const sub = first.curves.map(() => first.epsilons.map((e) => `<th>${e}</th>`).join('')).join('');
  const rows = models.map((m) => {
    const flagged = new Set(m.attacks.flags.map((f) => `${f.attack}@${f.epsilon}`));
    const cells = m.attacks.curves
      .map((c) => c.accuracy.map((a, k) => `<td${flagged.has(`${c.name}@${m.attacks.epsilons[k]}`) ? ' class="bad"' : ''} title="95 % interval ${wilsonText(a, m.attacks.count)}">${pct(a)}</td>`).join(''))
      .join('');
    return `<tr><td class="l">${escapeHtml(m.name)}</td><td>${pct(m.attacks.clean)}</td>${cells}</tr>`;
  });
  return `<table><tr><th class="l" rowspan="2">model</th><th rowspan="2">clean</th>${head}</tr><tr>${sub}</tr>
${rows.join('\n')}</table>
<p class="small">Columns are ε (${epsilons.join(', ')}, then the unbounded ${first.epsilons.at(-1)}); red cells carry a sanity flag.</p>`;
}

function adversarialStrip(report: RobustnessReport): string {
  const ex = report.examples.adversarial;
  const img = (src: string, alt: string) => `<img src="${src}" alt="${escapeHtml(alt)}">`;
  const rows = [`<tr><th class="l">original</th>${ex.images.map((im) => `<td>${img(im.original, `test image ${im.index}`)}label ${im.label}</td>`).join('')}</tr>`];
  for (const m of ex.models) {
    rows.push(`<tr><th class="l">${escapeHtml(m.name)}<br><span class="small">perturbation</span></th>${m.items.map((it) => `<td>${img(it.perturbation, 'perturbation')}</td>`).join('')}</tr>`);
    rows.push(
      `<tr><th class="l"><span class="small">adversarial</span></th>${m.items
        .map((it, i) => {
          const label = ex.images[i]!.label;
          const mark = (p: number) => (p === label ? String(p) : `<span class="wrong">${p}</span>`);
          return `<td>${img(it.adversarial, 'adversarial image')}${mark(it.cleanPrediction)} → ${mark(it.adversarialPrediction)}</td>`;
        })
        .join('')}</tr>`,
    );
  }
  return `<table class="strip">${rows.join('\n')}</table>`;
}

function corruptedCards(report: RobustnessReport): string {
  const ex = report.examples.corrupted;
  const predictions = (values: readonly number[]) =>
    values.map((p, i) => `<span class="pred${p === ex.label ? '' : ' wrong'}" style="background:${MODEL_COLOURS[i % MODEL_COLOURS.length]}" title="${escapeHtml(report.models[i]!.name)}">${p}</span>`).join('');
  const card = (src: string, name: string, values?: readonly number[]) => `<div class="card"><img src="${src}" alt="${escapeHtml(name)}"><br>${escapeHtml(name)}${values ? `<br>${predictions(values)}` : ''}</div>`;
  return `<div class="cards">${card(ex.clean, `clean (label ${ex.label})`)}${ex.items.map((it) => card(it.image, settingLabel(it), it.predictions)).join('')}</div>`;
}

function calibrationTable(models: readonly ModelRobustness[]): string {
  const rows = models.map((m) => {
    const { before, after, temperature } = m.calibration;
    return (
      `<tr><td class="l">${escapeHtml(m.name)}</td><td>${temperature.toFixed(3)}</td><td>${before.ece.toFixed(4)}</td><td>${after.ece.toFixed(4)}</td>` +
      `<td>${before.nll.toFixed(4)}</td><td>${after.nll.toFixed(4)}</td><td>${before.brier.toFixed(4)}</td><td>${after.brier.toFixed(4)}</td></tr>`
    );
  });
  return `<table><tr><th class="l" rowspan="2">model</th><th rowspan="2">fitted T</th><th colspan="2">ECE</th><th colspan="2">NLL</th><th colspan="2">Brier</th></tr>
<tr><th>T = 1</th><th>fitted</th><th>T = 1</th><th>fitted</th><th>T = 1</th><th>fitted</th></tr>
${rows.join('\n')}</table>`;
}

/** (0, clean), then (ε, accuracy) for the bounded radii of one attack. */
function curveSeries(m: ModelRobustness, attack: string) {
  const curve = m.attacks.curves.find((c) => c.name === attack)!;
  const bounded = m.attacks.epsilons.slice(0, -1);
  return { name: m.name, points: [[0, m.attacks.clean] as [number, number], ...bounded.map((e, k) => [e, curve.accuracy[k]!] as [number, number])] };
}

/** Accuracy under the strongest attack at the k-th radius. */
function worstAccuracy(m: ModelRobustness, k: number): number {
  return Math.min(...m.attacks.curves.map((c) => c.accuracy[k]!));
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : 'n/a';
}

/** Half-width of the normal-approximation 95 % interval of an accuracy of 50 % over n images (the widest). */
export function halfWidth95(n: number): number {
  return n > 0 ? 1.96 * Math.sqrt(0.25 / n) : NaN;
}

/** The Wilson 95 % interval of accuracy p over n images, as "a – b %". */
export function wilsonText(p: number, n: number): string {
  const z = 1.96;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return `${(100 * Math.max(0, centre - half)).toFixed(1)}–${(100 * Math.min(1, centre + half)).toFixed(1)} %`;
}
