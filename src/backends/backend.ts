import type { DType, TypedArray } from '../core/dtype.js';
import type { ArrayView, KernelTable } from './primitives.js';

export type Device = 'cpu' | 'webgpu';

/** A chain of elementwise ops to run as one kernel: op nodes over the kernel's inputs. */
export type FusedExpr =
  { readonly input: number } | { readonly op: string; readonly args: readonly FusedExpr[] };

/**
 * A device: storage for tensors plus the kernel table. Everything device-specific lives behind
 * this interface, so a new device is an allocator, a reader and one kernel per primitive.
 */
export interface Backend<Buffer = unknown> {
  readonly device: Device;
  /** The dtypes it stores, when not all of them (WebGPU has no float64). */
  readonly dtypes?: readonly DType[];
  /** A buffer for `size` elements of `dtype`; contents unspecified (kernels write every output). */
  alloc(dtype: DType, size: number): Buffer;
  /** Gives a buffer back once no tensor uses it (after the last dispose). */
  free(buffer: Buffer): void;
  /** Wraps host data as a buffer; the backend may keep (CPU) or copy (GPU) it. */
  fromHost(data: TypedArray): Buffer;
  /**
   * The host array behind a buffer, or null where the device cannot serve a synchronous read.
   * With `share`, exactly those elements, as a view the caller hands to user code: its memory stays
   * valid (never recycled) for as long as the view is reachable.
   */
  readSync(buffer: Buffer, share?: { offset: number; size: number }): TypedArray | null;
  /** Elements [offset, offset + size) of a buffer, as an array the caller may keep. */
  read(buffer: Buffer, range: { offset: number; size: number }): Promise<TypedArray>;
  readonly kernels: KernelTable<Buffer>;
  /** What it runs on, for people: `WebAssembly SIMD, threads=2`, a GPU adapter's name. */
  describe(): string;
  /** Memory figures for nb.memory(), by name. */
  memory?(): Readonly<Record<string, number>>;
  /**
   * One kernel computing `expr` elementwise (inputs broadcast to the output), or null when the
   * backend cannot fuse one of its ops. Graph fusion uses it.
   */
  fuse?(
    expr: FusedExpr,
    arity: number,
  ): ((out: ArrayView<Buffer>, inputs: readonly ArrayView<Buffer>[]) => void) | null;
  /**
   * One kernel computing a matrix product and `expr` on it before storing (a bias, an activation):
   * `expr`'s input `product` is a·b; the kernel's inputs are a, b, then `expr`'s other inputs.
   * Null or absent where the backend has no such kernel.
   */
  fuseMatmul?(
    expr: FusedExpr,
    arity: number,
    product: number,
  ): ((out: ArrayView<Buffer>, inputs: readonly ArrayView<Buffer>[]) => void) | null;
}

export type AnyView = ArrayView<unknown>;
