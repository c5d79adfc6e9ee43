/** Element types. `bool` is stored as one byte per element. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** int32's range, as a message states it. */
export const INT32_RANGE = '-2147483648..2147483647';

/** Whether int32 holds `value` once truncated toward zero (NaN and ±Infinity: no). */
export function fitsInt32(value: number): boolean {
  return value > -2147483649 && value < 2147483648;
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** The dtype two operands combine to, as in PyTorch: bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

const category = (dtype: DType): number => (dtype === 'bool' ? 0 : isFloat(dtype) ? 2 : 1);

/**
 * The dtype of a binary op's result, PyTorch's way: a 0-d tensor does not raise the dtype of a
 * dimensioned tensor of the same category (float32 matrix × float64 scalar tensor → float32).
 */
export function resultType(a: DType, aRank: number, b: DType, bRank: number): DType {
  if (aRank === 0 && bRank > 0 && category(a) <= category(b)) return b;
  if (bRank === 0 && aRank > 0 && category(b) <= category(a)) return a;
  return promoteTypes(a, b);
}

/** The dtype of a JS number used as an operand: integers act as int32, others as float32. */
export function scalarDType(value: number): DType {
  return Number.isInteger(value) ? 'int32' : 'float32';
}

/**
 * Result dtype of `tensor (op) number`: like PyTorch, a number never widens a float tensor,
 * but a fractional number lifts an integer tensor to float32.
 */
export function promoteWithScalar(tensorDType: DType, value: number): DType {
  if (isFloat(tensorDType)) return tensorDType;
  return promoteTypes(tensorDType === 'bool' ? 'int32' : tensorDType, scalarDType(value));
}

export function dtypeOfArray(array: TypedArray): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Int32Array) return 'int32';
  return 'bool';
}
