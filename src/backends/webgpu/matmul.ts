/**
 * Batched matrix products, tiled: a workgroup of 16×16 threads computes a 64×64 block of the output,
 * each thread a 4×4 register block, over 16-wide slices of K staged in workgroup memory. Both
 * operands are read through their strides, so Aᵀ·B, A·Bᵀ and broadcast batches need no copies.
 * An operand whose rows are contiguous and aligned to 4 floats is read as vec4s (one per thread
 * and tile), and such an output is written as vec4s.
 */
import { sizeOf } from '../../core/shape.js';
import type { FusedExpr } from '../backend.js';
import type { GpuContext } from './context.js';
import { expressionCode, helpersFor } from './elementwise.js';
import {
  broadcastStrides,
  computeType,
  header,
  offsetsFrom,
  Params,
  store,
  type ComputeType,
  type View,
} from './wgsl.js';

const TILE = 64;
const SLICE = 16;

// Loading the 64×16 slice of A and the 16×64 slice of B into workgroup memory: four elements per
// thread through strides (zero past the edges), or one aligned vec4 along a contiguous row.
const SCALAR_A = `for (var l = 0u; l < 4u; l++) {
      let e = lid + l * 256u;
      let m = e / ${SLICE}u; let ka = e % ${SLICE}u;
      var va = CT(0);
      if (row0 + m < M && k0 + ka < K) { va = CT(in0[ao + i32(row0 + m) * sam + i32(k0 + ka) * sak]); }
      As[ka][m] = va;
    }`;
const SCALAR_B = `for (var l = 0u; l < 4u; l++) {
      let e = lid + l * 256u;
      let kb = e / ${TILE}u; let n = e % ${TILE}u;
      var vb = CT(0);
      if (k0 + kb < K && col0 + n < N) { vb = CT(in1[bo + i32(k0 + kb) * sbk + i32(col0 + n) * sbn]); }
      Bs[kb][n] = vb;
    }`;
const VEC4_A = `{
      let m = lid / 4u; let ka = (lid % 4u) * 4u;
      var va = vec4<f32>(0.0);
      if (row0 + m < M && k0 + ka < K) { va = in0[(ao + i32(row0 + m) * sam + i32(k0 + ka)) / 4]; }
      As[ka][m] = va.x; As[ka + 1u][m] = va.y; As[ka + 2u][m] = va.z; As[ka + 3u][m] = va.w;
    }`;
const VEC4_B = `{
      let kb = lid / 16u; let n = (lid % 16u) * 4u;
      var vb = vec4<f32>(0.0);
      if (k0 + kb < K && col0 + n < N) { vb = in1[(bo + i32(k0 + kb) * sbk + i32(col0 + n)) / 4]; }
      Bs[kb][n] = vb.x; Bs[kb][n + 1u] = vb.y; Bs[kb][n + 2u] = vb.z; Bs[kb][n + 3u] = vb.w;
    }`;

/**
 * An elementwise chain applied to the product before it is stored (a bias, an activation): `expr`
 * over inputs where input `product` is a·b and the others are the kernel's inputs after a and b.
 */
export interface Epilogue {
  readonly expr: FusedExpr;
  readonly product: number;
}

