/**
 * Batched matrix product C[..., M, N] = A[..., M, K] · B[..., K, N] with broadcast batch dimensions,
 * in plain TypeScript. Each 4×4 block of C is accumulated in 16 local variables (registers) from
 * packed panels: A's 4 rows and B's 4 columns are copied, interleaved by k, into small contiguous
 * buffers, so the inner loop reads memory sequentially and does 16 multiply-adds per 8 loads. This
 * reads any strides (transposed views pack as cheaply as contiguous ones) and accumulates in float64,
 * or, for large float32 products, in float32 exactly as the SIMD kernel does (each product and
 * each sum rounded to float32, k in order), so that both kernels give the same floats.
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

type Gemm = (
  aPacked: Float64Array,
  bPacked: Float64Array,
  C: TypedArray,
  cBase: number,
  M: number,
  N: number,
  K: number,
) => void;

const LANES = [0, 1, 2, 3];

/**
 * Compiles C (contiguous, offset cBase) = A·B from packed panels of A's rows and of B's columns,
 * with `round` around each product and each partial sum. It is generated so that each variant's
 * loop is as plain as a hand-written one (a rounding function passed in would make the float64
 * loop 20× slower). Rounding through float64 to float32 gives float32 arithmetic's own results,
 * since 53 ≥ 2·24 + 2 bits.
 */
function compileGemm(round: (x: string) => string): Gemm {
  const acc = LANES.flatMap((i) => LANES.map((j) => ({ name: `c${i}${j}`, i, j })));
  const source = `
    for (let j0 = 0; j0 < N; j0 += ${TILE}) {
      const bp = (j0 / ${TILE}) * K * ${TILE};
      const cols = Math.min(${TILE}, N - j0);
      for (let i0 = 0; i0 < M; i0 += ${TILE}) {
        const ap = (i0 / ${TILE}) * K * ${TILE};
        let ${acc.map(({ name }) => `${name} = 0`).join(', ')};
        for (let k = 0, pa = ap, pb = bp; k < K; k++, pa += ${TILE}, pb += ${TILE}) {
          ${LANES.map((i) => `const a${i} = aPacked[pa + ${i}], b${i} = bPacked[pb + ${i}];`).join('\n')}
          ${acc.map(({ name, i, j }) => `${name} = ${round(`${name} + ${round(`a${i} * b${j}`)}`)};`).join('\n')}
        }
        const at = cBase + i0 * N + j0;
        const rows = Math.min(${TILE}, M - i0);
        ${LANES.map((i) => `store(C, at, N, rows, cols, ${i}, ${LANES.map((j) => `c${i}${j}`).join(', ')});`).join('\n')}
      }
    }`;
  const make = new Function(
    'store',
    `return function gemm(aPacked, bPacked, C, cBase, M, N, K) {${source}};`,
  );
  return make(store) as Gemm;
}

const gemmFloat64 = compileGemm((x) => x);
const gemmFloat32 = compileGemm((x) => `Math.fround(${x})`);

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

/** The product, summed in float64 (small products take a direct loop). */
export function matmul(out: View, inputs: readonly View[]): void {
  const [a, b] = inputs;
  if (out.shape.length === 2 && a!.shape.length === 2 && b!.shape.length === 2) {
    const [M, N] = out.shape as [number, number];
    if (M * N * a!.shape[1]! <= DIRECT_MAX_MACS) return direct(out, a!, b!);
  }
  packedProduct(out, inputs, gemmFloat64);
}

/** The product of float32 matrices, summed in float32 as the SIMD kernel sums (the same floats). */
export function matmulFloat32(out: View, inputs: readonly View[]): void {
  packedProduct(out, inputs, gemmFloat32);
}

function packedProduct(out: View, [a, b]: readonly View[], gemm: Gemm): void {
  const { M, N, K, aBatch, bBatch, sam, sak, sbk, sbn } = matmulLayout(out, a!, b!);
  const padded = (rows: number): number => Math.ceil(rows / TILE) * TILE * K;
  const aPacked = new Float64Array(padded(M));
  const bPacked = new Float64Array(padded(N));
  for (let batch = 0; batch < aBatch.length; batch++) {
    // A broadcast operand (a convolution's weights against each sample) is packed once.
    if (batch === 0 || aBatch[batch] !== aBatch[batch - 1])
      packPanels(a!.buffer, a!.offset + aBatch[batch]!, sam, sak, M, K, TILE, aPacked);
    if (batch === 0 || bBatch[batch] !== bBatch[batch - 1])
      packPanels(b!.buffer, b!.offset + bBatch[batch]!, sbn, sbk, N, K, TILE, bPacked);
    gemm(aPacked, bPacked, out.buffer, out.offset + batch * M * N, M, N, K);
  }
}
