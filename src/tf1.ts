/**
 * nabla/tf1 — the TensorFlow-1.x-style names. For now these are the same ops as `nabla`, run
 * eagerly, under the names TF1 users know; placeholders, Variables and Session come with graph mode.
 */
import type { DType } from './core/dtype.js';
import * as ops from './ops/index.js';
import { tensor, type TensorData } from './tensor/create.js';
import type { Tensor } from './tensor/tensor.js';

export * from './index.js';

/** A tensor holding `value`, like `tf.constant`. */
export function constant(value: TensorData, dtype?: DType, shape?: readonly number[]): Tensor {
  return tensor(value, { ...(dtype && { dtype }), ...(shape && { shape }) });
}
export const subtract = ops.sub;
export const multiply = ops.mul;
export const divide = ops.div;
export const reduceSum = (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor =>
  ops.sum(x, axis, keepdims);
export const reduceMean = (
  x: Tensor,
  axis?: number | readonly number[],
  keepdims = false,
): Tensor => ops.mean(x, axis, keepdims);
export const reduceMax = (x: Tensor, axis?: number, keepdims = false): Tensor =>
  ops.max(x, axis, keepdims);
