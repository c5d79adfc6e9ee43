/** Ops that select or combine by position: cat, gather, scatterAdd. */
import { promoteTypes } from '../../core/dtype.js';
import { formatShape, opError } from '../../core/errors.js';
import { normalizeDim, UNKNOWN, type Shape } from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bind, defineOp, type TensorMeta } from '../define.js';
import { checkTensor } from '../operands.js';
import * as ops from '../index.js';

const catOp = defineOp<'Cat'>({
  name: 'Cat',
  infer: (inputs, { dim }) => {
    const first = inputs[0]!;
    const shape = [...first.shape];
    shape[dim] = 0;
    for (const t of inputs) {
      const fits =
        t.shape.length === first.shape.length &&
        t.shape.every((d, i) => i === dim || d === first.shape[i]);
      if (!fits) {
        const all = inputs.map((s) => formatShape(s.shape)).join(', ');
        throw opError('cat', `shapes ${all} differ outside dimension ${dim}`);
      }
      shape[dim]! += t.shape[dim]!;
    }
    return { shape, dtype: inputs.map((t) => t.dtype).reduce(promoteTypes) };
  },
  vjp: ({ inputs, attrs: { dim } }, dy) => {
    let start = 0;
    return inputs.map((t) => {
      const part = ops.narrow(dy, dim, start, t.shape[dim]!);
      start += t.shape[dim]!;
      return part;
    });
  },
});

/** Joins tensors along an existing dimension. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw opError('cat', 'expected a non-empty list of tensors');
  tensors.forEach((t) => checkTensor('cat', t));
  return bind(catOp, tensors, { dim: normalizeDim('cat', dim, tensors[0]!.ndim) });
}

function checkIndex(
  op: string,
  x: TensorMeta,
  dim: number,
  index: TensorMeta,
  sizeLimited: boolean,
): void {
  if (index.dtype !== 'int32')
    throw opError(op, `index must be an int32 tensor, got ${index.dtype}`);
  const fits =
    index.shape.length === x.shape.length &&
    (!sizeLimited || index.shape.every((d, i) => i === dim || d <= x.shape[i]!));
  if (!fits) {
    throw opError(
      op,
      `index of shape ${formatShape(index.shape)} does not fit input of shape ${formatShape(x.shape)} along dimension ${dim}`,
    );
  }
}

const gatherOp = defineOp<'Gather'>({
  name: 'Gather',
  infer: ([x, index], { dim }) => {
    checkIndex('gather', x!, dim, index!, true);
    return { shape: index!.shape, dtype: x!.dtype };
  },
  vjp: ({ inputs: [x, index], attrs: { dim } }, dy) => [
    ops.scatterAdd(x!.shape, dim, index!, dy),
    null,
  ],
});

/** out[i][j] = x[i][index[i][j]] along `dim` (dim = 1 shown), like `torch.gather`. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor('gather', x);
  checkTensor('gather', index, 'index');
  return bind(gatherOp, [x, index], { dim: normalizeDim('gather', dim, x.ndim) });
}

const scatterAddOp = defineOp<'ScatterAdd'>({
  name: 'ScatterAdd',
  infer: ([index, src], { dim, shape }) => {
    // Sizes unknown when the graph was built (other than along `dim`) are the index's.
    const resolved = shape.map((d, i) => (d === UNKNOWN && i !== dim ? index!.shape[i]! : d));
    checkIndex('scatterAdd', { shape: resolved, dtype: src!.dtype }, dim, index!, false);
    return { shape: resolved, dtype: src!.dtype };
  },
  vjp: ({ inputs: [index], attrs: { dim } }, dy) => [null, ops.gather(dy, dim, index!)],
});

/** A zero tensor of `shape` with src[i][j] added at [i][index[i][j]] (dim = 1 shown); gather's adjoint. */
export function scatterAdd(shape: Shape, dim: number, index: Tensor, src: Tensor): Tensor {
  checkTensor('scatterAdd', index, 'index');
  checkTensor('scatterAdd', src, 'src');
  return bind(scatterAddOp, [index, src], {
    dim: normalizeDim('scatterAdd', dim, shape.length),
    shape,
  });
}
