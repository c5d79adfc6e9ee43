/** Short printable forms of tensor values, for explanations and graph labels. */
import type { Tensor } from '../tensor/tensor.js';

/** A number with up to 4 significant digits, no trailing zeros, and a true minus sign (−0 → 0). */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const text = Number.isFinite(v) ? String(+v.toPrecision(4)) : String(v);
  return text.replace('-', '−');
}

/** A scalar as its number, a small tensor in full, a large one as shape and statistics. */
export function describeValue(t: Tensor, maxElements = 8): string {
  const data = t.contiguous().dataSync();
  if (t.size === 1) return formatNumber(data[0]!);
  if (t.size <= maxElements) return `[${Array.from(data, formatNumber).join(', ')}]`;
  let [sum, min, max] = [0, Infinity, -Infinity];
  for (const v of data) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return `shape [${t.shape.join(', ')}]: mean ${formatNumber(sum / data.length)}, min ${formatNumber(min)}, max ${formatNumber(max)}`;
}
