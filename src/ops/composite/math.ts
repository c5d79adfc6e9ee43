/** Math composed from primitives: no kernels and no gradient code of their own. */
import { opError } from '../../core/errors.js';
import { normalizeDim } from '../../core/shape.js';
import type { DType } from '../../core/dtype.js';
import type { Device } from '../../backends/backend.js';
import { isDevice } from '../../engine/devices.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkTensor, scalar } from '../operands.js';
import { cast, exp, gt, log, lt, mul, sub, where, div } from '../primitives/elementwise.js';
import { countAlong, max, reduceDims, sum } from '../primitives/reduce.js';
import { expand, expandAs, reshape } from '../primitives/views.js';
import { gather } from '../primitives/indexing.js';

/** Mean of all elements, or along `dim`. */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  checkTensor('mean', x);
  const dims = reduceDims('mean', x, dim);
  return div(sum(x, dims, keepdim), countAlong(x, dims));
}

/** Limits x to [min, max]; the gradient passes where min ≤ x ≤ max, as in PyTorch. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  checkTensor('clamp', x);
  if (min == null && max == null) throw opError('clamp', 'give at least one of min and max');
  let y = x;
  if (min != null) y = where(lt(x, min), min, y);
  if (max != null) y = where(gt(x, max), max, y);
  return y;
}

/** x for x > 0, negativeSlope·x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return where(gt(x, 0), x, mul(x, negativeSlope));
}

/** log(softmax(x)) along `dim`, computed stably as x − max − log Σ exp(x − max). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  checkTensor('logSoftmax', x);
  const d = normalizeDim('logSoftmax', dim, x.ndim);
  // The shift only keeps exp() finite; it cancels exactly, so it carries no gradient.
  const shifted = sub(x, max(x, d, true).detach());
  return sub(shifted, log(sum(exp(shifted), d, true)));
}

/** exp(x) / Σ exp(x) along `dim`, stable for large inputs. */
export function softmax(x: Tensor, dim: number): Tensor {
  return exp(logSoftmax(x, dim));
}

/** Entries of `x` at positions `index` (1-D int32) along `dim`. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor('indexSelect', x);
  checkTensor('indexSelect', index, 'index');
  const d = normalizeDim('indexSelect', dim, x.ndim);
  if (index.ndim !== 1)
    throw opError('indexSelect', `index must be 1-D, got ${index.ndim} dimensions`);
  const along = x.shape.map((_, i) => (i === d ? index.size : 1));
  const shape = x.shape.map((s, i) => (i === d ? index.size : s));
  return gather(x, d, expand(reshape(index, along), shape));
}

/** The tensor as another dtype, or on another device. */
export function to(x: Tensor, target: DType | Device): Tensor {
  checkTensor('to', x);
  if (isDevice(target)) {
    if (target === x.device) return x;
    throw opError('to', `moving tensors to '${target}' is not supported yet`);
  }
  return cast(x, target);
}

/**
 * `value` broadcast to `like`'s shape (and dtype): a read-only view of one element, whose shape may
 * be unknown until a graph runs. For a fresh writable tensor use nb.full / nb.zerosLike.
 */
export function filledAs(value: number, like: Tensor): Tensor {
  return expandAs(scalar(value, like.dtype, like.backend), like);
}
