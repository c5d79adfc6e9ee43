import { formatShape, opError } from './errors.js';

export type Shape = readonly number[];
/** A shape, or a bare size for one dimension (`nb.zeros(3)`, as PyTorch accepts). */
export type ShapeLike = number | readonly number[];

/**
 * A dimension whose size is unknown until a graph runs (a placeholder's `null`, e.g. the batch).
 * Only symbolic tensors have them; shape rules carry them through and resolve them at run time.
 */
export const UNKNOWN = -1;

export function isFullyKnown(shape: Shape): boolean {
  return !shape.includes(UNKNOWN);
}

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * NumPy broadcasting of several shapes; throws naming the op and every shape. An unknown dimension
 * meets a known one > 1 as that size (checked again when the graph runs).
 */
export function broadcastShapes(op: string, shapes: readonly Shape[]): number[] {
  let ndim = 0;
  for (const s of shapes) ndim = Math.max(ndim, s.length);
  const out = new Array<number>(ndim).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const axis = ndim - s.length + i;
      const d = s[i]!;
      if (d === out[axis] || d === 1 || (d === UNKNOWN && out[axis] !== 1)) continue;
      if (out[axis] === 1 || out[axis] === UNKNOWN) out[axis] = d;
      else {
        const list = shapes.map(formatShape).join(' and ');
        throw opError(op, `shapes ${list} cannot be broadcast together (dimension ${axis})`);
      }
    }
  }
  return out;
}

/** Resolves a possibly negative dimension against `ndim`, PyTorch-style. */
export function normalizeDim(op: string, dim: number, ndim: number): number {
  const rank = Math.max(ndim, 1); // a 0-d tensor accepts dim 0 and -1, like PyTorch
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw opError(op, `dimension ${dim} is out of range for a tensor of ${ndim} dimensions`);
  }
  return dim < 0 ? dim + rank : dim;
}

export function checkShape(op: string, shape: unknown): Shape {
  if (!Array.isArray(shape))
    throw opError(
      op,
      `expected a shape (an array of sizes), got ${JSON.stringify(shape) ?? String(shape)}`,
    );
  for (const d of shape as readonly unknown[]) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw opError(op, `invalid shape ${JSON.stringify(shape)}: sizes must be integers >= 0`);
    }
  }
  return shape as Shape;
}
