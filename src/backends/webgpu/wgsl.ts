/**
 * Pieces every generated WGSL kernel shares: element types, the parameter block (shapes, strides
 * and offsets arrive as a uniform array, so one pipeline serves every shape of a given rank), the
 * buffer declarations, and the launch grid.
 */
import type { DType } from '../../core/dtype.js';
import { opError } from '../../core/errors.js';
import type { ArrayView } from '../primitives.js';
import type { GpuContext } from './context.js';
import type { GpuBuffer } from './pool.js';

export type View = ArrayView<GpuBuffer>;
/** The type a kernel computes in: f32, or i32 when no operand is a float. */
export type ComputeType = 'f32' | 'i32';

/** Largest workgroup count along one grid dimension (WebGPU's default limit). */
const MAX_GRID = 65535;

/** How `dtype` is stored: bool as u32 (WGSL has no byte arrays); float64 is refused. */
export function storageType(op: string, dtype: DType): 'f32' | 'i32' | 'u32' {
  switch (dtype) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'bool':
      return 'u32';
    case 'float64':
      throw float64Refused(op);
  }
}

/** The 32-bit word that stores `value` as `dtype` on the GPU (bool as 0 or 1). */
export function storedWord(op: string, dtype: DType, value: number): number {
  const type = storageType(op, dtype);
  if (type === 'f32') return new Uint32Array(Float32Array.of(value).buffer)[0]!;
  return type === 'u32' ? Number(value !== 0) : (value | 0) >>> 0;
}

export function float64Refused(op: string): Error {
  return opError(
    op,
    "WebGPU has no float64 (WGSL computes in 32 bits): use float32, or run this on 'cpu'",
  );
}

export function computeType(dtypes: readonly DType[]): ComputeType {
  return dtypes.some((d) => d === 'float32') ? 'f32' : 'i32';
}

/** `value` (of the compute type) as stored in a buffer of `dtype`. */
export function store(dtype: DType, value: string, ct: ComputeType): string {
  switch (storageType('store', dtype)) {
    case 'f32':
      return `f32(${value})`;
    case 'i32':
      return `i32(${value})`;
    case 'u32':
      return `select(0u, 1u, ${value} != ${ct}(0))`;
  }
}

/**
 * A kernel's generated sources by what they depend on (rank, dtypes, layout flags), so that a
 * repeated launch neither builds its WGSL again nor hashes a new string to find its pipeline: in a
 * replayed training step that was most of the cost of a small kernel.
 */
export class SourceCache {
  private readonly sources = new Map<string, string>();
  get(key: string, make: () => string): string {
    let source = this.sources.get(key);
    if (source === undefined) this.sources.set(key, (source = make()));
    return source;
  }
}

/** Words of a kernel's parameter block; signed values are stored as their two's complement. */
export class Params {
  private readonly words: number[] = [];
  /** Appends values and returns the index of the first. */
  push(...values: readonly number[]): number {
    const at = this.words.length;
    for (const v of values) this.words.push(v >>> 0);
    return at;
  }
  get length(): number {
    return this.words.length;
  }
  toArray(): Uint32Array {
    return Uint32Array.from(this.words);
  }
}

/**
 * The declarations of a kernel: the parameter block (`P(i)` reads word i, `S(i)` as i32), the
 * output `out` and the inputs `in0`, `in1`, ... with their element types.
 */
export function header(
  op: string,
  paramWords: number,
  out: DType,
  inputs: readonly DType[],
  /** Buffers read or written four elements at a time (index 0 is the output, k + 1 input k). */
  vec4: readonly boolean[] = [],
): string {
  const vec4s = Math.max(1, Math.ceil(paramWords / 4));
  const element = (dtype: DType, k: number): string =>
    vec4[k] ? `vec4<${storageType(op, dtype)}>` : storageType(op, dtype);
  return [
    `@group(0) @binding(0) var<uniform> p: array<vec4<u32>, ${vec4s}>;`,
    `@group(0) @binding(1) var<storage, read_write> out: array<${element(out, 0)}>;`,
    ...inputs.map(
      (dtype, k) =>
        `@group(0) @binding(${k + 2}) var<storage, read> in${k}: array<${element(dtype, k + 1)}>;`,
    ),
    'fn P(i: u32) -> u32 { return p[i >> 2u][i & 3u]; }',
    'fn S(i: u32) -> i32 { return bitcast<i32>(P(i)); }',
  ].join('\n');
}

