/**
 * Ops that re-stride their input over the same storage: reshape, permute, expand, slice. Their
 * outputs share memory with the input (a reshape of a non-contiguous tensor copies first).
 */
import { formatShape, opError } from '../../core/errors.js';
import {
  contiguousStrides,
  isFullyKnown,
  normalizeDim,
  sizeOf,
  UNKNOWN,
  type Shape,
  type ShapeLike,
} from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bind, defineOp, type TensorMeta } from '../define.js';
import { checkTensor } from '../operands.js';
import * as ops from '../index.js';

/** `shape` with its one -1 resolved from the input's size (kept -1 while the input's is unknown). */
function resolveReshape(x: TensorMeta, shape: Shape): number[] {
  const known = shape.filter((d) => d !== -1);
  const bad = shape.length - known.length > 1 || known.some((d) => !Number.isInteger(d) || d < 0);
  if (!isFullyKnown(x.shape)) return [...shape]; // checked when the graph runs
  const size = sizeOf(x.shape);
  const rest = sizeOf(known);
  const target = shape.map((d) => (d === -1 ? (rest === 0 ? 0 : size / rest) : d));
  if (bad || !target.every(Number.isInteger) || sizeOf(target) !== size) {
    throw opError(
      'reshape',
      `cannot reshape a tensor of shape ${formatShape(x.shape)} (${size} elements) to ${formatShape(shape)}`,
    );
  }
  return target;
}

const reshapeOp = defineOp<{ shape: Shape }>({
  name: 'Reshape',
  infer: ([x], { shape }) => ({ shape: resolveReshape(x!, shape), dtype: x!.dtype }),
  layout: (x, _attrs, out) =>
    x.isContiguous ? { strides: contiguousStrides(out.shape), offset: x.offset } : null,
  vjp: ({ inputs: [x] }, dy) => [ops.reshapeAs(dy, x!)],
});

/** The same elements in a new shape; one dimension may be -1 (inferred). Shares memory when it can. */
export function reshape(x: Tensor, shape: ShapeLike): Tensor {
  checkTensor('reshape', x);
  return bind(reshapeOp, [x], { shape: shapeArgument('reshape', shape) });
}

/**
 * `reshape` that never copies, like PyTorch's `view`: the result always shares `x`'s memory, and a
 * layout that would need a copy is an error.
 */
export function view(x: Tensor, shape: ShapeLike): Tensor {
  checkTensor('view', x);
  if (!x.isSymbolic && !x.isContiguous) {
    throw opError(
      'view',
      `a tensor of shape ${formatShape(x.shape)} with strides ${formatShape(x.strides)} cannot be viewed as ${formatShape(typeof shape === 'number' ? [shape] : shape)} without a copy; use reshape() (which copies) or contiguous().view()`,
    );
  }
  return bind(reshapeOp, [x], { shape: shapeArgument('view', shape) });
}

/** A reshape target: a list of sizes (one may be -1), or a bare size. */
function shapeArgument(op: string, shape: ShapeLike): Shape {
  const list: unknown = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(list) || !list.every((d) => Number.isInteger(d) && (d as number) >= -1))
    throw opError(
      op,
      `expected a shape (an array of sizes, one of them may be -1), got ${JSON.stringify(shape) ?? String(shape)}`,
    );
  return list as number[];
}

const reshapeAsOp = defineOp<Record<string, never>>({
  name: 'ReshapeAs',
  infer: ([x, like]) => ({
    shape: resolveReshape(
      x!,
      like!.shape.map((d) => d),
    ),
    dtype: x!.dtype,
  }),
  layout: (x, _attrs, out) =>
    x.isContiguous ? { strides: contiguousStrides(out.shape), offset: x.offset } : null,
  vjp: ({ inputs: [x] }, dy) => [ops.reshapeAs(dy, x!), null],
});

/** `x` reshaped to the shape `like` has when it runs (for shapes unknown until then). */
export function reshapeAs(x: Tensor, like: Tensor): Tensor {
  return bind(reshapeAsOp, [checkTensor('reshapeAs', x), checkTensor('reshapeAs', like)], {});
}

const permuteOp = defineOp<{ dims: readonly number[] }>({
  name: 'Permute',
  infer: ([x], { dims }) => ({ shape: dims.map((d) => x!.shape[d]!), dtype: x!.dtype }),
  layout: (x, { dims }) => ({ strides: dims.map((d) => x.strides[d]!), offset: x.offset }),
  vjp: (_, dy) => {
    const { dims } = _.attrs;
    const inverse = dims.map((_d, i) => dims.indexOf(i));
    return [ops.permute(dy, inverse)];
  },
});

/** Reorders dimensions: output dimension i is input dimension dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor('permute', x);
  const resolved = dims.map((d) => normalizeDim('permute', d, x.ndim));
  if (resolved.length !== x.ndim || new Set(resolved).size !== x.ndim) {
    throw opError(
      'permute',
      `dims ${formatShape(dims)} are not a permutation of ${x.ndim} dimensions`,
    );
  }
  // In a graph, a permutation of a permutation is one node, and none when they cancel (the
  // gradient of a transposed weight's transpose is then the kernel output itself, known dense).
  const inner = x.isSymbolic && x.gradFn?.op === permuteOp ? x.gradFn : null;
  if (inner) {
    const innerDims = (inner.attrs as { dims: readonly number[] }).dims;
    const composed = resolved.map((d) => innerDims[d]!);
    const source = inner.inputs[0]!;
    return composed.every((d, i) => d === i)
      ? source
      : bind(permuteOp, [source], { dims: composed });
  }
  return bind(permuteOp, [x], { dims: resolved });
}

/** Swaps two dimensions. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  checkTensor('transpose', x);
  const dims = x.shape.map((_, i) => i);
  const [a, b] = [normalizeDim('transpose', dim0, x.ndim), normalizeDim('transpose', dim1, x.ndim)];
  [dims[a], dims[b]] = [dims[b]!, dims[a]!];
  return x.ndim < 2 ? x : permute(x, dims);
}

/** Expand's target with -1 ("keep this size") resolved against the input; throws if it cannot broadcast. */
function resolveExpand(x: TensorMeta, shape: Shape): number[] {
  const lead = shape.length - x.shape.length;
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  const fits =
    lead >= 0 &&
    target.every((d, i) => {
      if (i < lead) return d >= 0 || d === UNKNOWN;
      const from = x.shape[i - lead];
      return from === d || from === 1 || from === UNKNOWN || d === UNKNOWN;
    });
  if (!fits)
    throw opError('expand', `cannot expand shape ${formatShape(x.shape)} to ${formatShape(shape)}`);
  return target;
}

