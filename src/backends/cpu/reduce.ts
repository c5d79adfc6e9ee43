/**
 * Reductions over any set of dimensions of a strided view. The view is split into kept and reduced
 * dimensions; the reduced block's element offsets are listed once (row-major, so a position in the
 * list is the flat index ArgMax reports), then each output element folds over that list.
 */
import { fitsInt32, type TypedArray } from '../../core/dtype.js';
import type { ArrayView, ReduceAttrs } from '../primitives.js';
import { isDense } from './elementwise.js';
import { sizeOf } from '../../core/shape.js';
import { opError } from '../../core/errors.js';
import type { WasmSums } from '../wasm/sums.js';

type View = ArrayView<TypedArray>;
type Fold = (x: TypedArray, base: number, rel: Int32Array) => number;

const sum: Fold = (x, base, rel) => {
  let acc = 0; // a JS number: float32 sums accumulate in float64
  for (let r = 0; r < rel.length; r++) acc += x[base + rel[r]!]!;
  return acc;
};

/** max/min that propagate NaN, as PyTorch does. */
function extreme(sign: 1 | -1): Fold {
  return (x, base, rel) => {
    let best = -Infinity * sign;
    for (let r = 0; r < rel.length; r++) {
      const v = x[base + rel[r]!]!;
      if (v !== v) return NaN;
      if (v * sign > best * sign) best = v;
    }
    return best;
  };
}

/** Index of the first max/min; NaN counts as the extreme, as in PyTorch. */
function argExtreme(sign: 1 | -1): Fold {
  return (x, base, rel) => {
    let best = -Infinity * sign;
    let index = 0;
    for (let r = 0; r < rel.length; r++) {
      const v = x[base + rel[r]!]!;
      if (v !== v) return r;
      if (v * sign > best * sign) {
        best = v;
        index = r;
      }
    }
    return index;
  };
}

export const FOLDS = {
  Sum: sum,
  Max: extreme(1),
  Min: extreme(-1),
  ArgMax: argExtreme(1),
  ArgMin: argExtreme(-1),
} as const;

/** Offsets of every element of a block of `shape` with `strides`, in row-major order. */
export function blockOffsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  let size = 1;
  for (const d of shape) size *= d;
  const rel = new Int32Array(size);
  const idx = new Array<number>(shape.length).fill(0);
  let p = 0;
  for (let i = 0; i < size; i++) {
    rel[i] = p;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]!++;
      p += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      p -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return rel;
}

/**
 * Sum over leading or trailing dimensions of a dense view, without the offset list: each output
 * adds its elements in the same (row-major) order as the general fold, in float64, so the floats
 * are the same. Columns (leading dimensions) are summed four at a time, down the rows.
 * Returns false for other layouts.
 */
function denseSum(out: View, x: View, dims: readonly number[], sums: WasmSums | null): boolean {
  const n = x.shape.length;
  const leading = dims.every((d, i) => d === i);
  const trailing = dims.every((d, i) => d === n - dims.length + i);
  if ((!leading && !trailing) || !isDense(x)) return false;
  const size = (from: number, to: number): number => sizeOf(x.shape.slice(from, to));
  const [data, o, base] = [x.buffer, out.buffer, x.offset];
  if (trailing) {
    const [outer, inner] = [size(0, n - dims.length), size(n - dims.length, n)];
    for (let i = 0, p = base; i < outer; i++) {
      let acc = 0;
      for (const end = p + inner; p < end; p++) acc += data[p]!;
      o[out.offset + i] = acc;
    }
    return true;
  }
  // Four columns at a time, each its own chain of additions down the rows: with SIMD where the
  // float32 data is in the arena, the rest here.
  const [rows, inner] = [size(0, dims.length), size(dims.length, n)];
  const float32 = data instanceof Float32Array && o instanceof Float32Array;
  let j = float32 && sums ? sums.columns(data, base, rows, inner, o, out.offset) : 0;
  for (; j + 4 <= inner; j += 4) {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let r = 0, p = base + j; r < rows; r++, p += inner) {
      s0 += data[p]!;
      s1 += data[p + 1]!;
      s2 += data[p + 2]!;
      s3 += data[p + 3]!;
    }
    const at = out.offset + j;
    o[at] = s0;
    o[at + 1] = s1;
    o[at + 2] = s2;
    o[at + 3] = s3;
  }
  for (; j < inner; j++) {
    let acc = 0;
    for (let r = 0, p = base + j; r < rows; r++, p += inner) acc += data[p]!;
    o[out.offset + j] = acc;
  }
  return true;
}

