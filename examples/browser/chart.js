// Line charts on a plain <canvas>: axes with round ticks, one polyline per series, a legend.
// Redrawn from scratch on every update (a few hundred points at most).

import { FONT, prepare } from './canvas.js';

// The top margin holds the title; legend rows are added below it.
const MARGIN = { left: 48, right: 16, top: 24, bottom: 34 };
const LEGEND_LINE = 16;

/** Round tick positions covering [min, max], about `count` of them. */
function ticks(min, max, count) {
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Legend entries laid out in rows that fit `width`: [{ series, x, row }]. */
function layoutLegend(g, series, width) {
  const entries = [];
  let x = 0;
  let row = 0;
  for (const s of series) {
    const w = 27 + g.measureText(s.label).width + 16;
    if (x > 0 && x + w > width) [x, row] = [0, row + 1];
    entries.push({ series: s, x, row });
    x += w;
  }
  return { entries, rows: row + 1 };
}

/** A line sample (dashed when the series is) and the label, for each legend entry. */
function drawLegend(g, entries, left, top) {
  for (const { series: s, x, row } of entries) {
    const y = top + row * LEGEND_LINE;
    g.strokeStyle = s.color;
    g.lineWidth = 2;
    g.setLineDash(s.dashed ? [5, 4] : []);
    g.beginPath();
    g.moveTo(left + x, y);
    g.lineTo(left + x + 22, y);
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = '#222';
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    g.fillText(s.label, left + x + 27, y);
  }
}

/**
 * Draws `series` ({ label, color, dashed?, points: [[x, y], ...] }) on `canvas`, x over the
 * integers [xMin, xMax] (padded by half a step when they are equal), y over [yMin, yMax]
 * when given, else fitted to the data. `marks` ([{ x, label }]) draws labelled vertical
 * lines (epoch boundaries on a chart over steps).
 *
 * @example drawLineChart(canvas, { title: 'loss', xLabel: 'epoch', xMin: 1, xMax: 5, series: [{ label: 'teacher', color: '#c33', points: [[1, 0.4]] }] });
 */
export function drawLineChart(canvas, { title, xLabel, xMin, xMax, yMin, yMax, format = (v) => String(v), series, marks = [] }) {
  const { g, width, height } = prepare(canvas);
  const values = series.flatMap((s) => s.points.map(([, y]) => y));
  const low = yMin ?? (values.length ? Math.min(...values) : 0);
  let high = yMax ?? (values.length ? Math.max(...values) : 1);
  if (high <= low) high = low + 1;
  const [left, right] = xMax > xMin ? [xMin, xMax] : [xMin - 0.5, xMin + 0.5];
  g.font = FONT;
  const legend = layoutLegend(g, series, width - MARGIN.left - MARGIN.right);
  const top = MARGIN.top + legend.rows * LEGEND_LINE + 6;
  const plot = { x: MARGIN.left, y: top, w: width - MARGIN.left - MARGIN.right, h: height - top - MARGIN.bottom };
  const px = (x) => plot.x + ((x - left) / (right - left)) * plot.w;
  const py = (y) => plot.y + plot.h - ((y - low) / (high - low)) * plot.h;

  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  g.fillStyle = '#222';
  g.textAlign = 'left';
  g.textBaseline = 'alphabetic';
  g.fillText(title, plot.x, 16);
  drawLegend(g, legend.entries, plot.x, MARGIN.top + LEGEND_LINE / 2);

  g.strokeStyle = '#e4e4e4';
  g.lineWidth = 1;
  g.fillStyle = '#222';
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const v of ticks(low, high, 5)) {
    g.beginPath();
    g.moveTo(plot.x, py(v));
    g.lineTo(plot.x + plot.w, py(v));
    g.stroke();
    g.fillText(format(v), plot.x - 6, py(v));
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (const v of ticks(xMin, Math.max(xMax, xMin + 1), 10).filter((t) => Number.isInteger(t) && t <= xMax)) g.fillText(String(v), px(v), plot.y + plot.h + 4);
  g.fillText(xLabel, plot.x + plot.w / 2, plot.y + plot.h + 18);
  g.strokeStyle = '#888';
  g.strokeRect(plot.x, plot.y, plot.w, plot.h);
  g.setLineDash([2, 3]);
  g.textAlign = 'left';
  g.fillStyle = '#888';
  for (const mark of marks) {
    g.beginPath();
    g.moveTo(px(mark.x), plot.y);
    g.lineTo(px(mark.x), plot.y + plot.h);
    g.stroke();
    g.fillText(mark.label, px(mark.x) + 3, plot.y + 3);
  }
  g.setLineDash([]);

  for (const s of series) {
    g.strokeStyle = s.color;
    g.fillStyle = s.color;
    g.lineWidth = 2;
    g.setLineDash(s.dashed ? [5, 4] : []);
    g.beginPath();
    s.points.forEach(([x, y], k) => (k === 0 ? g.moveTo(px(x), py(y)) : g.lineTo(px(x), py(y))));
    g.stroke();
    g.setLineDash([]);
    // Dots, so a series with a single point still shows.
    for (const [x, y] of s.points) {
      g.beginPath();
      g.arc(px(x), py(y), 3, 0, 2 * Math.PI);
      g.fill();
    }
  }
}
