/**
 * Elementwise kernels for the plain-TS CPU backend. Each op is one JS expression over its operands
 * (`a`, `b`, `c`); from it we compile, once per dtype signature, a loop specialised for that
 * expression. A shared loop calling a per-op callback would be megamorphic and several times slower.
 *
 * Every operand (output included) is a strided view; broadcast dimensions have stride 0. Adjacent
 * dimensions that are contiguous in every operand are merged first, so the common cases (same-shape
 * contiguous, scalar broadcast, row broadcast) run as one flat or two-level loop.
 */
import { fitsInt32, INT32_RANGE, type DType, type TypedArray } from '../../core/dtype.js';
import { shapesEqual, sizeOf, type Shape } from '../../core/shape.js';
import type { ArrayView } from '../primitives.js';
import { opError } from '../../core/errors.js';

type Operand = ArrayView<TypedArray>;
type CompiledLoop = (
  shape: number[],
  arrays: TypedArray[],
  strides: number[][],
  offsets: number[],
) => void;

/** Operand names in op expressions; they become markers $0, $1, ... for the code generator. */
const NAMES = ['a', 'b', 'c'];

/** `expr` over a, b, c rewritten over the markers $0, $1, $2. */
export function toMarkers(expr: string): string {
  return NAMES.reduce((e, n, k) => e.replace(new RegExp(`\\b${n}\\b`, 'g'), `$${k}`), expr);
}

/** Helpers that expressions may call (kept out of expressions where a statement is needed). */
const HELPERS = {
  /** `x` for an int32 output; a float int32 cannot hold (NaN, ±Infinity, too large) is an error. */
  int32(x: number): number {
    if (fitsInt32(x)) return x;
    throw opError('cast', `${x} cannot be converted to int32 (its range is ${INT32_RANGE})`);
  },
  /** Round half to even, as PyTorch and NumPy do. */
  roundHalfEven(x: number): number {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
};

/**
 * Compiles a loop for `value`, an expression over the markers $0..$(arity−1). Operands marked in
 * `scalars` hold one element (broadcast everywhere): they are read once, before the loop, so a
 * chain like m·β₁ + g·(1 − β₁) still runs as one flat loop over its full-size operands.
 */
function compile(
  value: string,
  arity: number,
  scalars: readonly boolean[],
  round: boolean,
): CompiledLoop {
  // float32 arithmetic as PyTorch (and the SIMD kernels) do it: scalars and every op's result
  // rounded to float32, so a fused chain gives exactly what its ops give one by one.
  const f32 = (x: string): string => (round ? `Math.fround(${x})` : x);
  value = value.replace(/\bR\(/g, round ? 'Math.fround(' : '(');
  const all = Array.from({ length: arity }, (_, k) => k);
  const ops = all.filter((k) => !scalars[k]); // operands that advance through memory
  const list = (f: (k: number) => string, sep = ' ', over = ops): string => over.map(f).join(sep);
  const elem = (idx: (k: number) => string): string =>
    value.replace(/\$(\d+)/g, (_, k: string) => (scalars[+k] ? `C${k}` : `A${k}[${idx(+k)}]`));
  // Operand 0 of the arrays is the output `o`; input k is A{k}, with strides S{k} and pointer P{k};
  // a scalar input's value is C{k}.
  const source = `
    const o = arrays[0], so = strides[0];
    ${list((k) => `const A${k} = arrays[${k + 1}], S${k} = strides[${k + 1}];`, '\n', all)}
    ${list(
      (k) => `const C${k} = ${f32(`A${k}[offsets[${k + 1}]]`)};`,
      '\n',
      all.filter((k) => scalars[k]),
    )}
    const nd = shape.length;
    let po = offsets[0]; ${list((k) => `let P${k} = offsets[${k + 1}];`)}
    if (nd === 0) { o[po] = ${elem((k) => `P${k}`)}; return; }
    const last = nd - 1, inner = shape[last], io = so[last];
    ${list((k) => `const I${k} = S${k}[last];`)}
    if (nd === 1 && io === 1 && ${list((k) => `I${k} === 1`, ' && ') || 'true'}) {
      // Zero offsets (fresh outputs, whole inputs) let V8 drop the index arithmetic.
      if (po === 0 && ${list((k) => `P${k} === 0`, ' && ') || 'true'}) {
        for (let i = 0; i < inner; i++) o[i] = ${elem(() => 'i')};
        return;
      }
      ${list((k) => `const Q${k} = P${k} - po;`)}
      const end = po + inner;
      for (let i = po; i < end; i++) o[i] = ${elem((k) => `i + Q${k}`)};
      return;
    }
    let outer = 1;
    for (let d = 0; d < last; d++) outer *= shape[d];
    const idx = new Array(nd).fill(0);
    for (let r = 0; r < outer; r++) {
      for (let i = 0, x = po${list((k) => `, Y${k} = P${k}`, '')}; i < inner; i++) {
        o[x] = ${elem((k) => `Y${k}`)};
        x += io; ${list((k) => `Y${k} += I${k};`)}
      }
      for (let d = last - 1; d >= 0; d--) {
        idx[d]++; po += so[d]; ${list((k) => `P${k} += S${k}[d];`)}
        if (idx[d] < shape[d]) break;
        idx[d] = 0; po -= so[d] * shape[d]; ${list((k) => `P${k} -= S${k}[d] * shape[d];`)}
      }
    }`;
  const make = new Function(
    'helpers',
    `const { roundHalfEven, int32 } = helpers; return function elementwise(shape, arrays, strides, offsets) {${source}};`,
  );
  return make(HELPERS) as CompiledLoop;
}

/**
 * Merges dimension d into d+1 wherever every operand is contiguous across the pair, and drops
 * size-1 dimensions; returns the reduced shape and strides (one strides array per operand).
 */
export function collapse(shape: Shape, strides: (readonly number[])[]): [number[], number[][]] {
  const outShape: number[] = [];
  const n = strides.length;
  const outStrides: number[][] = new Array<number[]>(n);
  for (let j = 0; j < n; j++) outStrides[j] = [];
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const k = outShape.length - 1;
    let mergeable = k >= 0;
    for (let j = 0; j < n && mergeable; j++) {
      mergeable = outStrides[j]![k] === strides[j]![d]! * size;
    }
    if (mergeable) {
      outShape[k] = outShape[k]! * size;
      for (let j = 0; j < n; j++) outStrides[j]![k] = strides[j]![d]!;
    } else {
      outShape.push(size);
      for (let j = 0; j < n; j++) outStrides[j]!.push(strides[j]![d]!);
    }
  }
  return [outShape, outStrides];
}

/** Another window on the same buffer (kernels get views whose fields may be getters: no spreading). */
export function restride(
  view: Operand,
  shape: Shape,
  strides: readonly number[] = view.strides,
  offset = view.offset,
): Operand {
  return { buffer: view.buffer, dtype: view.dtype, shape, strides, offset };
}

/** Strides of `view` broadcast to `shape` (0 along broadcast dimensions). */
export function broadcastStrides(view: Operand, shape: Shape): number[] {
  const lead = shape.length - view.shape.length;
  const strides = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; i++) {
    strides[i] = i < lead || view.shape[i - lead] !== shape[i] ? 0 : view.strides[i - lead]!;
  }
  return strides;
}

