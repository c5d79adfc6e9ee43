/** Math composed from primitives: no kernels and no gradient code of their own. */
import { opError } from '../../core/errors.js';
import { normalizeDim } from '../../core/shape.js';
import type { DType } from '../../core/dtype.js';
import type { Device } from '../../backends/backend.js';
import { getBackend, isDevice } from '../../engine/devices.js';
import type { Backend } from '../../backends/backend.js';
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

/**
 * The tensor as another dtype, or copied to another device (a new tensor that autograd does not
 * connect to `x`). Reads from an asynchronous device (webgpu) need `toAsync`.
 */
export function to(x: Tensor, target: DType | Device): Tensor {
  checkTensor('to', x);
  if (!isDevice(target)) return cast(x, target);
  if (target === x.device) return x;
  const backend = targetBackend(x, target);
  if (x.backend.readSync(x.buffer) === null) {
    throw opError(
      'to',
      `a ${x.device} tensor is read asynchronously: use await t.toAsync('${target}')`,
    );
  }
  return Tensor.fromHost(x.contiguous().dataSync(), x.shape, x.dtype, backend);
}

/** `to()` for every device pair: reads from the GPU wait for it. */
export async function toAsync(x: Tensor, target: DType | Device): Promise<Tensor> {
  checkTensor('toAsync', x);
  if (!isDevice(target) || target === x.device || x.backend.readSync(x.buffer) !== null)
    return to(x, target);
  const backend = targetBackend(x, target);
  return Tensor.fromHost(await x.data(), x.shape, x.dtype, backend);
}

function targetBackend(x: Tensor, device: Device): Backend {
  const backend = getBackend(device);
  if (backend.dtypes && !backend.dtypes.includes(x.dtype)) {
    throw opError(
      'to',
      `the ${device} device has no ${x.dtype} tensors: convert first, e.g. t.to('float32').to('${device}')`,
    );
  }
  return backend;
}

/**
 * `value` broadcast to `like`'s shape (and dtype): a read-only view of one element, whose shape may
 * be unknown until a graph runs. For a fresh writable tensor use nb.full / nb.zerosLike.
 */
export function filledAs(value: number, like: Tensor): Tensor {
  return expandAs(scalar(value, like.dtype, like.backend), like);
}