const expandOp = defineOp<{ shape: Shape }>({
  name: 'Expand',
  infer: ([x], { shape }) => ({ shape: resolveExpand(x!, shape), dtype: x!.dtype }),
  layout: (x, _attrs, out) => ({ strides: broadcastStridesOf(x, out.shape), offset: x.offset }),
  // The walker sums the broadcast gradient back to the input's shape.
  vjp: (_, dy) => [dy],
});

/** Broadcasts size-1 (or missing leading) dimensions to `shape` without copying; -1 keeps a size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('expand', x);
  return bind(expandOp, [x], { shape });
}

const expandAsOp = defineOp<Record<string, never>>({
  name: 'ExpandAs',
  infer: ([x, like]) => ({ shape: resolveExpand(x!, like!.shape), dtype: x!.dtype }),
  layout: (x, _attrs, out) => ({ strides: broadcastStridesOf(x, out.shape), offset: x.offset }),
  vjp: (_, dy) => [dy, null],
});

/** `x` broadcast to the shape `like` has when it runs (for shapes unknown until then). */
export function expandAs(x: Tensor, like: Tensor): Tensor {
  return bind(expandAsOp, [checkTensor('expandAs', x), checkTensor('expandAs', like)], {});
}

function broadcastStridesOf(x: Tensor, shape: Shape): number[] {
  const lead = shape.length - x.ndim;
  return shape.map((d, i) => (i < lead || x.shape[i - lead] !== d ? 0 : x.strides[i - lead]!));
}

interface SliceAttrs {
  readonly dim: number;
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

const sliceOp = defineOp<SliceAttrs>({
  name: 'Slice',
  infer: ([x], { dim, start, end, step }) => {
    const shape = [...x!.shape];
    shape[dim] = Math.max(0, Math.ceil((end - start) / step));
    return { shape, dtype: x!.dtype };
  },
  layout: (x, { dim, start, step }) => ({
    strides: x.strides.map((s, d) => (d === dim ? s * step : s)),
    offset: x.offset + start * x.strides[dim]!,
  }),
  vjp: ({ inputs: [x], attrs }, dy) => [
    ops.unslice(dy, x!.shape, attrs.dim, attrs.start, attrs.step),
  ],
});

/** Elements start, start+step, ... (< end) along `dim`; negative start/end count from the end. */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  checkTensor('slice', x);
  const d = normalizeDim('slice', dim, x.ndim);
  const size = x.shape[d]!;
  if (!Number.isInteger(step) || step < 1)
    throw opError('slice', `step must be a positive integer, got ${step}`);
  const clampIndex = (i: number): number => Math.min(size, Math.max(0, i < 0 ? i + size : i));
  const from = clampIndex(start);
  return bind(sliceOp, [x], {
    dim: d,
    start: from,
    end: Math.max(from, clampIndex(end ?? size)),
    step,
  });
}

/** `length` elements along `dim` from `start`, like `torch.narrow`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkTensor('narrow', x);
  const size = x.shape[normalizeDim('narrow', dim, x.ndim)]!;
  const from = start < 0 ? start + size : start;
  if (from < 0 || length < 0 || from + length > size) {
    throw opError(
      'narrow',
      `start ${start} and length ${length} do not fit a dimension of size ${size}`,
    );
  }
  return slice(x, dim, from, from + length);
}

const unsliceOp = defineOp<'Unslice'>({
  name: 'Unslice',
  // Unknown sizes (other than along `dim`) are the input's own.
  infer: ([x], { shape, dim }) => ({
    shape: shape.map((d, i) => (d === UNKNOWN && i !== dim ? x!.shape[i]! : d)),
    dtype: x!.dtype,
  }),
  vjp: ({ inputs: [x], attrs }, dy) => [
    ops.slice(
      dy,
      attrs.dim,
      attrs.start,
      attrs.start + x!.shape[attrs.dim]! * attrs.step,
      attrs.step,
    ),
  ],
});

/** Slice's adjoint: `x` placed at start:…:step along `dim` of a zero tensor of `shape`. */
export function unslice(x: Tensor, shape: Shape, dim: number, start: number, step: number): Tensor {
  return bind(unsliceOp, [x], { shape, dim, start, step });
}

const stopGradientOp = defineOp<Record<string, never>>({
  name: 'StopGradient',
  infer: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  layout: (x) => ({ strides: x.strides, offset: x.offset }),
  // No vjp: nothing flows back through it.
});

/** `x` with no gradient flowing back: a view sharing memory eagerly, a node in a graph. */
export function stopGradient(x: Tensor): Tensor {
  return bind(stopGradientOp, [checkTensor('detach', x)], {});
}