/** A grid of `workgroups` groups, folded into two dimensions past the per-dimension limit. */
export function grid(workgroups: number): [number, number] {
  if (workgroups <= MAX_GRID) return [workgroups, 1];
  const y = Math.ceil(workgroups / MAX_GRID);
  return [Math.ceil(workgroups / y), y];
}

/** The flat workgroup number in a grid made by `grid()` (uniform across the workgroup). */
export const FLAT_WORKGROUP = 'wid.x + wid.y * nw.x';

/**
 * The entry point of a kernel with one thread per output element: `i` is the element, and threads
 * past the count in params[0] return.
 */
export const PER_ELEMENT_MAIN = `@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WORKGROUP}) * 256u + lid;
  if (i >= P(0u)) { return; }`;

/** WGSL splitting element `i` into i32 coordinates c0..c{count−1} of a shape at params[at..]. */
export function coordinates(count: number, at: number): string {
  const lines = ['var rem = i;'];
  for (let d = count - 1; d > 0; d--)
    lines.push(`let c${d} = i32(rem % P(${at + d}u)); rem = rem / P(${at + d}u);`);
  lines.push('let c0 = i32(rem);');
  return lines.join('\n  ');
}

/** Launches a PER_ELEMENT_MAIN kernel over `size` elements (params[0] must hold `size`). */
export function dispatchPerElement(
  context: GpuContext,
  op: string,
  source: string,
  views: readonly View[],
  params: Params,
  size: number,
): void {
  context.dispatch({
    op,
    source,
    buffers: views.map((v) => v.buffer.gpu),
    params: params.toArray(),
    workgroups: grid(Math.ceil(size / 256)),
  });
}

/**
 * Merges adjacent dimensions that are contiguous in every operand and drops size-1 ones, so the
 * common layouts index with one division or none. `strides` holds one stride list per operand.
 */
export function collapse(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  shape.forEach((n, d) => {
    if (n === 1) return;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n);
    if (mergeable) {
      outShape[last]! *= n;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(n);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  });
  return { shape: outShape, strides: outStrides };
}

/** `x`'s strides for reading it broadcast to `shape` (0 along broadcast dimensions). */
export function broadcastStrides(
  x: Pick<View, 'shape' | 'strides'>,
  shape: readonly number[],
): number[] {
  const lead = shape.length - x.shape.length;
  return shape.map((n, d) => {
    if (d < lead) return 0;
    const size = x.shape[d - lead]!;
    return size === 1 && n !== 1 ? 0 : x.strides[d - lead]!;
  });
}

/**
 * WGSL statements that split the flat index `flat` into coordinates along `rank` dimensions (sizes
 * at params[shapeAt..]) and add coordinate × stride to each offset variable (strides of operand k at
 * params[strideAt[k]..]).
 */
export function offsetsFrom(
  flat: string,
  rank: number,
  shapeAt: number,
  offsets: readonly { name: string; strideAt: number }[],
): string {
  const lines = [`var rem = ${flat};`];
  for (let d = rank - 1; d >= 0; d--) {
    const c = `c${d}`;
    if (d > 0)
      lines.push(`let ${c} = i32(rem % P(${shapeAt + d}u)); rem = rem / P(${shapeAt + d}u);`);
    else lines.push(`let ${c} = i32(rem);`);
    for (const { name, strideAt } of offsets) lines.push(`${name} += ${c} * S(${strideAt + d}u);`);
  }
  return lines.join('\n    ');
}

/**
 * Helpers of float kernels: NaN tests that fast-math compilers cannot fold away, and NaN and
 * infinity made at run time (WGSL constant expressions cannot hold them).
 */
export const FLOAT_HELPERS = `
fn bits_f(b: u32) -> f32 { var v = b; return bitcast<f32>(v); }
fn nan_f() -> f32 { return bits_f(0x7fc00000u); }
fn inf_f() -> f32 { return bits_f(0x7f800000u); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn max_f(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return nan_f(); } return max(a, b); }
fn min_f(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return nan_f(); } return min(a, b); }`;
