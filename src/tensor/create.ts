/** Creation functions: nb.tensor, zeros, ones, full, arange, linspace, eye, rand, randn, randint. */
import {
  allocArray,
  dtypeOfArray,
  isDType,
  isFloat,
  type DType,
  type TypedArray,
} from '../core/dtype.js';
import { NablaError, opError } from '../core/errors.js';
import { checkShape, sizeOf, type Shape } from '../core/shape.js';
import type { Device } from '../backends/backend.js';
import { getBackend } from '../engine/devices.js';
import { cpuBackend } from '../backends/cpu/index.js';
import { globalGenerator as random } from '../engine/random.js';
import { Tensor } from './tensor.js';

export interface TensorOptions {
  shape?: readonly number[];
  dtype?: DType;
  requiresGrad?: boolean;
  device?: Device;
}
export type CreationOptions = Omit<TensorOptions, 'shape'>;

export type NestedData = number | boolean | readonly NestedData[];
export type TensorData = NestedData | Float32Array | Float64Array | Int32Array | Uint8Array;

function finish(op: string, data: TypedArray, shape: Shape, opts: CreationOptions): Tensor {
  const dtype = opts.dtype ?? dtypeOfArray(data);
  if (opts.dtype && !isDType(opts.dtype))
    throw opError(op, `unknown dtype '${String(opts.dtype)}'`);
  let host = data;
  if (dtypeOfArray(data) !== dtype) {
    host = allocArray(dtype, data.length);
    for (let i = 0; i < data.length; i++) host[i] = dtype === 'bool' ? +(data[i] !== 0) : data[i]!;
  }
  const t = Tensor.fromHost(host, shape, dtype, getBackend(opts.device));
  if (opts.requiresGrad) {
    if (!isFloat(dtype))
      throw opError(op, `only floating-point tensors can require grad, not ${dtype}`);
    t.requiresGrad = true;
  }
  return t;
}

function inferShape(data: NestedData): number[] {
  const shape: number[] = [];
  let level: NestedData = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = (level as readonly NestedData[])[0] as NestedData;
    if (level === undefined) break;
  }
  return shape;
}

function flattenNested(data: NestedData, shape: Shape, out: number[], dim = 0): void {
  if (dim === shape.length) {
    if (typeof data === 'number') out.push(data);
    else if (typeof data === 'boolean') out.push(data ? 1 : 0);
    else
      throw opError(
        'tensor',
        `expected a number at depth ${dim}, got ${Array.isArray(data) ? 'an array' : typeof data}`,
      );
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw opError(
      'tensor',
      `ragged nested array: expected ${shape[dim]} entries at depth ${dim}, got ${Array.isArray(data) ? data.length : typeof data}`,
    );
  }
  for (const item of data as readonly NestedData[]) flattenNested(item, shape, out, dim + 1);
}

function firstLeaf(data: NestedData): NestedData {
  return Array.isArray(data) && data.length > 0
    ? firstLeaf((data as readonly NestedData[])[0]!)
    : data;
}

/**
 * A tensor from numbers, nested arrays or a typed array. JS numbers become float32 (as in
 * TensorFlow.js), booleans bool; typed arrays keep their type. A typed array is used without copying.
 *
 * @example nb.tensor([[1, 2], [3, 4]]).shape; // [2, 2]
 */
export function tensor(data: TensorData, opts: TensorOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const shape = checkShape('tensor', opts.shape ?? [data.length]);
    if (sizeOf(shape) !== data.length) {
      throw opError(
        'tensor',
        `shape ${JSON.stringify(shape)} needs ${sizeOf(shape)} elements, got ${data.length}`,
      );
    }
    return finish('tensor', data, shape, opts);
  }
  const shape = inferShape(data);
  const values: number[] = [];
  flattenNested(data, shape, values);
  const isBool = typeof firstLeaf(data) === 'boolean';
  const host = allocArray(opts.dtype ?? (isBool ? 'bool' : 'float32'), values.length);
  host.set(values);
  const target = opts.shape ? checkShape('tensor', opts.shape) : shape;
  if (sizeOf(target) !== values.length) {
    throw opError(
      'tensor',
      `shape ${JSON.stringify(target)} needs ${sizeOf(target)} elements, got ${values.length}`,
    );
  }
  return finish('tensor', host, target, opts);
}

function filled(
  op: string,
  shape: readonly number[],
  opts: CreationOptions,
  fill: (i: number) => number,
): Tensor {
  const s = checkShape(op, shape);
  // Pool memory (the WebAssembly arena when large), where the SIMD kernels can work on it in place.
  const data = cpuBackend.alloc(opts.dtype ?? 'float32', sizeOf(s));
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  return finish(op, data, s, opts);
}

export const zeros = (shape: readonly number[], opts: CreationOptions = {}): Tensor =>
  filled('zeros', shape, opts, () => 0);
export const ones = (shape: readonly number[], opts: CreationOptions = {}): Tensor =>
  filled('ones', shape, opts, () => 1);
export const full = (shape: readonly number[], value: number, opts: CreationOptions = {}): Tensor =>
  filled('full', shape, opts, () => value);
export const zerosLike = (t: Tensor, opts: CreationOptions = {}): Tensor =>
  zeros(t.shape, { dtype: t.dtype, device: t.device, ...opts });
export const onesLike = (t: Tensor, opts: CreationOptions = {}): Tensor =>
  ones(t.shape, { dtype: t.dtype, device: t.device, ...opts });

/**
 * Values start, start+step, ... below end (`arange(n)` counts 0..n−1). Integer arguments give int32,
 * like PyTorch's integer arange; pass `dtype` to choose.
 */
export function arange(start: number, end?: number, step = 1, opts: CreationOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(from) || !Number.isFinite(to)) {
    throw opError('arange', `invalid range ${from}..${to} with step ${step}`);
  }
  const n = Math.max(0, Math.ceil((to - from) / step));
  const integral = [from, to, step].every(Number.isInteger);
  return filled(
    'arange',
    [n],
    { dtype: integral ? 'int32' : 'float32', ...opts },
    (i) => from + i * step,
  );
}

/** n evenly spaced values from a to b inclusive. */
export function linspace(a: number, b: number, n: number, opts: CreationOptions = {}): Tensor {
  const step = n > 1 ? (b - a) / (n - 1) : 0;
  return filled('linspace', [n], opts, (i) => (i === n - 1 ? b : a + i * step));
}

/** The n×n identity matrix. */
export function eye(n: number, opts: CreationOptions = {}): Tensor {
  return filled('eye', [n, n], opts, (i) => (i % (n + 1) === 0 ? 1 : 0));
}

/** Uniform samples in [0, 1) from the seeded generator (see manualSeed). */
export const rand = (shape: readonly number[], opts: CreationOptions = {}): Tensor =>
  filled('rand', shape, opts, () => random.nextUniform());
/** Standard normal samples from the seeded generator. */
export const randn = (shape: readonly number[], opts: CreationOptions = {}): Tensor =>
  filled('randn', shape, opts, () => random.nextNormal());
/** Uniform integers in [low, high), int32 unless `dtype` says otherwise. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  opts: CreationOptions = {},
): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new NablaError(`randint: need integers low < high, got ${low} and ${high}`, 'randint');
  }
  return filled('randint', shape, { dtype: 'int32', ...opts }, () => random.nextInt(low, high));
}
