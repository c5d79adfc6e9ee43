/** Creation functions: nb.tensor, zeros, ones, full, arange, linspace, eye, rand, randn, randint. */
import {
  allocArray,
  DTYPES,
  dtypeOfArray,
  fitsInt32,
  INT32_RANGE,
  isDType,
  isFloat,
  type DType,
  type TypedArray,
} from '../core/dtype.js';
import { NablaError, opError } from '../core/errors.js';
import { allocate } from '../engine/storage.js';
import { checkShape, sizeOf, type Shape, type ShapeLike } from '../core/shape.js';
import type { Device } from '../backends/backend.js';
import { getBackend } from '../engine/devices.js';
import { cpuBackend } from '../backends/cpu/index.js';
import { globalGenerator as random } from '../engine/random.js';
import { Tensor } from './tensor.js';
import { activeTrace } from '../engine/trace.js';
import { randomLike, type Distribution } from '../ops/composite/random.js';

export interface TensorOptions {
  shape?: readonly number[];
  dtype?: DType;
  requiresGrad?: boolean;
  device?: Device;
}
export type CreationOptions = Omit<TensorOptions, 'shape'>;

export type NestedData = number | boolean | readonly NestedData[];
export type TensorData = NestedData | Float32Array | Float64Array | Int32Array | Uint8Array;

/** `shape` as a checked list of sizes. */
function shapeOf(op: string, shape: ShapeLike): Shape {
  return checkShape(op, typeof shape === 'number' ? [shape] : shape);
}

function checkDType(op: string, dtype: unknown): void {
  if (dtype !== undefined && !isDType(dtype))
    throw opError(
      op,
      `unknown dtype '${String(dtype)}': nabla has ${DTYPES.join(', ')} (no ${String(dtype)})`,
    );
}

/**
 * How a number is stored as `dtype`: bool as 0 or 1 (non-zero and NaN are true, as in PyTorch);
 * int32 truncated toward zero, refusing what int32 cannot hold instead of wrapping it.
 */
function storeAs(op: string, dtype: DType): (value: number) => number {
  if (dtype === 'bool') return (v) => +(v !== 0);
  if (dtype === 'int32')
    return (v) => {
      if (fitsInt32(v)) return v;
      throw opError(op, `${v} cannot be stored as int32 (its range is ${INT32_RANGE})`);
    };
  return (v) => v;
}

function converted(op: string, values: ArrayLike<number>, dtype: DType): TypedArray {
  const out = allocArray(dtype, values.length);
  const store = storeAs(op, dtype);
  for (let i = 0; i < values.length; i++) out[i] = store(values[i]!);
  return out;
}

const INTEGER_ARRAYS = [
  Uint8Array,
  Uint8ClampedArray,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
];

/**
 * The dtype a typed array's values take: its own where nabla has it; other integer arrays become
 * int32 with their values (PyTorch keeps uint8 as uint8, which nabla lacks). Booleans come from JS
 * booleans or `dtype: 'bool'`, never from a byte array.
 */
function dtypeOfData(op: string, data: ArrayBufferView): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (INTEGER_ARRAYS.some((type) => data instanceof type)) return 'int32';
  throw opError(
    op,
    `a ${data.constructor.name} cannot become a tensor: nabla holds ${DTYPES.join(', ')} (pass a Float32Array, Float64Array or Int32Array)`,
  );
}

