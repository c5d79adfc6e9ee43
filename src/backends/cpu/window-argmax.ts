/**
 * WindowArgMax on the CPU (max pooling's choice of element). Windows wholly inside the plane — all
 * but the edges — run a loop compiled for the window's geometry, its taps unrolled with their
 * offsets as constants: a loop over taps measured 1.6× slower, since a 2×2 window is four compares.
 * Edge windows skip the taps that fall outside. 2×2 windows of stride 2 run four at a time in
 * WebAssembly SIMD where the planes allow it (wasm/max-pool.ts).
 */
import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView, Kernel, PatchAttrs, PrimitiveAttrs } from '../primitives.js';
import type { WasmMaxPool } from '../wasm/max-pool.js';

type View = ArrayView<TypedArray>;
/**
 * Fills dst[o .. o + count) with the first maxima of `count` windows along a row, the first at
 * buffer index `origin` and plane offset `place`, each next `step` / `placeStep` further on.
 */
type InteriorRun = (
  src: TypedArray,
  dst: TypedArray,
  o: number,
  count: number,
  origin: number,
  step: number,
  place: number,
  placeStep: number,
) => void;

const interiorKernels = new Map<string, InteriorRun>();

/**
 * The compiled interior loop for taps at buffer offsets `at` and plane offsets `plane`. A tap wins
 * when it is above the peak or NaN (`!(v <= peak)`), unless the peak is already NaN.
 */
function interiorKernel(at: readonly number[], plane: readonly number[]): InteriorRun {
  const key = `${at.join(',')}/${plane.join(',')}`;
  let kernel = interiorKernels.get(key);
  if (!kernel) {
    const taps = at
      .slice(1)
      .map(
        (offset, t) =>
          `v = src[origin + ${offset}]; if (!(v <= peak) && peak === peak) { best = ${plane[t + 1]}; peak = v; }`,
      );
    kernel = new Function(
      'src',
      'dst',
      'o',
      'count',
      'origin',
      'step',
      'place',
      'placeStep',
      `for (const end = o + count; o < end; o++, origin += step, place += placeStep) {
  let peak = src[origin + ${at[0]}]; let best = ${plane[0]}; let v = 0;
  ${taps.join('\n  ')}
  dst[o] = place + best;
}`,
    ) as InteriorRun;
    interiorKernels.set(key, kernel);
  }
  return kernel;
}

/**
 * How many leading windows of every row the SIMD kernel takes: four at a time, for 2×2 windows of
 * stride 2 with no padding or dilation, over dense float32 planes in the arena (0 otherwise).
 */
function simdWindows(pool: WasmMaxPool | null, out: View, x: View, a: PatchAttrs): number {
  const [, c, h, w] = x.shape as [number, number, number, number];
  const fits =
    pool !== null &&
    x.dtype === 'float32' &&
    [...a.kernel, ...a.stride].every((v) => v === 2) &&
    a.dilation.every((v) => v === 1) &&
    a.padding.every((v) => v === 0) &&
    x.strides.join() === [c * h * w, h * w, w, 1].join() &&
    pool.arena.owns(x.buffer) &&
    pool.arena.owns(out.buffer);
  return fits ? 4 * Math.floor(out.shape[3]! / 4) : 0;
}

export function windowArgmaxKernel(
  pool: WasmMaxPool | null,
): Kernel<TypedArray, PrimitiveAttrs['WindowArgMax']> {
  return (out, inputs, a) => windowArgmax(out, inputs, a, pool);
}

function windowArgmax(
  out: View,
  [x]: readonly View[],
  a: PrimitiveAttrs['WindowArgMax'],
  pool: WasmMaxPool | null,
): void {
  const [n, c, oh, ow] = out.shape as [number, number, number, number];
  const [, , h, w] = x!.shape as [number, number, number, number];
  const [sn, sc, sh, sw] = x!.strides as [number, number, number, number];
  const [kh, kw] = a.kernel;
  const [top, , left] = a.padding;
  const [strideH, strideW] = a.stride;
  const [dh, dw] = a.dilation;
  const [spanH, spanW] = [dh * (kh - 1) + 1, dw * (kw - 1) + 1];
  const at: number[] = [];
  const plane: number[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      at.push(i * dh * sh + j * dw * sw);
      plane.push(i * dh * w + j * dw);
    }
  const interior = interiorKernel(at, plane);
  // Output columns whose windows lie wholly inside a row: [colFirst, colEnd).
  const colFirst = Math.ceil(left / strideW);
  const colEnd = Math.max(colFirst, Math.floor((w - spanW + left) / strideW) + 1);
  const src = x!.buffer;
  const dst = out.buffer;
  const skip = simdWindows(pool, out, x!, a);
  if (skip > 0)
    pool!.argmax2x2(
      src.byteOffset + 4 * x!.offset,
      dst.byteOffset + 4 * out.offset,
      n * c,
      oh,
      skip / 4,
      w,
      4 * ow,
      4 * h * w,
      4 * oh * ow,
    );
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      const base = x!.offset + b * sn + ch * sc;
      for (let r = 0; r < oh; r++) {
        const y0 = r * strideH - top;
        const rowInside = y0 >= 0 && y0 + spanH <= h;
        let o = out.offset + ((b * c + ch) * oh + r) * ow + skip;
        for (let col = skip; col < ow; col++, o++) {
          const x0 = col * strideW - left;
          if (rowInside && col >= colFirst && col < colEnd) {
            const count = colEnd - col;
            const origin = base + y0 * sh + x0 * sw;
            interior(src, dst, o, count, origin, strideW * sw, y0 * w + x0, strideW);
            col += count - 1;
            o += count - 1;
            continue;
          }
          // Kernel order is plane order, so the first tap that wins is the first maximum.
          let best = -1;
          let peak = -Infinity;
          for (let i = 0; i < kh; i++) {
            const y = y0 + i * dh;
            if (y < 0 || y >= h) continue;
            for (let j = 0; j < kw; j++) {
              const xx = x0 + j * dw;
              if (xx < 0 || xx >= w) continue;
              const v = src[base + y * sh + xx * sw]!;
              if (best < 0 || (!(v <= peak) && peak === peak)) {
                best = y * w + xx;
                peak = v;
              }
            }
          }
          dst[o] = best;
        }
      }
    }
}
