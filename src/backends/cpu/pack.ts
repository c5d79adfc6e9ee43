/** What both matmul kernels (plain TS and WebAssembly) share: the batch layout and panel packing. */
import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView } from '../primitives.js';
import { broadcastStrides, restride } from './elementwise.js';
import { blockOffsets } from './reduce.js';

type View = ArrayView<TypedArray>;

export interface MatmulLayout {
  M: number;
  N: number;
  K: number;
  /** Element offsets of each batch entry's matrix in A and in B (batch dims broadcast). */
  aBatch: Int32Array;
  bBatch: Int32Array;
  /** Strides of A's rows and columns, and of B's rows (k) and columns (n). */
  sam: number;
  sak: number;
  sbk: number;
  sbn: number;
}

/** Sizes and strides of C[..., M, N] = A[..., M, K] · B[..., K, N]. */
export function matmulLayout(out: View, a: View, b: View): MatmulLayout {
  const nd = out.shape.length;
  const batchShape = out.shape.slice(0, nd - 2);
  const batchOf = (v: View): Int32Array =>
    blockOffsets(batchShape, broadcastStrides(restride(v, v.shape.slice(0, -2)), batchShape));
  const [sam, sak] = a.strides.slice(-2) as [number, number];
  const [sbk, sbn] = b.strides.slice(-2) as [number, number];
  return {
    M: out.shape[nd - 2]!,
    N: out.shape[nd - 1]!,
    K: a.shape[a.shape.length - 1]!,
    aBatch: batchOf(a),
    bBatch: batchOf(b),
    sam,
    sak,
    sbk,
    sbn,
  };
}

/**
 * Packs the rows of a strided M×K matrix into panels of `rows` rows, each stored [k][row] and
 * zero-padded past M, at `out[at...]`: one pass over the matrix, then every block that needs a panel
 * reads it sequentially. (B's columns are packed as the rows of Bᵀ.)
 */
export function packPanels(
  X: TypedArray,
  base: number,
  sRow: number,
  sK: number,
  M: number,
  K: number,
  rows: number,
  out: Float32Array | Float64Array,
  at = 0,
): void {
  const panels = Math.ceil(M / rows);
  for (let t = 0; t < panels; t++) {
    const panel = at + t * K * rows;
    for (let r = 0; r < rows; r++) {
      const row = t * rows + r;
      if (row >= M) {
        for (let k = 0; k < K; k++) out[panel + k * rows + r] = 0;
        continue;
      }
      let p = base + row * sRow;
      for (let k = 0; k < K; k++, p += sK) out[panel + k * rows + r] = X[p]!;
    }
  }
}
