// Small dependency-free SVG charts for self-contained HTML reports.

export interface Series {
  name: string;
  points: readonly [number, number][];
}

/** One colour per series/model, shared by every report chart. */
export const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function niceRange(values: number[]): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** A line chart of several series with axes, ticks and a legend. */
export function lineChart(title: string, series: readonly Series[], { xLabel = '', yLabel = '', width = 520, height = 300 } = {}): string {
  const margin = { left: 56, right: 16, top: 28, bottom: 44 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<svg width="${width}" height="${height}"><text x="10" y="20">${escapeHtml(title)}: no data</text></svg>`;
  const [x0, x1] = niceRange(all.map((p) => p[0]));
  const [y0, y1] = niceRange(all.map((p) => p[1]));
  const w = width - margin.left - margin.right;
  const h = height - margin.top - margin.bottom;
  const sx = (x: number) => margin.left + ((x - x0) / (x1 - x0)) * w;
  const sy = (y: number) => margin.top + h - ((y - y0) / (y1 - y0)) * h;
  const ticks = (a: number, b: number) => Array.from({ length: 5 }, (_, i) => a + ((b - a) * i) / 4);
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`);
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + w}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${formatTick(t)}</text>`);
  }
  for (const t of ticks(x0, x1)) parts.push(`<text x="${sx(t)}" y="${margin.top + h + 16}" text-anchor="middle" font-size="11">${formatTick(t)}</text>`);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${margin.left + w / 2}" y="${height - 6}" text-anchor="middle" font-size="12">${escapeHtml(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeHtml(yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const p of s.points) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${colour}"/>`);
    parts.push(`<text x="${margin.left + 8}" y="${margin.top + 16 + i * 15}" font-size="12" fill="${colour}">${escapeHtml(s.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">${parts.join('')}</svg>`;
}

/** A horizontal bar chart, one bar per label. */
export function barChart(title: string, bars: readonly { label: string; value: number }[], { width = 520, unit = '' } = {}): string {
  const rowHeight = 26;
  const left = 170;
  const height = 36 + bars.length * rowHeight;
  const max = Math.max(...bars.map((b) => b.value), 1e-12);
  const parts = [`<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`];
  bars.forEach((b, i) => {
    const y = 30 + i * rowHeight;
    const w = ((width - left - 70) * b.value) / max;
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${escapeHtml(b.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${Math.max(w, 1).toFixed(1)}" height="${rowHeight - 8}" fill="${COLOURS[i % COLOURS.length]}"/>`);
    parts.push(`<text x="${left + w + 6}" y="${y + 14}" font-size="12">${formatTick(b.value)}${escapeHtml(unit)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">${parts.join('')}</svg>`;
}

function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e5)) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}
