import { formatShape, opError } from '../../core/errors.js';
import { broadcastShapes, UNKNOWN } from '../../core/shape.js';
import { promoteTypes } from '../../core/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bind, defineOp } from '../define.js';
import { checkTensor } from '../operands.js';
import * as ops from '../index.js';

const matmulOp = defineOp<'MatMul'>({
  name: 'MatMul',
  infer: ([a, b]) => {
    const [ka, kb] = [a!.shape[a!.shape.length - 1], b!.shape[b!.shape.length - 2]];
    if (ka !== kb && ka !== UNKNOWN && kb !== UNKNOWN) {
      const [sa, sb] = [formatShape(a!.shape), formatShape(b!.shape)];
      throw opError('matmul', `shapes ${sa} and ${sb} cannot be multiplied (${ka} ≠ ${kb})`);
    }
    const batch = broadcastShapes('matmul', [a!.shape.slice(0, -2), b!.shape.slice(0, -2)]);
    const [m, n] = [a!.shape[a!.shape.length - 2]!, b!.shape[b!.shape.length - 1]!];
    return { shape: [...batch, m, n], dtype: promoteTypes(a!.dtype, b!.dtype) };
  },
  // A first layer's input needs no gradient: its product (a seventh of W3's work) is skipped.
  vjp: ({ inputs: [a, b], needsGrad }, dy) => [
    needsGrad?.[0] === false ? null : ops.matmul(dy, ops.transpose(b!, -1, -2)),
    needsGrad?.[1] === false ? null : rightGrad(a!, b!, dy),
  ],
});

/**
 * aᵀ·dy. For b = Wᵀ (nn.Linear's x·Wᵀ) it is computed as (dyᵀ·a)ᵀ, so that W's gradient comes
 * out dense with no copy; the products and the order they are summed in are those of aᵀ·dy, so
 * the floats are the same.
 */
function rightGrad(a: Tensor, b: Tensor, dy: Tensor): Tensor {
  return isTransposed(b)
    ? ops.transpose(ops.matmul(ops.transpose(dy, -1, -2), a), -1, -2)
    : ops.matmul(ops.transpose(a, -1, -2), dy);
}

/** Whether `x` was made by swapping the last two dimensions of another tensor. */
function isTransposed(x: Tensor): boolean {
  const node = x.gradFn;
  if (node?.name !== 'Permute') return false;
  const { dims } = node.attrs as { dims: readonly number[] };
  const n = dims.length;
  return n >= 2 && dims.every((d, i) => d === (i === n - 2 ? n - 1 : i === n - 1 ? n - 2 : i));
}

/**
 * Matrix product with PyTorch's rules: 1-D operands are treated as a row (left) or column (right)
 * vector, and leading batch dimensions broadcast.
 *
 * @example nb.matmul(nb.ones([2, 3]), nb.ones([3, 4])).shape; // [2, 4]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', a);
  checkTensor('matmul', b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw opError(
      'matmul',
      `both operands need at least 1 dimension, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const left = a.ndim === 1 ? ops.unsqueeze(a, 0) : a;
  const right = b.ndim === 1 ? ops.unsqueeze(b, -1) : b;
  let out = bind(matmulOp, [left, right], {});
  if (b.ndim === 1) out = ops.squeeze(out, -1);
  if (a.ndim === 1) out = ops.squeeze(out, b.ndim === 1 ? -1 : -2);
  return out;
}
