/**
 * Batched matrix product C[..., M, N] = A[..., M, K] · B[..., K, N] with broadcast batch dimensions.
 * The reference kernel: i-k-j loop order so the innermost loop walks a row of B and of C. It reads
 * strided inputs directly (transposed views need no copy).
 */
import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView } from '../primitives.js';
import { broadcastStrides, restride } from './elementwise.js';
import { blockOffsets } from './reduce.js';

type View = ArrayView<TypedArray>;

export function matmul(out: View, [a, b]: readonly View[]): void {
  const nd = out.shape.length;
  const [M, N] = [out.shape[nd - 2]!, out.shape[nd - 1]!];
  const K = a!.shape[a!.shape.length - 1]!;
  const batchShape = out.shape.slice(0, nd - 2);
  const batchOf = (v: View): Int32Array =>
    blockOffsets(batchShape, broadcastStrides(restride(v, v.shape.slice(0, -2)), batchShape));
  const aBatch = batchOf(a!);
  const bBatch = batchOf(b!);
  const [sam, sak] = a!.strides.slice(-2) as [number, number];
  const [sbk, sbn] = b!.strides.slice(-2) as [number, number];
  const A = a!.buffer;
  const B = b!.buffer;
  const C = out.buffer;
  const row = new Float64Array(N); // accumulate each row of C in float64
  for (let batch = 0; batch < aBatch.length; batch++) {
    const aBase = a!.offset + aBatch[batch]!;
    const bBase = b!.offset + bBatch[batch]!;
    const cBase = out.offset + batch * M * N;
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const aik = A[aBase + i * sam + k * sak]!;
        const bRow = bBase + k * sbk;
        for (let j = 0; j < N; j++) row[j] = row[j]! + aik * B[bRow + j * sbn]!;
      }
      for (let j = 0; j < N; j++) C[cBase + i * N + j] = row[j]!;
    }
  }
}
