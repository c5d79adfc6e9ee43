/** Plots as standalone SVG, with no dependencies: line charts (loss curves), decision regions. */
import { noGrad } from '../engine/grad-mode.js';
import { argmax } from '../ops/index.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Series {
  name: string;
  values: readonly number[];
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** "Nice" tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(+v.toPrecision(12));
  return out;
}

/** Plots each series against its index + 1 (epochs). */
export function lineChart(series: readonly Series[], options: ChartOptions = {}): string {
  const { width = 640, height = 400, title = '', xLabel = 'epoch', yLabel = '' } = options;
  const m = { left: 64, right: 20, top: title ? 40 : 20, bottom: 48 };
  const finite = series.flatMap((s) => s.values.filter(Number.isFinite));
  const n = Math.max(1, ...series.map((s) => s.values.length));
  let [lo, hi] = [Math.min(...finite), Math.max(...finite)];
  if (!finite.length) [lo, hi] = [0, 1];
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const x = (i: number): number =>
    m.left + (width - m.left - m.right) * (n === 1 ? 0.5 : i / (n - 1));
  const y = (v: number): number =>
    height - m.bottom - ((height - m.top - m.bottom) * (v - lo)) / (hi - lo);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title)
    parts.push(
      `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${escape(title)}</text>`,
    );
  for (const v of ticks(lo, hi)) {
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
    );
    parts.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  for (const t of ticks(1, n, Math.min(10, n - 1 || 1)).filter(Number.isInteger)) {
    parts.push(
      `<text x="${x(t - 1)}" y="${height - m.bottom + 16}" text-anchor="middle">${t}</text>`,
    );
  }
  parts.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="black"/>`,
  );
  parts.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="black"/>`,
  );
  parts.push(
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 10}" text-anchor="middle">${escape(xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`,
  );
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length]!;
    const points = s.values
      .map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : ''))
      .filter(Boolean);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`,
    );
    const ly = m.top + 8 + 18 * k;
    parts.push(
      `<line x1="${width - m.right - 150}" x2="${width - m.right - 130}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${width - m.right - 124}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

const REGION_COLORS = ['#c6dbef', '#fdd0a2', '#c7e9c0', '#fcbba1', '#dadaeb'];
const POINT_COLORS = ['#08519c', '#d94801', '#238b45', '#cb181d', '#6a51a3'];

export interface BoundaryOptions {
  title?: string;
  /** Grid cells per side. */
  resolution?: number;
  width?: number;
  height?: number;
}

/** Predicted class per row: argmax of [N, C] scores, or probability ≥ 0.5 for [N] / [N, 1]. */
function classesOf(scores: Tensor): ArrayLike<number> {
  if (scores.ndim === 2 && scores.shape[1]! > 1) return argmax(scores, 1).dataSync();
  return Array.from(scores.contiguous().dataSync(), (p) => (p >= 0.5 ? 1 : 0));
}

/**
 * A 2-D classifier's decision regions over its data: the plane coloured by predicted class, the
 * points (x [N, 2]) coloured by their labels y [N].
 */
