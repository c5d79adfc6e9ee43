/** Kernels that move elements by position: gather, scatter-add, concatenation, slice adjoint. */
import type { TypedArray } from '../../core/dtype.js';
import { opError } from '../../core/errors.js';
import type { ArrayView, Kernel, PrimitiveAttrs } from '../primitives.js';
import { byteAddress, rowsFor, zeroElements, type WasmRows } from '../wasm/rows.js';
import type { WasmPicks } from '../wasm/picks.js';
import { elementwise, isDense, restride } from './elementwise.js';
import { blockOffsets } from './reduce.js';

type View = ArrayView<TypedArray>;

const copy = elementwise('a', 1);

/** Offsets in `target` (strides) for every position of `index`, with `dim` left at 0. */
function offsetsExceptDim(index: View, targetStrides: readonly number[], dim: number): Int32Array {
  return blockOffsets(
    index.shape,
    targetStrides.map((s, d) => (d === dim ? 0 : s)),
  );
}

/** An index into a dimension of `size`; negative ones are refused, as PyTorch's gather does. */
function checkedIndex(op: string, value: number, size: number): number {
  if (value < 0 || value >= size) {
    throw opError(op, `index ${value} is out of range for a dimension of size ${size}`);
  }
  return value;
}

/**
 * indexSelect's case of gather (an index that varies only along `dim`, over a contiguous input):
 * whole blocks move with one copy each, e.g. the rows of a DataLoader batch; float32 ones in the
 * arena with one WebAssembly call per index (a JS subarray per row, and TypedArray.set into the
 * shared arena, made a 64-row Fashion-MNIST batch 1.4× slower).
 */
function gatherBlocks(
  out: View,
  x: View,
  index: View,
  dim: number,
  rows: WasmRows | null,
): boolean {
  const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
  const onlyAlongDim = index.strides.every((s, d) => d === dim || s === 0);
  const contiguous = x.strides.every(
    (s, d) => x.shape[d] === 1 || s === size(x.shape.slice(d + 1)),
  );
  const fullBlocks = out.shape.every((n, d) => d === dim || n === x.shape[d]);
  if (!onlyAlongDim || !contiguous || !fullBlocks) return false;
  const inner = size(x.shape.slice(dim + 1));
  const outer = size(x.shape.slice(0, dim));
  const [length, count] = [x.shape[dim]!, out.shape[dim]!];
  const fast = rowsFor(rows, x, out, true);
  for (let j = 0; j < count; j++) {
    const k = checkedIndex('gather', index.buffer[index.offset + j * index.strides[dim]!]!, length);
    if (fast) {
      const [from, to] = [x.offset + k * inner, out.offset + j * inner];
      const [src, dst] = [x.buffer.byteOffset + 4 * from, out.buffer.byteOffset + 4 * to];
      fast.copy(src, 4 * length * inner, dst, 4 * count * inner, 4 * inner, outer);
      continue;
    }
    for (let o = 0; o < outer; o++) {
      const from = x.offset + (o * length + k) * inner;
      out.buffer.set(x.buffer.subarray(from, from + inner), out.offset + (o * count + j) * inner);
    }
  }
  return true;
}

/**
 * Dense operands whose shapes agree outside `dim` (a pooling's argmax picks): the loops over
 * [before, along, after] with no offset lists, visiting positions in the general path's order.
 * Returns the sizes, or null for other layouts.
 */
function denseAlong(
  dim: number,
  index: View,
  ...others: View[]
): { before: number; after: number; along: number } | null {
  const all = [index, ...others];
  if (!all.every(isDense)) return null;
  const fits = others.every(
    (v) =>
      v.shape.length === index.shape.length &&
      v.shape.every((n, d) => d === dim || n === index.shape[d]),
  );
  if (!fits) return null;
  const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
  return {
    before: size(index.shape.slice(0, dim)),
    after: size(index.shape.slice(dim + 1)),
    along: index.shape[dim]!,
  };
}

type Along = NonNullable<ReturnType<typeof denseAlong>>;

/**
 * The dense case of a gather or scatter-add in WebAssembly (wasm/picks.ts), where the values are
 * float32 and the indices int32, all in the arena. False where it does not apply, or where an
 * index is out of range: the plain loop then runs, and names it.
 */
function picked(
  kernel: 'gather' | 'scatterAdd',
  picks: WasmPicks | null,
  indexed: View,
  index: View,
  other: View,
  { before, along, after }: Along,
  size: number,
): boolean {
  if (!picks || indexed.dtype !== 'float32' || other.dtype !== 'float32') return false;
  if (index.dtype !== 'int32' || ![indexed, index, other].every((v) => picks.arena.owns(v.buffer)))
    return false;
  const [at, indices, others] = [indexed, index, other].map(byteAddress);
  try {
    picks[kernel](at!, indices!, others!, before, along, after, size);
    return true;
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) return false;
    throw error;
  }
}

