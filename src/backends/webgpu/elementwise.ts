/**
 * Elementwise kernels, generated: each primitive is a WGSL template over its operands, a fused
 * chain is those templates composed, and one generator turns either into a shader that reads every
 * input through its strides (broadcast dimensions have stride 0, views are never copied first) and
 * writes a strided output. Sources differ only by expression, dtypes and rank, so a pipeline
 * serves every shape.
 */
import type { DType } from '../../core/dtype.js';
import { contiguousStrides, sizeOf } from '../../core/shape.js';
import type { FusedExpr } from '../backend.js';
import type { BinaryName, UnaryName } from '../primitives.js';
import type { GpuContext } from './context.js';
import {
  broadcastStrides,
  collapse,
  computeType,
  FLOAT_HELPERS,
  dispatchPerElement,
  header,
  offsetsFrom,
  Params,
  PER_ELEMENT_MAIN,
  SourceCache,
  store,
  type ComputeType,
  type View,
} from './wgsl.js';

type Template = (args: readonly string[], ct: ComputeType) => string;

const compare =
  (operator: string): Template =>
  ([a, b], ct) =>
    `select(${ct}(0), ${ct}(1), ${a} ${operator} ${b})`;

/** Each elementwise primitive as WGSL over operands of the compute type. */
export const TEMPLATES: Record<UnaryName | BinaryName | 'Where' | 'Identity', Template> = {
  Identity: ([a]) => a!,
  Neg: ([a]) => `-${a}`,
  Square: ([a]) => `${a} * ${a}`,
  Exp: ([a]) => `exp(${a})`,
  Log: ([a]) => `log(${a})`,
  Sqrt: ([a]) => `sqrt(${a})`,
  Abs: ([a]) => `abs(${a})`,
  Sign: ([a]) => `sign(${a})`,
  // WGSL's round() is half to even, as PyTorch's; integers are already whole.
  Round: ([a], ct) => (ct === 'f32' ? `round(${a})` : a!),
  // tanh(±10) is ±1 in float32; beyond it some drivers compute inf/inf.
  Tanh: ([a]) => `tanh(clamp(${a}, -10.0, 10.0))`,
  Sigmoid: ([a]) => `1.0 / (1.0 + exp(-${a}))`,
  // Not max(): NaN stays NaN, as on the CPU.
  Relu: ([a], ct) => `select(${a}, ${ct}(0), ${a} < ${ct}(0))`,
  Add: ([a, b]) => `${a} + ${b}`,
  Sub: ([a, b]) => `${a} - ${b}`,
  Mul: ([a, b]) => `${a} * ${b}`,
  Div: ([a, b]) => `${a} / ${b}`,
  Pow: ([a, b], ct) => (ct === 'f32' ? `pow_f(${a}, ${b})` : `i32(pow_f(f32(${a}), f32(${b})))`),
  Maximum: ([a, b], ct) => (ct === 'f32' ? `max_f(${a}, ${b})` : `max(${a}, ${b})`),
  Minimum: ([a, b], ct) => (ct === 'f32' ? `min_f(${a}, ${b})` : `min(${a}, ${b})`),
  Equal: compare('=='),
  NotEqual: compare('!='),
  Less: compare('<'),
  LessEqual: compare('<='),
  Greater: compare('>'),
  GreaterEqual: compare('>='),
  Where: ([c, a, b], ct) => `select(${b}, ${a}, ${c} != ${ct}(0))`,
};

/** WGSL's pow(x, y) is exp2(y·log2 x): undefined for x < 0, so signs and zeros are handled here. */
const POW = `
fn pow_f(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a == 0.0) { return select(0.0, inf_f(), b < 0.0); }
  let m = pow(abs(a), b);
  if (a > 0.0 || is_nan(a)) { return m; }
  if (round(b) != b) { return nan_f(); }
  return select(m, -m, fract(b * 0.5) != 0.0);
}`;

export type ElementwiseRun = (out: View, inputs: readonly View[]) => void;