export function decisionBoundary(
  predict: (x: Tensor) => Tensor,
  x: Tensor,
  y: Tensor,
  options: BoundaryOptions = {},
): string {
  const { title = '', resolution = 80, width = 420, height = 420 } = options;
  const points = x.contiguous().dataSync();
  const labels = y.contiguous().dataSync();
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < points.length; i += 2) {
    [x0, x1] = [Math.min(x0, points[i]!), Math.max(x1, points[i]!)];
    [y0, y1] = [Math.min(y0, points[i + 1]!), Math.max(y1, points[i + 1]!)];
  }
  const pad = 0.1 * Math.max(x1 - x0, y1 - y0, 1e-6);
  [x0, x1, y0, y1] = [x0 - pad, x1 + pad, y0 - pad, y1 + pad];
  const grid = new Float32Array(resolution * resolution * 2);
  for (let r = 0; r < resolution; r++) {
    for (let c = 0; c < resolution; c++) {
      grid[2 * (r * resolution + c)] = x0 + ((c + 0.5) * (x1 - x0)) / resolution;
      grid[2 * (r * resolution + c) + 1] = y1 - ((r + 0.5) * (y1 - y0)) / resolution;
    }
  }
  const predicted = classesOf(
    noGrad(() => predict(tensor(grid, { shape: [resolution * resolution, 2] }))),
  );
  const top = title ? 28 : 4;
  const [cw, ch] = [width / resolution, (height - top) / resolution];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title)
    parts.push(`<text x="${width / 2}" y="19" text-anchor="middle">${escape(title)}</text>`);
  for (let r = 0; r < resolution; r++) {
    for (let c = 0; c < resolution; c++) {
      const color = REGION_COLORS[predicted[r * resolution + c]! % REGION_COLORS.length];
      parts.push(
        `<rect x="${(c * cw).toFixed(2)}" y="${(top + r * ch).toFixed(2)}" width="${(cw + 0.3).toFixed(2)}" height="${(ch + 0.3).toFixed(2)}" fill="${color}"/>`,
      );
    }
  }
  for (let i = 0; i < labels.length; i++) {
    const px = ((points[2 * i]! - x0) / (x1 - x0)) * width;
    const py = top + ((y1 - points[2 * i + 1]!) / (y1 - y0)) * (height - top);
    parts.push(
      `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${POINT_COLORS[labels[i]! % POINT_COLORS.length]}" stroke="white" stroke-width="0.6"/>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export interface ConfusionOptions {
  title?: string;
  /** Pixels per cell. */
  cell?: number;
}

/**
 * A confusion matrix (int [C, C], rows true classes, columns predictions, as
 * nb.metrics.confusionMatrix gives) as a heatmap with the counts in the cells.
 */
export function confusionChart(
  counts: Tensor,
  classes: readonly string[],
  options: ConfusionOptions = {},
): string {
  const c = counts.shape[0]!;
  const { title = '', cell = Math.max(36, Math.min(60, Math.floor(600 / c))) } = options;
  const values = Array.from(counts.contiguous().dataSync());
  const rowTotals = Array.from({ length: c }, (_, i) =>
    values.slice(i * c, (i + 1) * c).reduce((a, b) => a + b, 0),
  );
  const m = { left: 120, top: title ? 64 : 40, right: 16, bottom: 16 };
  const width = m.left + c * cell + m.right;
  const height = m.top + c * cell + m.bottom + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title)
    parts.push(
      `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escape(title)}</text>`,
    );
  parts.push(
    `<text x="${m.left + (c * cell) / 2}" y="${m.top - 24}" text-anchor="middle">predicted</text>`,
  );
  for (let j = 0; j < c; j++)
    parts.push(
      `<text x="${m.left + (j + 0.5) * cell}" y="${m.top - 6}" text-anchor="middle">${escape(classes[j] ?? String(j))}</text>`,
    );
  for (let i = 0; i < c; i++) {
    const y = m.top + i * cell;
    parts.push(
      `<text x="${m.left - 6}" y="${y + cell / 2 + 4}" text-anchor="end">${escape(classes[i] ?? String(i))}</text>`,
    );
    for (let j = 0; j < c; j++) {
      const n = values[i * c + j]!;
      // Shade by the share of the true class's samples, so rare classes read as clearly.
      const share = rowTotals[i]! > 0 ? n / rowTotals[i]! : 0;
      const shade = Math.round(255 * (1 - share));
      parts.push(
        `<rect x="${m.left + j * cell}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#ddd"/>`,
        `<text x="${m.left + (j + 0.5) * cell}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${share > 0.5 ? 'white' : 'black'}">${n}</text>`,
      );
    }
  }
  parts.push(
    `<text x="${m.left + (c * cell) / 2}" y="${height - 8}" text-anchor="middle">rows: true class</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
