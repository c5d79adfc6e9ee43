/**
 * Batched matrix products, tiled: a workgroup of 16×16 threads computes a square block of the
 * output, each thread R×R of it (R = 8 where the product has blocks enough to fill a large GPU,
 * else 4), over 16-wide slices of K staged in workgroup memory as vec4s. A thread's rows and
 * columns come in runs of four, 64 apart, so each step of K reads workgroup memory in vec4s and a
 * warp's reads fall in distinct banks. Both operands are read through their strides, so Aᵀ·B, A·Bᵀ
 * and broadcast batches need no copies; an operand whose rows are contiguous and aligned to 4
 * floats is read as vec4s, and such an output written as vec4s.
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
  SourceCache,
  store,
  type ComputeType,
  type View,
} from './wgsl.js';

/** Threads along each side of a workgroup, and the K slice staged per step. */
const SIDE = 16;
const SLICE = 16;
/** Blocks of 128 × 128 from which the larger register block pays (measured on an H200). */
const LARGE_BLOCK_FROM = 256;

/**
 * The register block for a product: 8 × 8 reuses more of each read from workgroup memory, but
 * makes a quarter of the workgroups, too few to fill a large GPU below a few hundred.
 */
function registerBlock(M: number, N: number, batches: number): 4 | 8 {
  return Math.ceil(M / 128) * Math.ceil(N / 128) * batches >= LARGE_BLOCK_FROM ? 8 : 4;
}

// Loading the tile×16 slice of A and the 16×tile slice of B into workgroup memory: through strides
// (zero past the edges), or as aligned vec4s along contiguous rows. Adjacent threads read adjacent
// addresses where an operand is contiguous along either dimension (a transposed operand, as in a
// backward pass, walks its K dimension in memory), so that a warp's reads coalesce.
function loadA(ct: ComputeType, tile: number, vec4: boolean, alongM: boolean): string {
  if (vec4)
    return `for (var l = 0u; l < ${tile / 64}u; l++) {
      let e = lid + l * 256u;
      let m = e / 4u; let ka = (e % 4u) * 4u;
      var va = vec4<f32>(0.0);
      if (row0 + m < M && k0 + ka < K) { va = in0[(ao + i32(row0 + m) * sam + i32(k0 + ka)) / 4]; }
      let mv = m >> 2u; let mc = m & 3u;
      As[ka][mv][mc] = va.x; As[ka + 1u][mv][mc] = va.y; As[ka + 2u][mv][mc] = va.z; As[ka + 3u][mv][mc] = va.w;
    }`;
  const [m, ka] = alongM ? [`e % ${tile}u`, `e / ${tile}u`] : [`e / ${SLICE}u`, `e % ${SLICE}u`];
  return `for (var l = 0u; l < ${tile / SIDE}u; l++) {
      let e = lid + l * 256u;
      let m = ${m}; let ka = ${ka};
      var va = ${ct}(0);
      if (row0 + m < M && k0 + ka < K) { va = ${ct}(in0[ao + i32(row0 + m) * sam + i32(k0 + ka) * sak]); }
      As[ka][m >> 2u][m & 3u] = va;
    }`;
}
function loadB(ct: ComputeType, tile: number, vec4: boolean, alongK: boolean): string {
  if (vec4)
    return `for (var l = 0u; l < ${tile / 64}u; l++) {
      let e = lid + l * 256u;
      let kb = e / ${tile / 4}u; let n = (e % ${tile / 4}u) * 4u;
      var vb = vec4<f32>(0.0);
      if (k0 + kb < K && col0 + n < N) { vb = in1[(bo + i32(k0 + kb) * sbk + i32(col0 + n)) / 4]; }
      Bs[kb][n >> 2u] = vb;
    }`;
  const [kb, n] = alongK ? [`e % ${SLICE}u`, `e / ${SLICE}u`] : [`e / ${tile}u`, `e % ${tile}u`];
  return `for (var l = 0u; l < ${tile / SIDE}u; l++) {
      let e = lid + l * 256u;
      let kb = ${kb}; let n = ${n};
      var vb = ${ct}(0);
      if (k0 + kb < K && col0 + n < N) { vb = ${ct}(in1[bo + i32(k0 + kb) * sbk + i32(col0 + n) * sbn]); }
      Bs[kb][n >> 2u][n & 3u] = vb;
    }`;
}

/**
 * An elementwise chain applied to the product before it is stored (a bias, an activation): `expr`
 * over inputs where input `product` is a·b and the others are the kernel's inputs after a and b.
 */
export interface Epilogue {
  readonly expr: FusedExpr;
  readonly product: number;
}

