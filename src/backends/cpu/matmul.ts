/**
 * Batched matrix product C[..., M, N] = A[..., M, K] · B[..., K, N] with broadcast batch dimensions,
 * in plain TypeScript. Each 4×4 block of C is accumulated in 16 local variables (registers) from
 * packed panels: A's 4 rows and B's 4 columns are copied, interleaved by k, into small contiguous
 * buffers, so the inner loop reads memory sequentially and does 16 multiply-adds per 8 loads. This
 * reads any strides (transposed views pack as cheaply as contiguous ones) and accumulates in float64.
 */
import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView } from '../primitives.js';
import { matmulLayout, packPanels } from './pack.js';

type View = ArrayView<TypedArray>;
const TILE = 4;

/** Writes the valid part of a 4×4 block (rows/cols may be cut at the matrix edge). */
function store(
  C: TypedArray,
  at: number,
  N: number,
  rows: number,
  cols: number,
  r: number,
  v0: number,
  v1: number,
  v2: number,
  v3: number,
): void {
  if (r >= rows) return;
  const p = at + r * N;
  if (cols === TILE) {
    C[p] = v0;
    C[p + 1] = v1;
    C[p + 2] = v2;
    C[p + 3] = v3;
    return;
  }
  const values = [v0, v1, v2, v3];
  for (let c = 0; c < cols; c++) C[p + c] = values[c]!;
}

/** C (contiguous, offset cBase) = A·B from packed panels of A's rows and of B's columns. */
function gemm(
  aPacked: Float64Array,
  bPacked: Float64Array,
  C: TypedArray,
  cBase: number,
  M: number,
  N: number,
  K: number,
): void {
  for (let j0 = 0; j0 < N; j0 += TILE) {
    const bp = (j0 / TILE) * K * TILE;
    const cols = Math.min(TILE, N - j0);
    for (let i0 = 0; i0 < M; i0 += TILE) {
      const ap = (i0 / TILE) * K * TILE;
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0,
        c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0;
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0,
        c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0;
      for (let k = 0, pa = ap, pb = bp; k < K; k++, pa += TILE, pb += TILE) {
        const a0 = aPacked[pa]!,
          a1 = aPacked[pa + 1]!,
          a2 = aPacked[pa + 2]!,
          a3 = aPacked[pa + 3]!;
        const b0 = bPacked[pb]!,
          b1 = bPacked[pb + 1]!,
          b2 = bPacked[pb + 2]!,
          b3 = bPacked[pb + 3]!;
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      const at = cBase + i0 * N + j0;
      const rows = Math.min(TILE, M - i0);
      store(C, at, N, rows, cols, 0, c00, c01, c02, c03);
      store(C, at, N, rows, cols, 1, c10, c11, c12, c13);
      store(C, at, N, rows, cols, 2, c20, c21, c22, c23);
      store(C, at, N, rows, cols, 3, c30, c31, c32, c33);
    }
  }
}

/** Below this many multiply-adds, packing panels costs more than it saves. */
const DIRECT_MAX_MACS = 1024;

/**
 * A small 2-D product straight from the strided inputs. Each sum runs over k in the same order and
 * in float64, as the packed kernel's, so the two give the same floats.
 */
function direct(out: View, a: View, b: View): void {
  const [M, N] = out.shape as [number, number];
  const K = a.shape[1]!;
  const [sam, sak] = a.strides as [number, number];
  const [sbk, sbn] = b.strides as [number, number];
  const A = a.buffer,
    B = b.buffer,
    C = out.buffer;
  let at = out.offset;
  for (let i = 0; i < M; i++) {
    const row = a.offset + i * sam;
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0, pa = row, pb = b.offset + j * sbn; k < K; k++, pa += sak, pb += sbk) {
        sum += A[pa]! * B[pb]!;
      }
      C[at++] = sum;
    }
  }
}

export function matmul(out: View, [a, b]: readonly View[]): void {
  if (out.shape.length === 2 && a!.shape.length === 2 && b!.shape.length === 2) {
    const [M, N] = out.shape as [number, number];
    if (M * N * a!.shape[1]! <= DIRECT_MAX_MACS) return direct(out, a!, b!);
  }
  const { M, N, K, aBatch, bBatch, sam, sak, sbk, sbn } = matmulLayout(out, a!, b!);
  const padded = (rows: number): number => Math.ceil(rows / TILE) * TILE * K;
  const aPacked = new Float64Array(padded(M));
  const bPacked = new Float64Array(padded(N));
  for (let batch = 0; batch < aBatch.length; batch++) {
    packPanels(a!.buffer, a!.offset + aBatch[batch]!, sam, sak, M, K, TILE, aPacked);
    packPanels(b!.buffer, b!.offset + bBatch[batch]!, sbn, sbk, N, K, TILE, bPacked);
    gemm(aPacked, bPacked, out.buffer, out.offset + batch * M * N, M, N, K);
  }
}