/**
 * An int32 sum, accumulated in float64 as every sum is: a result past int32's range is an error
 * naming the value (nabla has no int64 to widen to, as PyTorch does), never a wrapped number.
 */
function checkedIntSum(out: View, x: View, attrs: ReduceAttrs): void {
  const size = sizeOf(out.shape);
  const wide: View = { ...out, buffer: new Float64Array(size), offset: 0, dtype: 'float64' };
  reduceKernel(sum)(wide, [x], attrs);
  for (let i = 0; i < size; i++) {
    const v = wide.buffer[i]!;
    if (!fitsInt32(v))
      throw opError(
        'Sum',
        `the int32 sum ${v} overflows int32 (nabla has no int64): sum a float64 copy, x.cast('float64').sum()`,
      );
    out.buffer[out.offset + i] = v;
  }
}

/**
 * A fold over one dimension of a dense view, as [outer, R, inner] loops: the windows of a pooling
 * (argmax over a window's elements, for every position) without the offset lists. The same
 * elements in the same order as the general path, so the same results. False for other layouts.
 */
function foldOneDim(fold: Fold, out: View, x: View, dims: readonly number[]): boolean {
  if (dims.length !== 1 || !isDense(x) || fold === sum) return false;
  const d = dims[0]!;
  const R = x.shape[d]!;
  const inner = sizeOf(x.shape.slice(d + 1));
  const outer = sizeOf(x.shape.slice(0, d));
  if (inner === 1 || R === 0) return false; // the trailing case is the general path's own fast one
  const rel = new Int32Array(R);
  for (let r = 0; r < R; r++) rel[r] = r * inner;
  const [data, o] = [x.buffer, out.buffer];
  for (let a = 0, at = out.offset; a < outer; a++) {
    const base = x.offset + a * R * inner;
    for (let b = 0; b < inner; b++) o[at++] = fold(data, base + b, rel);
  }
  return true;
}

/**
 * max (sign 1) or min (−1) over the last dimension of a dense view, row by row: the general fold
 * (an offset list read through a shared closure) took 3.7 µs for W2's [64, 10] logits, this 1.2.
 * NaN wins, as in the general fold. False for other layouts.
 */
function trailingExtreme(sign: 1 | -1, out: View, x: View, dims: readonly number[]): boolean {
  const n = x.shape.length;
  const R = x.shape[n - 1]!;
  if (dims.length !== 1 || dims[0] !== n - 1 || R === 0 || !isDense(x)) return false;
  const rows = sizeOf(x.shape.slice(0, n - 1));
  const [data, o] = [x.buffer, out.buffer];
  for (let i = 0, p = x.offset; i < rows; i++, p += R) {
    let best = -Infinity * sign;
    for (let j = p; j < p + R; j++) {
      const v = data[j]!;
      if (v * sign > best * sign) best = v;
      else if (v !== v) {
        best = NaN;
        break;
      }
    }
    o[out.offset + i] = best;
  }
  return true;
}

/** A reduction kernel; `sums`: SIMD column sums for float32 sums over leading dimensions. */
export function reduceKernel(fold: Fold, sums: WasmSums | null = null) {
  const sign = fold === FOLDS.Max ? 1 : fold === FOLDS.Min ? -1 : 0;
  return (out: View, [x]: readonly View[], attrs: ReduceAttrs): void => {
    const { dims } = attrs;
    if (fold === sum && out.dtype === 'int32') return checkedIntSum(out, x!, attrs);
    if (fold === sum && denseSum(out, x!, dims, sums)) return;
    if (sign !== 0 && trailingExtreme(sign, out, x!, dims)) return;
    if (foldOneDim(fold, out, x!, dims)) return;
    const reduced = new Set(dims);
    const keptShape: number[] = [];
    const keptStrides: number[] = [];
    const redShape: number[] = [];
    const redStrides: number[] = [];
    x!.shape.forEach((d, i) => {
      (reduced.has(i) ? redShape : keptShape).push(d);
      (reduced.has(i) ? redStrides : keptStrides).push(x!.strides[i]!);
    });
    const rel = blockOffsets(redShape, redStrides);
    const bases = blockOffsets(keptShape, keptStrides);
    const data = x!.buffer;
    const o = out.buffer;
    for (let i = 0; i < bases.length; i++)
      o[out.offset + i] = fold(data, x!.offset + bases[i]!, rel);
  };
}
