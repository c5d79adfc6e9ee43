/** Reductions along dimensions: sum, max, min, argmax, argmin (mean is composed from sum). */
import type { DType } from '../../core/dtype.js';
import { normalizeDim, type Shape } from '../../core/shape.js';
import { formatShape, opError } from '../../core/errors.js';
import type { ReduceAttrs, ReduceName } from '../../backends/primitives.js';
import type { Tensor } from '../../tensor/tensor.js';
import { UNKNOWN } from '../../core/shape.js';
import { bind, defineOp, type TensorMeta, type Vjp } from '../define.js';
import { checkTensor } from '../operands.js';
import * as ops from '../index.js';

export function reducedShape(shape: Shape, { dims, keepdim }: ReduceAttrs): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!dims.includes(i)) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** `dim` (one, several or all dimensions) as sorted unique non-negative dims. */
export function reduceDims(op: string, x: TensorMeta, dim?: number | readonly number[]): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  const list = typeof dim === 'number' ? [dim] : dim;
  if (x.shape.length === 0) return (list.forEach((d) => normalizeDim(op, d, 0)), []);
  return [...new Set(list.map((d) => normalizeDim(op, d, x.shape.length)))].sort((a, b) => a - b);
}

/** The output gradient with the reduced dimensions put back (size 1), to broadcast against x. */
function keptGrad(dy: Tensor, attrs: ReduceAttrs): Tensor {
  return attrs.keepdim ? dy : attrs.dims.reduce((g, d) => ops.unsqueeze(g, d), dy);
}

/** Max, min and their indices have no value over no elements: PyTorch refuses them too. */
function refuseEmpty(name: ReduceName, shape: Shape, { dims }: ReduceAttrs): void {
  const empty = dims.find((d) => shape[d] === 0);
  if (empty !== undefined)
    throw opError(
      name,
      `cannot reduce over an empty dimension: shape ${formatShape(shape)}, dimension ${empty} has size 0`,
    );
}

function reduceOp(name: ReduceName, dtype: (input: DType) => DType, vjp?: Vjp<ReduceAttrs>) {
  const needsElements = name !== 'Sum';
  const op = defineOp<typeof name>({
    name,
    infer: ([x], attrs) => {
      if (needsElements) refuseEmpty(name, x!.shape, attrs);
      return { shape: reducedShape(x!.shape, attrs), dtype: dtype(x!.dtype) };
    },
    ...(vjp && { vjp }),
  });
  return (x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor => {
    checkTensor(name, x);
    return bind(op, [x], { dims: reduceDims(name, x, dim), keepdim });
  };
}

/** Max/min gradient: shared evenly among the elements equal to the result. */
const extremeVjp: Vjp<ReduceAttrs> = ({ inputs: [x], output, attrs }, dy) => {
  const mask = ops.cast(ops.eq(x!, keptGrad(output, attrs)), dy.dtype);
  const count = ops.sum(mask, attrs.dims, true);
  return [ops.div(ops.mul(mask, keptGrad(dy, attrs)), count)];
};

const summed = (dtype: DType): DType => (dtype === 'bool' ? 'int32' : dtype);
const index = (): DType => 'int32';

/** Sum of all elements, or along `dim` (a number or a list); `keepdim` keeps size-1 dims. */
export const sum = reduceOp('Sum', summed, ({ inputs: [x], attrs }, dy) => [
  ops.expandAs(keptGrad(dy, attrs), x!),
]);
const maxAlong = reduceOp('Max', (d) => d, extremeVjp);
const minAlong = reduceOp('Min', (d) => d, extremeVjp);
const argmaxAlong = reduceOp('ArgMax', index);
const argminAlong = reduceOp('ArgMin', index);

/** The largest element, or the largest values along `dim`. */
export const max = (x: Tensor, dim?: number, keepdim = false): Tensor => maxAlong(x, dim, keepdim);
/** The smallest element, or the smallest values along `dim`. */
export const min = (x: Tensor, dim?: number, keepdim = false): Tensor => minAlong(x, dim, keepdim);
/** Index of the largest element (of the flattened tensor when `dim` is omitted). */
export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor =>
  argmaxAlong(x, dim, keepdim);
/** Index of the smallest element (of the flattened tensor when `dim` is omitted). */
export const argmin = (x: Tensor, dim?: number, keepdim = false): Tensor =>
  argminAlong(x, dim, keepdim);

const numelOp = defineOp<'Numel'>({
  name: 'Numel',
  infer: (_inputs, { dtype }) => ({ shape: [], dtype }),
});

/**
 * The number of elements along `dims` as a 0-d tensor, counted when the op runs: how `mean` divides
 * when a size is unknown until a graph runs.
 */
export function numel(x: Tensor, dims: readonly number[], dtype: DType = 'float32'): Tensor {
  return bind(numelOp, [x], { dims, dtype });
}

/** How many elements `dims` of `x` hold: a number when known now, else a tensor counted at run time. */
export function countAlong(x: Tensor, dims: readonly number[]): number | Tensor {
  const sizes = dims.map((d) => x.shape[d]!);
  return sizes.includes(UNKNOWN)
    ? numel(x, dims, x.dtype === 'float64' ? 'float64' : 'float32')
    : sizes.reduce((a, b) => a * b, 1);
}
