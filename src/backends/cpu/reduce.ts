/**
 * Reductions over any set of dimensions of a strided view. The view is split into kept and reduced
 * dimensions; the reduced block's element offsets are listed once (row-major, so a position in the
 * list is the flat index ArgMax reports), then each output element folds over that list.
 */
import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView, ReduceAttrs } from '../primitives.js';

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

export function reduceKernel(fold: Fold) {
  return (out: View, [x]: readonly View[], { dims }: ReduceAttrs): void => {
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