export function matmulKernel(context: GpuContext, epilogue?: Epilogue) {
  const sources = new SourceCache();
  return (out: View, [a, b, ...extras]: readonly View[]): void => {
    if (sizeOf(out.shape) === 0) return;
    const rank = out.shape.length;
    const [M, N] = [out.shape[rank - 2]!, out.shape[rank - 1]!];
    const K = a!.shape[a!.shape.length - 1]!;
    const batchShape = out.shape.slice(0, -2);
    const batches = sizeOf(batchShape);
    const R = registerBlock(M, N, batches);
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
    const aAlongM = a!.strides.at(-2) === 1;
    const bAlongK = b!.strides.at(-2) === 1;
    const tile = SIDE * R;
    const layout = [aVec, bVec, outVec, aAlongM, bAlongK].map(Number).join('');
    const key = `${R} ${batchShape.length} ${out.dtype} ${inputs.join(' ')} ${layout}`;
    const source = sources.get(
      key,
      () => `${header('MatMul', params.length, out.dtype, inputs, [outVec, aVec, bVec])}
${epilogue ? helpersFor(ct) : ''}
var<workgroup> As: array<array<vec4<${ct}>, ${tile / 4}>, ${SLICE}>;
var<workgroup> Bs: array<array<vec4<${ct}>, ${tile / 4}>, ${SLICE}>;
@compute @workgroup_size(${SIDE}, ${SIDE})
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
  let row0 = wid.y * ${tile}u;
  let col0 = wid.x * ${tile}u;
  var acc: array<vec4<${ct}>, ${R * (R / 4)}>;
  for (var k0 = 0u; k0 < K; k0 += ${SLICE}u) {
    ${loadA(ct, tile, aVec, aAlongM)}
    ${loadB(ct, tile, bVec, bAlongK)}
    workgroupBarrier();
    for (var k = 0u; k < ${SLICE}u; k++) {
      ${multiplyAdds(R)}
    }
    workgroupBarrier();
  }
  let base = S(9u) + i32(wid.z * M * N);
  ${stores(R, outVec, storeCode(out, ct, epilogue, extraAt))}
}`,
    );
    context.dispatch({
      op: 'MatMul',
      source,
      buffers: [out, a!, b!, ...extras].map((x) => x.buffer.gpu),
      params: params.toArray(),
      workgroups: [Math.ceil(N / tile), Math.ceil(M / tile), batches],
    });
  };
}

/**
 * One step of K: a thread's R rows of A and R columns of B read as vec4s (runs of four, 64 apart),
 * and the R × R multiply-adds into its accumulators, row i's run g of columns in acc[i·R/4 + g].
 */
function multiplyAdds(R: number): string {
  const runs = R / 4;
  const lines: string[] = [];
  for (let g = 0; g < runs; g++) {
    lines.push(
      `let a${g} = As[k][tid.y + ${SIDE * g}u];`,
      `let b${g} = Bs[k][tid.x + ${SIDE * g}u];`,
    );
  }
  for (let i = 0; i < R; i++) {
    const a = `a${i >> 2}.${'xyzw'[i & 3]!}`;
    for (let g = 0; g < runs; g++) {
      const at = `acc[${i * runs + g}]`;
      lines.push(`${at} = ${at} + ${a} * b${g};`);
    }
  }
  return lines.join('\n      ');
}

/**
 * The stores of a thread's R × R block: a vec4 per run of columns where the output's rows are
 * contiguous and aligned, else element by element (`element` stores `v[j]` at row r, column c).
 */
function stores(R: number, vec4: boolean, element: string): string {
  const runs = R / 4;
  const lines: string[] = [];
  for (let i = 0; i < R; i++) {
    lines.push(`{ let r = row0 + ${4 * SIDE * (i >> 2)}u + tid.y * 4u + ${i & 3}u;`);
    for (let g = 0; g < runs; g++) {
      const c0 = `col0 + ${4 * SIDE * g}u + tid.x * 4u`;
      lines.push(
        vec4
          ? `  if (r < M && ${c0} < N) { out[(base + i32(r * N + ${c0})) / 4] = acc[${i * runs + g}]; }`
          : `  { let v = acc[${i * runs + g}]; for (var j = 0u; j < 4u; j++) { let c = ${c0} + j; if (r < M && c < N) { ${element} } } }`,
      );
    }
    lines.push('}');
  }
  return lines.join('\n  ');
}

/** Stores element (r, c) of the product, `v[j]`: as it is, or through the epilogue's expression. */
function storeCode(
  out: View,
  ct: ComputeType,
  epilogue: Epilogue | undefined,
  extraAt: readonly { offsetAt: number; rowAt: number; colAt: number }[],
): string {
  const at = 'out[base + i32(r * N + c)]';
  if (!epilogue) return `${at} = ${store(out.dtype, 'v[j]', ct)};`;
  let extra = 0;
  const loads = Array.from({ length: extraAt.length + 1 }, (_, k) => {
    if (k === epilogue.product) return 'v[j]';
    const { rowAt, colAt } = extraAt[extra]!;
    const e = extra++;
    return `${ct}(in${e + 2}[eo${e} + i32(r) * S(${rowAt}u) + i32(c) * S(${colAt}u)])`;
  });
  const { lines, value } = expressionCode(epilogue.expr, loads, ct, 'e');
  return [...lines, `${at} = ${store(out.dtype, value, ct)};`].join('\n        ');
}
