/** Line charts as standalone SVG (loss and accuracy curves), with no dependencies. */
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
