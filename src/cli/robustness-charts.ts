// SVG charts of the robustness report that svg.ts does not have: accuracy against ε on
// fixed axes, grouped bars (one bar per model in each group) and reliability diagrams.
import type { ReliabilityBin } from '../robust/calibration.js';
import { COLOURS as MODEL_COLOURS, escapeHtml } from './svg.js';

/** Series colours in lineChart's order (svg.ts), so a model has one colour across the report. */
export { MODEL_COLOURS };

const colour = (i: number) => MODEL_COLOURS[i % MODEL_COLOURS.length]!;
const svg = (width: number, height: number, parts: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">${parts.join('')}</svg>`;

/**
 * Accuracy against ε, one line per series (coloured by its index, no legend: the report
 * shows one for all charts), on fixed axes: accuracy 0..1 and ε from 0 to the largest,
 * ticked at the radii given, so charts of different attacks compare at a glance.
 * @example accuracyChart('pgd-margin', [{ name: 'teacher', points: [[0, 0.99], [0.1, 0.9]] }], [0.1]);
 */
export function accuracyChart(title: string, series: readonly { name: string; points: readonly [number, number][] }[], epsilons: readonly number[], { width = 360, height = 260 } = {}): string {
  const margin = { left: 46, right: 14, top: 28, bottom: 40 };
  const w = width - margin.left - margin.right;
  const h = height - margin.top - margin.bottom;
  const xMax = Math.max(...epsilons, 1e-9);
  const sx = (v: number) => margin.left + (v / xMax) * w;
  const sy = (v: number) => margin.top + h - v * h;
  const parts = [`<text x="${width / 2}" y="17" text-anchor="middle" font-weight="bold" font-size="13">${escapeHtml(title)}</text>`];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${sx(0)}" x2="${sx(xMax)}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 5}" y="${sy(t) + 4}" text-anchor="end" font-size="10">${t * 100}%</text>`);
  }
  for (const e of [0, ...epsilons]) {
    parts.push(`<line x1="${sx(e)}" x2="${sx(e)}" y1="${sy(0)}" y2="${sy(1)}" stroke="#f2f2f2"/>`);
    parts.push(`<text x="${sx(e)}" y="${margin.top + h + 14}" text-anchor="middle" font-size="10">${e}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${margin.left + w / 2}" y="${height - 6}" text-anchor="middle" font-size="11">ε (L∞, pixels in [0, 1])</text>`);
  parts.push(`<text transform="translate(11 ${margin.top + h / 2}) rotate(-90)" text-anchor="middle" font-size="11">accuracy</text>`);
  series.forEach((s, i) => {
    const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${colour(i)}" stroke-width="2"><title>${escapeHtml(s.name)}</title></path>`);
    for (const p of s.points) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${colour(i)}"/>`);
  });
  return svg(width, height, parts);
}

/**
 * Horizontal bars grouped by label: in each group one bar per series (coloured as the
 * series), with its value as a percentage. Values are fractions in [0, 1].
 * @example groupedBarChart('Error', [{ label: 'fog', values: [0.1, 0.3] }], ['teacher', 'student']);
 */
export function groupedBarChart(title: string, groups: readonly { label: string; values: readonly number[] }[], seriesNames: readonly string[], { width = 620 } = {}): string {
  const barHeight = 9;
  const groupHeight = seriesNames.length * barHeight + 8;
  const left = 200;
  const legendHeight = 20;
  const top = 30 + legendHeight;
  const height = top + groups.length * groupHeight + 8;
  const max = Math.max(1e-12, ...groups.flatMap((g) => g.values.filter(Number.isFinite)));
  const scale = (width - left - 56) / max;
  const parts = [`<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`];
  let x = left;
  seriesNames.forEach((name, i) => {
    parts.push(`<rect x="${x}" y="${30}" width="10" height="10" fill="${colour(i)}"/><text x="${x + 14}" y="${39}" font-size="12">${escapeHtml(name)}</text>`);
    x += 24 + name.length * 7;
  });
  groups.forEach((g, k) => {
    const y0 = top + k * groupHeight;
    if (k % 2 === 0) parts.push(`<rect x="0" y="${y0 - 2}" width="${width}" height="${groupHeight}" fill="#f6f6f6"/>`);
    parts.push(`<text x="${left - 8}" y="${y0 + groupHeight / 2 + 1}" text-anchor="end" font-size="12">${escapeHtml(g.label)}</text>`);
    g.values.forEach((v, i) => {
      const y = y0 + i * barHeight;
      const w = Number.isFinite(v) ? Math.max(v * scale, 1) : 0;
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight - 1}" fill="${colour(i)}"/>`);
      parts.push(`<text x="${left + w + 4}" y="${y + barHeight - 1}" font-size="9">${Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a'}</text>`);
    });
  });
  return svg(width, height, parts);
}

/**
 * A reliability diagram (Guo et al. 2017): per confidence bin, the accuracy of its samples
 * (blue bar) against the diagonal; the gap to the bin's mean confidence is shaded red.
 * Empty bins are left out. The subtitle gives ECE and the temperature.
 * @example reliabilityDiagram('teacher, T = 1', 'ECE 0.012', report.before.bins);
 */
export function reliabilityDiagram(title: string, subtitle: string, bins: readonly ReliabilityBin[], { size = 230 } = {}): string {
  const margin = { left: 42, right: 10, top: 40, bottom: 36 };
  const w = size - margin.left - margin.right;
  const h = size - margin.top - margin.bottom;
  const sx = (v: number) => margin.left + v * w;
  const sy = (v: number) => margin.top + h - v * h;
  const parts = [
    `<text x="${size / 2}" y="15" text-anchor="middle" font-weight="bold" font-size="13">${escapeHtml(title)}</text>`,
    `<text x="${size / 2}" y="31" text-anchor="middle" font-size="12">${escapeHtml(subtitle)}</text>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${sx(0)}" x2="${sx(1)}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 5}" y="${sy(t) + 4}" text-anchor="end" font-size="10">${t}</text>`);
    parts.push(`<text x="${sx(t)}" y="${margin.top + h + 13}" text-anchor="middle" font-size="10">${t}</text>`);
  }
  for (const bin of bins) {
    if (bin.count === 0) continue;
    const [x, bw] = [sx(bin.lower), (bin.upper - bin.lower) * w];
    parts.push(`<rect x="${x.toFixed(1)}" y="${sy(bin.accuracy).toFixed(1)}" width="${bw.toFixed(1)}" height="${(bin.accuracy * h).toFixed(1)}" fill="#3a6ea5" stroke="#fff" stroke-width="0.5"/>`);
    const [lo, hi] = [Math.min(bin.accuracy, bin.confidence), Math.max(bin.accuracy, bin.confidence)];
    parts.push(`<rect x="${x.toFixed(1)}" y="${sy(hi).toFixed(1)}" width="${bw.toFixed(1)}" height="${((hi - lo) * h).toFixed(1)}" fill="#f08080" fill-opacity="0.6" stroke="#c00" stroke-width="0.5"/>`);
  }
  parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(1)}" y2="${sy(1)}" stroke="#555" stroke-dasharray="4 3"/>`);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${margin.left + w / 2}" y="${size - 6}" text-anchor="middle" font-size="11">confidence</text>`);
  parts.push(`<text transform="translate(12 ${margin.top + h / 2}) rotate(-90)" text-anchor="middle" font-size="11">accuracy</text>`);
  return svg(size, size, parts);
}