/**
 * Gather, with the arena's row kernels for whole float32 blocks where there are some, and its
 * gather kernel for a pooling's picks.
 */
export function gatherKernel(
  rows: WasmRows | null,
  picks: WasmPicks | null,
): Kernel<TypedArray, PrimitiveAttrs['Gather']> {
  return (out, [x, index], { dim }) => {
    if (gatherBlocks(out, x!, index!, dim, rows)) return;
    const dense = denseAlong(dim, index!, x!, out);
    if (dense && picked('gather', picks, x!, index!, out, dense, x!.shape[dim]!)) return;
    if (dense) {
      const { before, after, along } = dense;
      const size = x!.shape[dim]!;
      const [X, I, O] = [x!.buffer, index!.buffer, out.buffer];
      for (let a = 0, p = 0; a < before; a++)
        for (let k = 0; k < along; k++)
          for (let b = 0; b < after; b++, p++) {
            const j = checkedIndex('gather', I[index!.offset + p]!, size);
            O[out.offset + p] = X[x!.offset + (a * size + j) * after + b]!;
          }
      return;
    }
    const xBase = offsetsExceptDim(index!, x!.strides, dim);
    const iPos = blockOffsets(index!.shape, index!.strides);
    const size = x!.shape[dim]!;
    const stride = x!.strides[dim]!;
    for (let i = 0; i < iPos.length; i++) {
      const k = checkedIndex('gather', index!.buffer[index!.offset + iPos[i]!]!, size);
      out.buffer[out.offset + i] = x!.buffer[x!.offset + xBase[i]! + k * stride]!;
    }
  };
}

/**
 * Scatter-add into a zeroed output (zeroed by `rows` in the arena), with the arena's scatter-add
 * kernel for a pooling's gradient.
 */
export function scatterAddKernel(
  rows: WasmRows | null,
  picks: WasmPicks | null,
): Kernel<TypedArray, PrimitiveAttrs['ScatterAdd']> {
  return (out, inputs, attrs) => scatterAdd(out, inputs, attrs, rows, picks);
}

function scatterAdd(
  out: View,
  [index, src]: readonly View[],
  { dim }: PrimitiveAttrs['ScatterAdd'],
  rows: WasmRows | null,
  picks: WasmPicks | null,
): void {
  const dense = denseAlong(dim, index!, src!);
  if (dense && isDense(out)) {
    const { before, after, along } = dense;
    const size = out.shape[dim]!;
    const [I, S, O] = [index!.buffer, src!.buffer, out.buffer];
    zeroElements(rows, O, out.offset, out.offset + before * size * after);
    // Where an index is out of range the plain loop below throws at it (the op fails, and its
    // output with it, whatever the kernel added before).
    if (picked('scatterAdd', picks, out, index!, src!, dense, size)) return;
    for (let a = 0, p = 0; a < before; a++)
      for (let k = 0; k < along; k++)
        for (let b = 0; b < after; b++, p++) {
          const at =
            out.offset +
            (a * size + checkedIndex('scatterAdd', I[index!.offset + p]!, size)) * after +
            b;
          O[at] = O[at]! + S[src!.offset + p]!;
        }
    return;
  }
  const oBase = offsetsExceptDim(index!, out.strides, dim);
  const iPos = blockOffsets(index!.shape, index!.strides);
  const sPos = blockOffsets(index!.shape, src!.strides);
  const size = out.shape[dim]!;
  const stride = out.strides[dim]!;
  const o = out.buffer;
  zeroElements(rows, o, 0, o.length); // a fresh array of exactly the output's size
  for (let i = 0; i < iPos.length; i++) {
    const k = checkedIndex('scatterAdd', index!.buffer[index!.offset + iPos[i]!]!, size);
    const at = out.offset + oBase[i]! + k * stride;
    o[at] = o[at]! + src!.buffer[src!.offset + sPos[i]!]!;
  }
}

export function cat(out: View, inputs: readonly View[], { dim }: PrimitiveAttrs['Cat']): void {
  let start = 0;
  for (const input of inputs) {
    const offset = out.offset + start * out.strides[dim]!;
    copy(restride(out, input.shape, out.strides, offset), [input]);
    start += input.shape[dim]!;
  }
}

/** The slice's adjoint: x written into a zeroed output (zeroed by `rows` in the arena). */
export function unsliceKernel(
  rows: WasmRows | null,
): Kernel<TypedArray, PrimitiveAttrs['Unslice']> {
  return (out, [x], { dim, start, step }) => {
    zeroElements(rows, out.buffer, 0, out.buffer.length); // a fresh array of exactly its size
    const strides = out.strides.map((s, d) => (d === dim ? s * step : s));
    copy(restride(out, x!.shape, strides, out.offset + start * out.strides[dim]!), [x!]);
  };
}
