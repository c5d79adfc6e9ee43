/**
 * Elementwise kernels for the plain-TS CPU backend. Each op is one JS expression over its operands
 * (`a`, `b`, `c`); from it we compile, once per dtype signature, a loop specialised for that
 * expression. A shared loop calling a per-op callback would be megamorphic and several times slower.
 *
 * Every operand (output included) is a strided view; broadcast dimensions have stride 0. Adjacent
 * dimensions that are contiguous in every operand are merged first, so the common cases (same-shape
 * contiguous, scalar broadcast, row broadcast) run as one flat or two-level loop.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import type { Shape } from '../../core/shape.js';
import type { ArrayView } from '../primitives.js';

type Operand = ArrayView<TypedArray>;
type CompiledLoop = (
  shape: number[],
  arrays: TypedArray[],
  strides: number[][],
  offsets: number[],
) => void;

const NAMES = ['a', 'b', 'c'];

/** Helpers that expressions may call (kept out of expressions where a statement is needed). */
const HELPERS = {
  /** Round half to even, as PyTorch and NumPy do. */
  roundHalfEven(x: number): number {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
};

function compile(expr: string, arity: number): CompiledLoop {
  const ops = NAMES.slice(0, arity);
  // Mark operand names ($a, $b, ...) so they can be replaced by indexed reads below.
  const value = ops.reduce((e, n) => e.replace(new RegExp(`\\b${n}\\b`, 'g'), `$${n}`), expr);
  // Build source: operand 0 is the output `o`, then the inputs.
  const decl = ops
    .map((n, i) => `const ${n} = arrays[${i + 1}], s${n} = strides[${i + 1}];`)
    .join('\n');
  const start = ops.map((n, i) => `let p${n} = offsets[${i + 1}];`).join(' ');
  const innerStride = ops.map((n) => `const i${n} = s${n}[last];`).join(' ');
  const elem = (idx: (n: string) => string): string =>
    value.replace(/\$([abc])/g, (_, n: string) => `${n}[${idx(n)}]`);
  const step = ops.map((n) => `p${n} += s${n}[d];`).join(' ');
  const rewind = ops.map((n) => `p${n} -= s${n}[d] * shape[d];`).join(' ');
  const flatCheck = ops.map((n) => `i${n} === 1`).join(' && ');
  const source = `
    const o = arrays[0], so = strides[0];
    ${decl}
    const nd = shape.length;
    let po = offsets[0]; ${start}
    if (nd === 0) { o[po] = ${elem((n) => `p${n}`)}; return; }
    const last = nd - 1, inner = shape[last], io = so[last];
    ${innerStride}
    if (nd === 1 && io === 1 && ${flatCheck}) {
      // Zero offsets (fresh outputs, whole inputs) let V8 drop the index arithmetic.
      if (po === 0 && ${ops.map((n) => `p${n} === 0`).join(' && ')}) {
        for (let i = 0; i < inner; i++) o[i] = ${elem(() => 'i')};
        return;
      }
      ${ops.map((n) => `const q${n} = p${n} - po;`).join(' ')}
      const end = po + inner;
      for (let i = po; i < end; i++) o[i] = ${elem((n) => `i + q${n}`)};
      return;
    }
    let outer = 1;
    for (let d = 0; d < last; d++) outer *= shape[d];
    const idx = new Array(nd).fill(0);
    for (let r = 0; r < outer; r++) {
      for (let i = 0, x = po, ${ops.map((n) => `y${n} = p${n}`).join(', ')}; i < inner; i++) {
        o[x] = ${elem((n) => `y${n}`)};
        x += io; ${ops.map((n) => `y${n} += i${n};`).join(' ')}
      }
      for (let d = last - 1; d >= 0; d--) {
        idx[d]++; po += so[d]; ${step}
        if (idx[d] < shape[d]) break;
        idx[d] = 0; po -= so[d] * shape[d]; ${rewind}
      }
    }`;
  return new Function(
    'helpers',
    `const { roundHalfEven } = helpers; return function elementwise(shape, arrays, strides, offsets) {${source}};`,
  )(HELPERS) as CompiledLoop;
}

/**
 * Merges dimension d into d+1 wherever every operand is contiguous across the pair, and drops
 * size-1 dimensions; returns the reduced shape and strides (one strides array per operand).
 */
function collapse(shape: Shape, strides: (readonly number[])[]): [number[], number[][]] {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const k = outShape.length - 1;
    const mergeable = k >= 0 && strides.every((s, j) => outStrides[j]![k] === s[d]! * size);
    if (mergeable) {
      outShape[k] = outShape[k]! * size;
      strides.forEach((s, j) => (outStrides[j]![k] = s[d]!));
    } else {
      outShape.push(size);
      strides.forEach((s, j) => outStrides[j]!.push(s[d]!));
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
  return shape.map((d, i) =>
    i < lead || view.shape[i - lead] !== d ? 0 : view.strides[i - lead]!,
  );
}

export interface ElementwiseKernel {
  (out: Operand, inputs: readonly Operand[]): void;
}

/** An elementwise kernel for `expr`, compiled lazily per dtype signature. */
export function elementwise(expr: string, arity: number): ElementwiseKernel {
  const cache = new Map<string, CompiledLoop>();
  return (out, inputs) => {
    if (out.shape.includes(0)) return;
    const key = out.dtype + inputs.map((v) => v.dtype).join();
    let loop = cache.get(key);
    if (!loop) cache.set(key, (loop = compile(expr, arity)));
    const views = [out, ...inputs];
    const [shape, strides] = collapse(
      out.shape,
      views.map((v) => broadcastStrides(v, out.shape)),
    );
    loop(
      shape,
      views.map((v) => v.buffer),
      strides,
      views.map((v) => v.offset),
    );
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
