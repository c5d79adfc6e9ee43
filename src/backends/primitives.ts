/**
 * The primitives every backend implements: "the low-level ops your accelerator must implement".
 * Ops (src/ops) are built on exactly these; everything else is composed from them. A backend's
 * kernel table is typed by this interface, so the compiler proves that it covers every primitive.
 */
import type { DType } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';

export type UnaryName =
  | 'Neg'
  | 'Square'
  | 'Exp'
  | 'Log'
  | 'Sqrt'
  | 'Abs'
  | 'Sign'
  | 'Round'
  | 'Tanh'
  | 'Sigmoid'
  | 'Relu';
export type BinaryName =
  | 'Add'
  | 'Sub'
  | 'Mul'
  | 'Div'
  | 'Pow'
  | 'Maximum'
  | 'Minimum'
  | 'Equal'
  | 'NotEqual'
  | 'Less'
  | 'LessEqual'
  | 'Greater'
  | 'GreaterEqual';
export type ReduceName = 'Sum' | 'Max' | 'Min' | 'ArgMax' | 'ArgMin';

export interface ReduceAttrs {
  readonly dims: readonly number[]; // sorted, non-negative, unique
  readonly keepdim: boolean;
}

/**
 * Sliding windows over the last two dimensions of an [N, C, H, W] input (convolution, pooling):
 * window size, step, padding as [top, bottom, left, right], spacing between taps, and the value
 * read where a window hangs over the edge.
 */
export interface PatchAttrs {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
  readonly padValue: number;
}

/** Attributes of each primitive, keyed by its name. */
export interface PrimitiveAttrs
  extends Record<UnaryName | BinaryName, Record<string, never>>, Record<ReduceName, ReduceAttrs> {
  Cast: { readonly dtype: DType };
  /** A 0-d tensor: the number of elements along `dims` of the input. */
  Numel: { readonly dims: readonly number[]; readonly dtype: DType };
  Where: Record<string, never>;
  MatMul: Record<string, never>;
  /** Copies any strided input into a fresh contiguous tensor. */
  Contiguous: Record<string, never>;
  Cat: { readonly dim: number };
  Gather: { readonly dim: number };
  ScatterAdd: { readonly dim: number; readonly shape: Shape };
  /** The windows of an [N, C, H, W] input as [N, C, kH, kW, outH, outW] (im2col). */
  Im2Col: PatchAttrs;
  /** Im2Col's adjoint: each window element added back to its place in an [N, C, H, W] output. */
  Col2Im: PatchAttrs & { readonly size: readonly [number, number] };
  /**
   * Max pooling's choice, [N, C, outH, outW] int32: where in its H×W plane (y·W + x) each window's
   * first maximum is, NaN counting as the maximum; taps over the edge are never chosen.
   */
  WindowArgMax: PatchAttrs;
  /** Writes its input into a zero tensor of `shape` at `start:end:step` along `dim` (Slice's adjoint). */
  Unslice: {
    readonly dim: number;
    readonly start: number;
    readonly step: number;
    readonly shape: Shape;
  };
}

export type PrimitiveName = keyof PrimitiveAttrs;

/** A strided window on a backend buffer: what kernels read and write. */
export interface ArrayView<Buffer> {
  readonly buffer: Buffer;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * A kernel fills `out` (fresh, contiguous, of the shape and dtype the op's `infer` gave) from its
 * inputs. Kernels never compute shapes, allocate outputs or read back.
 */
export type Kernel<Buffer, Attrs> = (
  out: ArrayView<Buffer>,
  inputs: readonly ArrayView<Buffer>[],
  attrs: Attrs,
) => void;

export type KernelTable<Buffer> = {
  readonly [K in PrimitiveName]: Kernel<Buffer, PrimitiveAttrs[K]>;
};
