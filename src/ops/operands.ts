/** Turning op arguments (tensors or JS numbers) into tensors. */
import { allocArray, promoteWithScalar, scalarDType, type DType } from '../core/dtype.js';
import { opError } from '../core/errors.js';
import type { Backend } from '../backends/backend.js';
import { getBackend } from '../engine/devices.js';
import { Tensor, type TensorLike } from '../tensor/tensor.js';

/** A 0-d tensor holding `value` (built on the host, then handed to the device). */
export function scalar(value: number, dtype: DType, backend: Backend = getBackend()): Tensor {
  const host = allocArray(dtype, 1);
  host[0] = value;
  return Tensor.fromHost(host, [], dtype, backend);
}

/** 0-d tensors made from JS numbers by `operands`: nb.jit compares them by value between traces. */
const fromNumbers = new WeakSet<Tensor>();

export function isNumberOperand(t: Tensor): boolean {
  return fromNumbers.has(t);
}

function numberOperand(op: string, value: unknown, dtype: DType, backend?: Backend): Tensor {
  const t = scalar(checkNumber(op, value), dtype, backend);
  fromNumbers.add(t);
  return t;
}

export function checkTensor(op: string, value: unknown, role = 'input'): Tensor {
  if (value instanceof Tensor) return value;
  throw opError(op, `expected a Tensor as ${role}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array (wrap it with nb.tensor)';
  return value === null ? 'null' : typeof value;
}

/** Both operands as tensors; a number takes the dtype PyTorch would give it next to the tensor. */
export function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (a instanceof Tensor && b instanceof Tensor) return [a, b];
  if (a instanceof Tensor)
    return [a, numberOperand(op, b, promoteWithScalar(a.dtype, b as number), a.backend)];
  if (b instanceof Tensor)
    return [numberOperand(op, a, promoteWithScalar(b.dtype, a), b.backend), b];
  const dtype = Number.isInteger(a) && Number.isInteger(b) ? scalarDType(a) : 'float32';
  return [numberOperand(op, a, dtype), numberOperand(op, b, dtype)];
}

function checkNumber(op: string, value: unknown): number {
  if (typeof value === 'number') return value;
  throw opError(op, `expected a Tensor or a number, got ${describe(value)}`);
}