function finish(op: string, host: TypedArray, shape: Shape, opts: CreationOptions): Tensor {
  const dtype = dtypeOfArray(host);
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

/** Appends the leaves of `data` to `out`; returns whether every leaf was a boolean. */
function flattenNested(data: NestedData, shape: Shape, out: number[], dim = 0): boolean {
  if (dim === shape.length) {
    if (typeof data === 'number') out.push(data);
    else if (typeof data === 'boolean') out.push(data ? 1 : 0);
    else
      throw opError(
        'tensor',
        `expected a number at depth ${dim}, got ${Array.isArray(data) ? 'an array' : typeof data}`,
      );
    return typeof data === 'boolean';
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw opError(
      'tensor',
      `ragged nested array: expected ${shape[dim]} entries at depth ${dim}, got ${Array.isArray(data) ? data.length : typeof data}`,
    );
  }
  let allBool = true;
  for (const item of data as readonly NestedData[])
    allBool = flattenNested(item, shape, out, dim + 1) && allBool;
  return allBool;
}

/**
 * A tensor from numbers, nested arrays or a typed array. JS numbers become float32 (as in
 * TensorFlow.js), all-boolean data bool; typed arrays keep their values (byte and 16-bit integer
 * arrays as int32). A Float32Array, Float64Array or Int32Array of the tensor's dtype is used
 * without copying. Values that `dtype` cannot hold are an error, never wrapped.
 *
 * @example nb.tensor([[1, 2], [3, 4]]).shape; // [2, 2]
 */
export function tensor(data: TensorData, opts: TensorOptions = {}): Tensor {
  checkDType('tensor', opts.dtype);
  if (ArrayBuffer.isView(data)) {
    const values = data as unknown as ArrayLike<number>;
    const shape = checkShape('tensor', opts.shape ?? [values.length]);
    const own = dtypeOfData('tensor', data);
    if (sizeOf(shape) !== values.length) {
      throw opError(
        'tensor',
        `shape ${JSON.stringify(shape)} needs ${sizeOf(shape)} elements, got ${values.length}`,
      );
    }
    const dtype = opts.dtype ?? own;
    const reusable = dtype === own && dtypeOfArray(data as TypedArray) === own;
    return finish(
      'tensor',
      reusable ? (data as TypedArray) : converted('tensor', values, dtype),
      shape,
      opts,
    );
  }
  const shape = inferShape(data);
  const values: number[] = [];
  const allBool = flattenNested(data, shape, values) && values.length > 0;
  const target = opts.shape ? checkShape('tensor', opts.shape) : shape;
  if (sizeOf(target) !== values.length) {
    throw opError(
      'tensor',
      `shape ${JSON.stringify(target)} needs ${sizeOf(target)} elements, got ${values.length}`,
    );
  }
  const dtype = opts.dtype ?? (allBool ? 'bool' : 'float32');
  return finish('tensor', converted('tensor', values, dtype), target, opts);
}

/** A new tensor whose element i is fill(i), or `fill` itself when it is a number. */
function filled(
  op: string,
  shape: ShapeLike,
  opts: CreationOptions,
  fill: number | ((i: number) => number),
): Tensor {
  checkDType(op, opts.dtype);
  const s = shapeOf(op, shape);
  const dtype = opts.dtype ?? 'float32';
  // Pool memory (the WebAssembly arena when large), where the SIMD kernels can work on it in place.
  const data = allocate(op, cpuBackend, dtype, s);
  const store = storeAs(op, dtype);
  if (typeof fill === 'number') data.fill(store(fill));
  else for (let i = 0; i < data.length; i++) data[i] = store(fill(i));
  return finish(op, data, s, opts);
}

export const zeros = (shape: ShapeLike, opts: CreationOptions = {}): Tensor =>
  filled('zeros', shape, opts, 0);
export const ones = (shape: ShapeLike, opts: CreationOptions = {}): Tensor =>
  filled('ones', shape, opts, 1);
export const full = (shape: ShapeLike, value: number, opts: CreationOptions = {}): Tensor =>
  filled('full', shape, opts, value);
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

/**
 * Samples from the seeded generator; inside nb.jit an op of the step, drawing new values at every
 * run rather than the ones drawn while tracing.
 */
function sampled(op: string, shape: ShapeLike, opts: CreationOptions, distribution: Distribution) {
  if (activeTrace()) return randomLike(zeros(shape, opts), distribution);
  const draw = distribution === 'uniform' ? () => random.nextUniform() : () => random.nextNormal();
  return filled(op, shape, opts, draw);
}

/** Uniform samples in [0, 1) from the seeded generator (see manualSeed). */
export const rand = (shape: ShapeLike, opts: CreationOptions = {}): Tensor =>
  sampled('rand', shape, opts, 'uniform');
/** Standard normal samples from the seeded generator. */
export const randn = (shape: ShapeLike, opts: CreationOptions = {}): Tensor =>
  sampled('randn', shape, opts, 'normal');
/** Uniform integers in [low, high), int32 unless `dtype` says otherwise. */
export function randint(
  low: number,
  high: number,
  shape: ShapeLike,
  opts: CreationOptions = {},
): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new NablaError(`randint: need integers low < high, got ${low} and ${high}`, 'randint');
  }
  return filled('randint', shape, { dtype: 'int32', ...opts }, () => random.nextInt(low, high));
}