export interface ElementwiseKernel {
  (out: Operand, inputs: readonly Operand[]): void;
}

/** An elementwise kernel for `expr` (over a, b, c), compiled lazily per dtype signature. */
export function elementwise(expr: string, arity: number): ElementwiseKernel {
  return elementwiseOfMarkers(toMarkers(expr), arity);
}

/** Whether a view's elements are laid out densely in row-major order (size-1 dims aside). */
export function isDense(v: Operand): boolean {
  let expected = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== 1 && v.strides[d] !== expected) return false;
    expected *= v.shape[d]!;
  }
  return true;
}

function isOneElement(shape: Shape): boolean {
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) return false;
  return true;
}
const DTYPE_CODE: Record<DType, number> = { float32: 0, float64: 1, int32: 2, bool: 3 };

/** An elementwise kernel for an expression over the markers $0..$(arity−1). */
export function elementwiseOfMarkers(value: string, arity: number): ElementwiseKernel {
  /** Compiled loops by dtype signature and set of one-element (scalar) operands. */
  const cache = new Map<number, CompiledLoop>();
  /** Strides for the flat case (every operand dense like the output, or one element), by key. */
  const flatStrides = new Map<number, number[][]>();
  return (out, inputs) => {
    const shape = out.shape;
    if (shape.includes(0)) return;
    // Called for every op, on tiny tensors too: plain loops, no closures or spreads.
    const n = inputs.length + 1;
    const buffers = new Array<TypedArray>(n);
    const offsets = new Array<number>(n);
    buffers[0] = out.buffer;
    offsets[0] = out.offset;
    let key = DTYPE_CODE[out.dtype];
    let flat = isDense(out);
    for (let k = 1; k < n; k++) {
      const v = inputs[k - 1]!;
      const scalar = isOneElement(v.shape);
      key = key * 8 + DTYPE_CODE[v.dtype] * 2 + (scalar ? 1 : 0);
      if (flat && !scalar) flat = shapesEqual(v.shape, shape) && isDense(v);
      buffers[k] = v.buffer;
      offsets[k] = v.offset;
    }
    let loop = cache.get(key);
    if (!loop) {
      const scalars = inputs.map((v) => isOneElement(v.shape));
      cache.set(key, (loop = compile(value, arity, scalars, out.dtype === 'float32')));
    }
    if (flat) {
      // The common case, without the general dimension merging: one flat loop.
      let strides = flatStrides.get(key);
      if (!strides) {
        strides = [out, ...inputs].map((v) => [v === out || !isOneElement(v.shape) ? 1 : 0]);
        flatStrides.set(key, strides);
      }
      loop([sizeOf(shape)], buffers, strides, offsets);
      return;
    }
    const strides = new Array<number[]>(n);
    strides[0] = broadcastStrides(out, shape);
    for (let k = 1; k < n; k++) strides[k] = broadcastStrides(inputs[k - 1]!, shape);
    const [collapsed, collapsedStrides] = collapse(shape, strides);
    loop(collapsed, buffers, collapsedStrides, offsets);
  };
}

/** A kernel whose expression depends on the output dtype (casts). */
export function elementwiseByOutput(exprFor: (dtype: DType) => string): ElementwiseKernel {
  const kernels = new Map<string, ElementwiseKernel>();
  return (out, inputs) => {
    const expr = exprFor(out.dtype);
    let kernel = kernels.get(expr);
    if (!kernel) kernels.set(expr, (kernel = elementwise(expr, 1)));
    kernel(out, inputs);
  };
}
