import { ensureWritableDirectory } from '../io/directories.js';
import type { DemoResults } from './demo.js';
import { barChart, escapeHtml, lineChart } from './svg.js';

/** Writes `dir/results.json` and a self-contained `dir/report.html`; returns their paths. */
export async function writeDemoReport(dir: string, results: DemoResults): Promise<string[]> {
  const { writeFileAtomic } = await import('../io/atomic-write.js');
  await ensureWritableDirectory(dir);
  const json = `${dir}/results.json`;
  const html = `${dir}/report.html`;
  await writeFileAtomic(json, new TextEncoder().encode(`${JSON.stringify(results, null, 2)}\n`));
  await writeFileAtomic(html, new TextEncoder().encode(demoReportHtml(results)));
  return [json, html];
}

export function demoReportHtml(results: DemoResults): string {
  const curves = (title: string, y: (h: DemoResults['models'][number]['history'][number]) => number, yLabel: string) =>
    lineChart(
      title,
      results.models.map((m) => ({ name: m.name, points: m.history.map((h) => [h.epoch, y(h)] as [number, number]) })),
      { xLabel: 'epoch', yLabel },
    );
  const rows = results.models
    .map(
      (m) =>
        `<tr><td>${escapeHtml(m.name)}</td><td>${escapeHtml(m.role)}</td><td>${(m.testAccuracy * 100).toFixed(2)}%</td><td>${m.testErrors}</td>` +
        `<td>${m.testLoss.toFixed(4)}</td><td>${m.parameters.toLocaleString('en')}</td><td>${m.epochs}</td><td>${m.trainSeconds.toFixed(0)}</td></tr>`,
    )
    .join('\n');
  const c = results.config;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kdgpu distillation report</title>
<style>body{font-family:sans-serif;margin:24px;max-width:1120px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}code{background:#f4f4f4;padding:1px 4px}</style></head>
<body>
<h1>Knowledge distillation on MNIST</h1>
<p>${escapeHtml(results.date)} · ${escapeHtml(results.device)} · ${results.data.train} training / ${results.data.validation} validation / ${results.data.test} test images ·
total ${results.totalSeconds.toFixed(0)} s${c.quick ? ' · <b>--quick</b> run' : ''}</p>
<p>KD loss: <code>h·CE(student, y) + (1 − h)·T²·KL(softmax(teacher/T) ‖ softmax(student/T))</code> with T = ${c.temperature}, hard-loss weight h = ${c.hardWeight};
KD + feature adds <code>w·MSE(student relu1, teacher relu1)</code> with hint weight w = ${c.hintWeight}. All students start from the same weights (seed ${c.seed + 1}).</p>
<table><tr><th>model</th><th>role</th><th>test accuracy</th><th>test errors</th><th>test loss</th><th>parameters</th><th>epochs</th><th>train s</th></tr>
${rows}</table>
<p><b>KD vs the student alone</b> (paired, on the same test images): ${escapeHtml(results.kdVersusAlone.verdict)}.</p>
<div class="charts">
${barChart('Test errors (lower is better)', results.models.map((m) => ({ label: m.name, value: m.testErrors })))}
${curves('Validation accuracy', (h) => h.validation?.accuracy ?? NaN, 'accuracy')}
${lineChart(
  'Training loss (each model its own objective)',
  results.models.map((m) => ({ name: m.name, points: m.history.flatMap((h) => h.curve ?? [{ step: h.epoch, loss: h.loss }]).map((c) => [c.step, c.loss] as [number, number]) })),
  { xLabel: 'step', yLabel: 'loss' },
)}
</div>
<p>Machine-readable results: <code>results.json</code> beside this file.</p>
</body></html>
`;
}