export function matmulKernel(context: GpuContext, epilogue?: Epilogue) {
  return (out: View, [a, b, ...extras]: readonly View[]): void => {
    if (sizeOf(out.shape) === 0) return;
    const rank = out.shape.length;
    const [M, N] = [out.shape[rank - 2]!, out.shape[rank - 1]!];
    const K = a!.shape[a!.shape.length - 1]!;
    const batchShape = out.shape.slice(0, -2);
    const batches = sizeOf(batchShape);
    // Batch strides of each operand, broadcast to the output's batch dimensions.
    const batchStrides = (x: View): number[] =>
      broadcastStrides(
        { shape: x.shape.slice(0, -2), strides: x.strides.slice(0, -2) },
        batchShape,
      );
    const params = new Params();
    params.push(M, N, K);
    params.push(a!.offset, a!.strides[a!.strides.length - 2]!, a!.strides[a!.strides.length - 1]!);
    params.push(b!.offset, b!.strides[b!.strides.length - 2]!, b!.strides[b!.strides.length - 1]!);
    params.push(out.offset);
    const batchShapeAt = params.push(...batchShape);
    const aBatchAt = params.push(...batchStrides(a!));
    const bBatchAt = params.push(...batchStrides(b!));
    // The epilogue's other inputs, read at the output's coordinates (broadcast).
    const extraAt = extras.map((x) => {
      const strides = broadcastStrides(x, out.shape);
      return {
        offsetAt: params.push(x.offset),
        batchAt: params.push(...strides.slice(0, -2)),
        rowAt: params.push(strides.at(-2)!),
        colAt: params.push(strides.at(-1)!),
      };
    });
    const ct = computeType([out.dtype, a!.dtype, b!.dtype, ...extras.map((x) => x.dtype)]);
    const float = ct === 'f32' && [out, a!, b!].every((x) => x.dtype === 'float32');
    const aligned = (...values: number[]): boolean => values.every((v) => v % 4 === 0);
    const aStrides = a!.strides.slice(0, -2);
    const bStrides = b!.strides.slice(0, -2);
    const aVec =
      float && a!.strides.at(-1) === 1 && aligned(K, a!.offset, a!.strides.at(-2)!, ...aStrides);
    const bVec =
      float && b!.strides.at(-1) === 1 && aligned(N, b!.offset, b!.strides.at(-2)!, ...bStrides);
    const outVec = float && !epilogue && aligned(N, out.offset);
    const inputs = [a!, b!, ...extras].map((x) => x.dtype);
    const source = `${header('MatMul', params.length, out.dtype, inputs, [outVec, aVec, bVec])}
${epilogue ? helpersFor(ct) : ''}
var<workgroup> As: array<array<${ct}, ${TILE}>, ${SLICE}>;
var<workgroup> Bs: array<array<${ct}, ${TILE}>, ${SLICE}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) tid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = P(0u); let N = P(1u); let K = P(2u);
  let sam = S(4u); let sak = S(5u); let sbk = S(7u); let sbn = S(8u);
  var ao = S(3u); var bo = S(6u);
  ${extraAt.map(({ offsetAt }, e) => `var eo${e} = S(${offsetAt}u);`).join(' ')}
  ${offsetsFrom('wid.z', batchShape.length, batchShapeAt, [
    { name: 'ao', strideAt: aBatchAt },
    { name: 'bo', strideAt: bBatchAt },
    ...extraAt.map(({ batchAt }, e) => ({ name: `eo${e}`, strideAt: batchAt })),
  ])}
  let row0 = wid.y * ${TILE}u;
  let col0 = wid.x * ${TILE}u;
  var acc: array<array<${ct}, 4>, 4>;
  for (var k0 = 0u; k0 < K; k0 += ${SLICE}u) {
    ${aVec ? VEC4_A : SCALAR_A.replaceAll('CT', ct)}
    ${bVec ? VEC4_B : SCALAR_B.replaceAll('CT', ct)}
    workgroupBarrier();
    for (var k = 0u; k < ${SLICE}u; k++) {
      var ar: array<${ct}, 4>;
      var br: array<${ct}, 4>;
      for (var i = 0u; i < 4u; i++) { ar[i] = As[k][tid.y * 4u + i]; br[i] = Bs[k][tid.x * 4u + i]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = acc[i][j] + ar[i] * br[j]; }
      }
    }
    workgroupBarrier();
  }
  let base = S(9u) + i32(wid.z * M * N);
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + tid.y * 4u + i;
    ${
      outVec
        ? `let c = col0 + tid.x * 4u;
    if (r < M && c < N) { out[(base + i32(r * N + c)) / 4] = vec4<f32>(acc[i][0], acc[i][1], acc[i][2], acc[i][3]); }`
        : `for (var j = 0u; j < 4u; j++) {
      let c = col0 + tid.x * 4u + j;
      if (r < M && c < N) {
        ${storeCode(out, ct, epilogue, extraAt)}
      }
    }`
    }
  }
}`;
    context.dispatch({
      op: 'MatMul',
      source,
      buffers: [out, a!, b!, ...extras].map((x) => x.buffer.gpu),
      params: params.toArray(),
      workgroups: [Math.ceil(N / TILE), Math.ceil(M / TILE), batches],
    });
  };
}

/** Stores element (r, c) of the product: as it is, or through the epilogue's expression. */
function storeCode(
  out: View,
  ct: ComputeType,
  epilogue: Epilogue | undefined,
  extraAt: readonly { offsetAt: number; rowAt: number; colAt: number }[],
): string {
  const at = 'out[base + i32(r * N + c)]';
  if (!epilogue) return `${at} = ${store(out.dtype, 'acc[i][j]', ct)};`;
  let extra = 0;
  const loads = Array.from({ length: extraAt.length + 1 }, (_, k) => {
    if (k === epilogue.product) return 'acc[i][j]';
    const { rowAt, colAt } = extraAt[extra]!;
    const e = extra++;
    return `${ct}(in${e + 2}[eo${e} + i32(r) * S(${rowAt}u) + i32(c) * S(${colAt}u)])`;
  });
  const { lines, value } = expressionCode(epilogue.expr, loads, ct, 'e');
  return [...lines, `${at} = ${store(out.dtype, value, ct)};`].join('\n        ');
}
