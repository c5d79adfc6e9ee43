/**
 * Structural shape ops: squeeze, unsqueeze and flatten are views defined by dimensions alone (so
 * they work on shapes unknown until a graph runs); stack is composed from them and cat.
 */
import { formatShape, opError } from '../../core/errors.js';
import { contiguousStrides, normalizeDim, UNKNOWN } from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bind, defineOp } from '../define.js';
import { checkTensor } from '../operands.js';
import { cat } from '../primitives/indexing.js';
import * as ops from '../index.js';

const squeezeOp = defineOp<{ dims: readonly number[] }>({
  name: 'Squeeze',
  infer: ([x], { dims }) => ({
    shape: x!.shape.filter((_, i) => !dims.includes(i)),
    dtype: x!.dtype,
  }),
  layout: (x, { dims }) => ({
    strides: x.strides.filter((_, i) => !dims.includes(i)),
    offset: x.offset,
  }),
  vjp: ({ attrs: { dims } }, dy) => [dims.reduce((g, d) => ops.unsqueeze(g, d), dy)],
});

/** Removes size-1 dimensions (all of them, or only `dim` when it has size 1). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  checkTensor('squeeze', x);
  const dims =
    dim === undefined
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : [normalizeDim('squeeze', dim, x.ndim)].filter((d) => x.shape[d] === 1);
  return dims.length === 0 ? x : bind(squeezeOp, [x], { dims });
}

const unsqueezeOp = defineOp<{ dim: number }>({
  name: 'Unsqueeze',
  infer: ([x], { dim }) => ({
    shape: [...x!.shape.slice(0, dim), 1, ...x!.shape.slice(dim)],
    dtype: x!.dtype,
  }),
  layout: (x, { dim }) => {
    const inner = dim < x.ndim ? x.strides[dim]! * x.shape[dim]! : 1;
    return {
      strides: [...x.strides.slice(0, dim), inner, ...x.strides.slice(dim)],
      offset: x.offset,
    };
  },
  vjp: ({ attrs: { dim } }, dy) => [ops.squeeze(dy, dim)],
});

/** Inserts a size-1 dimension at `dim` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor('unsqueeze', x);
  return bind(unsqueezeOp, [x], { dim: normalizeDim('unsqueeze', dim, x.ndim + 1) });
}

const flattenOp = defineOp<{ start: number; end: number }>({
  name: 'Flatten',
  infer: ([x], { start, end }) => {
    const merged = x!.shape.slice(start, end + 1);
    const size = merged.includes(UNKNOWN) ? UNKNOWN : merged.reduce((a, b) => a * b, 1);
    return {
      shape: [...x!.shape.slice(0, start), size, ...x!.shape.slice(end + 1)],
      dtype: x!.dtype,
    };
  },
  layout: (x, _attrs, out) =>
    x.isContiguous ? { strides: contiguousStrides(out.shape), offset: x.offset } : null,
  vjp: ({ inputs: [x] }, dy) => [ops.reshapeAs(dy, x!)],
});

/** Merges dimensions startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor('flatten', x);
  if (x.ndim === 0) return ops.reshape(x, [1]);
  const [s, e] = [
    normalizeDim('flatten', startDim, x.ndim),
    normalizeDim('flatten', endDim, x.ndim),
  ];
  if (s > e) {
    throw opError(
      'flatten',
      `startDim ${startDim} comes after endDim ${endDim} for shape ${formatShape(x.shape)}`,
    );
  }
  return bind(flattenOp, [x], { start: s, end: e });
}

/** Joins same-shaped tensors along a new dimension. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw opError('stack', 'expected a non-empty list of tensors');
  const shape = tensors[0]!.shape;
  if (tensors.some((t) => checkTensor('stack', t).shape.join() !== shape.join())) {
    throw opError(
      'stack',
      `all tensors need the same shape, got ${tensors.map((t) => formatShape(t.shape)).join(', ')}`,
    );
  }
  const d = normalizeDim('stack', dim, shape.length + 1);
  return cat(
    tensors.map((t) => unsqueeze(t, d)),
    d,
  );
}
