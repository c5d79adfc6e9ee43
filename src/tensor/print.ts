/**
 * Printing tensors as PyTorch does: every element up to about a thousand, else the first and last
 * three along each dimension around `...`, with one number format for the whole tensor so the
 * columns line up. Only the printed elements are read, so a tensor of any size prints at once.
 */
import type { DType } from '../core/dtype.js';

/** Tensors with more elements than this print a summary. */
const THRESHOLD = 1000;
/** Elements shown at each end of a summarised dimension. */
const EDGE = 3;

export interface Printable {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
}

/** The indices shown along a dimension of `size`; -1 marks the `...`. */
function shownIndices(size: number, summarise: boolean): number[] {
  if (!summarise || size <= 2 * EDGE) return Array.from({ length: size }, (_, i) => i);
  const tail = Array.from({ length: EDGE }, (_, i) => size - EDGE + i);
  return [...Array.from({ length: EDGE }, (_, i) => i), -1, ...tail];
}

/** One format for every shown value: integers as `3.`, else fixed 4 decimals or scientific. */
function numberFormat(dtype: DType, values: readonly number[]): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? 'true' : 'false');
  const special = (v: number): string | null =>
    Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : null;
  if (dtype === 'int32') return (v) => String(v);
  const finite = values.filter(Number.isFinite).map(Math.abs);
  const largest = Math.max(0, ...finite);
  const nonzero = finite.filter((v) => v > 0);
  const smallest = nonzero.length ? Math.min(...nonzero) : 0;
  if (finite.every(Number.isInteger) && largest < 1e8) return (v) => special(v) ?? `${v}.`;
  const scientific =
    largest >= 1e8 || (smallest > 0 && (smallest < 1e-4 || largest / smallest > 1e3));
  return (v) => special(v) ?? (scientific ? v.toExponential(4) : v.toFixed(4));
}

/**
 * The elements of `t` as PyTorch prints them (without the `tensor(` and the trailing fields);
 * `read(i)` gives the element at storage index i.
 */
export function formatElements(t: Printable, read: (index: number) => number): string {
  const size = t.shape.reduce((a, b) => a * b, 1);
  const summarise = size > THRESHOLD;
  const shown = t.shape.map((d) => shownIndices(d, summarise));
  const values: number[] = [];
  const collect = (dim: number, at: number): void => {
    if (dim === t.shape.length) return void values.push(read(at));
    for (const i of shown[dim]!) if (i >= 0) collect(dim + 1, at + i * t.strides[dim]!);
  };
  collect(0, t.offset);
  const format = numberFormat(t.dtype, values);
  const texts = values.map(format);
  const width = Math.max(0, ...texts.map((s) => s.length));
  let next = 0;
  const render = (dim: number, indent: string): string => {
    if (dim === t.shape.length) return texts[next++]!.padStart(width);
    const inner = indent + ' ';
    const last = dim === t.shape.length - 1;
    // PyTorch's own spacing: ' ...' among numbers, '...' alone on a line among rows.
    const parts = shown[dim]!.map((i) => (i >= 0 ? render(dim + 1, inner) : last ? ' ...' : '...'));
    if (last) return `[${parts.join(', ')}]`;
    const gap = ','.padEnd(t.shape.length - dim, '\n');
    return `[${parts.join(`${gap}${inner}`)}]`;
  };
  return render(0, ' '.repeat('tensor('.length));
}