/** A kernel computing `expr` (over inputs 0..arity−1) at every element of its output. */
export function elementwiseKernel(
  context: GpuContext,
  op: string,
  expr: FusedExpr,
): ElementwiseRun {
  const sources = new SourceCache();
  return (out, inputs) => {
    const size = sizeOf(out.shape);
    if (size === 0) return;
    // WebGPU refuses a buffer bound both writable and read-only in one dispatch. An input that is
    // the output itself (an in-place update: an optimizer's m.mul_(β).add_(g)) is read through
    // `out` at the same element; one that shares its memory otherwise (copy_ from a view of
    // itself) reads a copy.
    const inPlace = inputs.map((x) => x.buffer.gpu === out.buffer.gpu && sameElements(x, out));
    const reads = inputs.map((x, k) =>
      !inPlace[k] && x.buffer.gpu === out.buffer.gpu ? copyOf(context, x) : x,
    );
    const bound = reads.filter((_, k) => !inPlace[k]);
    const operands = [out, ...bound];
    const { shape, strides } = collapse(
      out.shape,
      operands.map((x) => broadcastStrides(x, out.shape)),
    );
    const rank = shape.length;
    const params = new Params();
    params.push(size);
    const shapeAt = params.push(...shape);
    const offsets = operands.map((x, k) => ({
      name: k === 0 ? 'o' : `o${k - 1}`,
      offsetAt: params.push(x.offset),
      strideAt: params.push(...strides[k]!),
    }));
    const key = `${rank} ${out.dtype} ${reads.map((x, k) => (inPlace[k] ? 'out' : x.dtype)).join(' ')}`;
    const source = sources.get(key, () => {
      const ct = computeType([out.dtype, ...reads.map((x) => x.dtype)]);
      let next = 0;
      const loads = inPlace.map((self) => {
        if (self) return `${ct}(out[o])`;
        const k = next++;
        return `${ct}(in${k}[o${k}])`;
      });
      return `${header(
        op,
        params.length,
        out.dtype,
        bound.map((x) => x.dtype),
      )}
${helpersFor(ct)}
${PER_ELEMENT_MAIN}
  ${offsets.map(({ name, offsetAt }) => `var ${name} = S(${offsetAt}u);`).join(' ')}
  ${offsetsFrom('i', rank, shapeAt, offsets)}
  ${body(expr, loads, out.dtype, ct)}
}`;
    });
    dispatchPerElement(context, op, source, operands, params, size);
    // Safe at once in stream order: a kernel recorded later writes it after this one has read it.
    for (const x of reads) if (!inputs.includes(x)) context.pool.release(x.buffer);
  };
}

/** Whether `x`, read broadcast to `out`'s shape, is `out`'s own elements, each at its place. */
function sameElements(x: View, out: View): boolean {
  const strides = broadcastStrides(x, out.shape);
  return (
    x.offset === out.offset && out.shape.every((n, d) => n === 1 || strides[d] === out.strides[d])
  );
}

/** Statements computing `expr` from the `loads` of its inputs and storing it at out[o]. */
function body(expr: FusedExpr, loads: readonly string[], out: DType, ct: ComputeType): string {
  const { lines, value } = expressionCode(expr, loads, ct);
  return [...lines, `out[o] = ${store(out, value, ct)};`].join('\n  ');
}

/**
 * WGSL statements computing `expr` with input k read by the expression `loads[k]`, one `let` per
 * op (a value used twice is computed once); `value` names the result.
 */
export function expressionCode(
  expr: FusedExpr,
  loads: readonly string[],
  ct: ComputeType,
  prefix = '',
): { lines: string[]; value: string } {
  const lines = loads.map((load, k) => `let ${prefix}x${k} = ${load};`);
  const names = new Map<FusedExpr, string>();
  const emit = (e: FusedExpr): string => {
    if ('input' in e) return `${prefix}x${e.input}`;
    const known = names.get(e);
    if (known) return known;
    const args = e.args.map(emit);
    const name = `${prefix}v${names.size}`;
    lines.push(`let ${name} = ${ct}(${TEMPLATES[e.op as keyof typeof TEMPLATES](args, ct)});`);
    names.set(e, name);
    return name;
  };
  return { lines, value: emit(expr) };
}

/** The helper functions a kernel of compute type `ct` may call. */
export const helpersFor = (ct: ComputeType): string =>
  ct === 'f32' ? FLOAT_HELPERS + POW : FLOAT_HELPERS;

/** Whether every op of a fused chain has a template. */
export function hasTemplates(expr: FusedExpr): boolean {
  return 'input' in expr || (expr.op in TEMPLATES && expr.args.every(hasTemplates));
}

/** A contiguous copy of `x` in a fresh buffer. */
function copyOf(context: GpuContext, x: View): View {
  const buffer = context.pool.alloc(x.dtype, sizeOf(x.shape));
  const strides = contiguousStrides(x.shape);
  const copy: View = { buffer, dtype: x.dtype, shape: x.shape, strides, offset: 0 };
  elementwiseKernel(context, 'copy', { op: 'Identity', args: [{ input: 0 }] })(copy, [x]);
  return copy;
}
