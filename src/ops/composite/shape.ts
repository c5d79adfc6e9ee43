/** Shape helpers composed from reshape and cat. */
import { formatShape, opError } from '../../core/errors.js';
import { normalizeDim } from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkTensor } from '../operands.js';
import { reshape } from '../primitives/views.js';
import { cat } from '../primitives/indexing.js';

/** Removes size-1 dimensions (all of them, or only `dim`). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  checkTensor('squeeze', x);
  if (dim === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const d = normalizeDim('squeeze', dim, x.ndim);
  return x.shape[d] === 1
    ? reshape(
        x,
        x.shape.filter((_, i) => i !== d),
      )
    : x;
}

/** Inserts a size-1 dimension at `dim` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor('unsqueeze', x);
  const d = normalizeDim('unsqueeze', dim, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/** Merges dimensions startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor('flatten', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const [s, e] = [
    normalizeDim('flatten', startDim, x.ndim),
    normalizeDim('flatten', endDim, x.ndim),
  ];
  if (s > e)
    throw opError(
      'flatten',
      `startDim ${startDim} comes after endDim ${endDim} for shape ${formatShape(x.shape)}`,
    );
  const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
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
