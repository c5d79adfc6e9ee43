/**
 * Im2Col and Col2Im on the CPU: loops over the windows, the innermost along a row of output
 * positions. Inputs are read through their strides; outputs are fresh and contiguous. Where a
 * window's taps are adjacent (stride 1 along the row) and both tensors are float32 in the arena,
 * each tap's rows move in one WebAssembly call (copied, or added in SIMD): per-element JS loops
 * over rows of 11–26 floats took a fifth of W7's step.
 */
import type { TypedArray } from '../../core/dtype.js';
import type { Kernel, PrimitiveAttrs } from '../primitives.js';
import { byteAddress, rowsFor, zeroElements, type WasmRows } from '../wasm/rows.js';
import { isDense } from './elementwise.js';

/** Output positions [first, end) along one dimension whose input index is inside [0, size). */
function insideRange(count: number, stride: number, shift: number, size: number): [number, number] {
  const first = Math.min(count, Math.max(0, Math.ceil(-shift / stride)));
  return [first, Math.max(first, Math.min(count, Math.ceil((size - shift) / stride)))];
}

/**
 * Per tap (i, j) of windows with stride 1 along the row, what of its block of [oh, ow] outputs
 * lies inside the [h, w] plane (rows `rowStride` apart), as WasmRows.windows takes it: the byte
 * offset in the plane of its first element inside, that element's byte offset in the block, the
 * bytes and the number of rows inside, and 1 where the whole block is inside.
 */
function tapTable(
  a: PrimitiveAttrs['Im2Col'],
  [kh, kw, oh, ow]: readonly number[],
  [h, w]: readonly number[],
  rowStride: number,
): number[][] {
  const [top, , left] = a.padding;
  const [dh, dw] = a.dilation;
  const entries: number[][] = [];
  for (let i = 0; i < kh!; i++)
    for (let j = 0; j < kw!; j++) {
      const shift = j * dw - left;
      const [first, end] = insideRange(ow!, 1, shift, w!);
      const [rFirst, rEnd] = insideRange(oh!, a.stride[0], i * dh - top, h!);
      if (end <= first || rEnd <= rFirst) {
        entries.push([0, 0, 0, 0, 0]);
        continue;
      }
      const row = rFirst * a.stride[0] - top + i * dh;
      const whole = rFirst === 0 && rEnd === oh && first === 0 && end === ow ? 1 : 0;
      const inPlane = 4 * (row * rowStride + first + shift);
      entries.push([inPlane, 4 * (rFirst * ow! + first), 4 * (end - first), rEnd - rFirst, whole]);
    }
  return entries;
}

export function im2colKernel(rows: WasmRows | null): Kernel<TypedArray, PrimitiveAttrs['Im2Col']> {
  return (out, [x], a) => {
    const [n, c, kh, kw, oh, ow] = out.shape as [number, number, number, number, number, number];
    const [, , h, w] = x!.shape as [number, number, number, number];
    const [sn, sc, sh, sw] = x!.strides as [number, number, number, number];
    const [top, , left] = a.padding;
    const [strideH, strideW] = a.stride;
    const [dh, dw] = a.dilation;
    const src = x!.buffer;
    const dst = out.buffer;
    const fast = rowsFor(rows, x!, out, strideW === 1 && sw === 1);
    // The whole batch in one call where its planes are a fixed stride apart.
    const table = (): number[][] => tapTable(a, [kh, kw, oh, ow], [h, w], sh);
    const planes = [byteAddress(x!), 4 * sc, n * c];
    const blocks = [4 * strideH * sh, byteAddress(out), 4 * ow, oh];
    const uniform = n === 1 || sn === c * sc;
    if (fast && uniform && fast.windows('im2col', planes, table(), blocks, a.padValue)) return;
    let o = out.offset;
    for (let b = 0; b < n; b++)
      for (let ch = 0; ch < c; ch++) {
        const base = x!.offset + b * sn + ch * sc;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++, o += oh * ow) {
            // Output columns whose input column is inside: [first, end); rows likewise.
            const shift = j * dw - left;
            const [first, end] = insideRange(ow, strideW, shift, w);
            const [rFirst, rEnd] = insideRange(oh, strideH, i * dh - top, h);
            dst.fill(a.padValue, o, o + rFirst * ow);
            dst.fill(a.padValue, o + rEnd * ow, o + oh * ow);
            for (let r = rFirst; r < rEnd && (first > 0 || end < ow); r++) {
              dst.fill(a.padValue, o + r * ow, o + r * ow + first);
              dst.fill(a.padValue, o + r * ow + end, o + (r + 1) * ow);
            }
            if (end <= first || rEnd <= rFirst) continue;
            const row = (r: number): number =>
              base + (r * strideH - top + i * dh) * sh + shift * sw;
            if (fast) {
              fast.copy(
                src.byteOffset + 4 * (row(rFirst) + first),
                4 * strideH * sh,
                dst.byteOffset + 4 * (o + rFirst * ow + first),
                4 * ow,
                4 * (end - first),
                rEnd - rFirst,
              );
              continue;
            }
            for (let r = rFirst; r < rEnd; r++) {
              const [from, to] = [row(r), o + r * ow];
              for (let col = first, step = strideW * sw; col < end; col++)
                dst[to + col] = src[from + col * step]!;
            }
          }
      }
  };
}

export function col2imKernel(rows: WasmRows | null): Kernel<TypedArray, PrimitiveAttrs['Col2Im']> {
  return (out, [cols], a) => {
    const [n, c, kh, kw, oh, ow] = cols!.shape as [number, number, number, number, number, number];
    const [h, w] = a.size;
    const s = cols!.strides;
    const [top, , left] = a.padding;
    const [strideH, strideW] = a.stride;
    const [dh, dw] = a.dilation;
    const src = cols!.buffer;
    const dst = out.buffer;
    const fast = rowsFor(rows, cols!, out, strideW === 1 && s[5] === 1);
    zeroElements(rows, dst, out.offset, out.offset + n * c * h * w);
    // The whole batch in one call.
    const planes = [byteAddress(out), 4 * h * w, n * c];
    const blocks = [4 * strideH * w, byteAddress(cols!), 4 * ow, oh];
    const table = (): number[][] => tapTable(a, [kh, kw, oh, ow], [h, w], w);
    if (fast && isDense(cols!) && fast.windows('col2im', planes, table(), blocks)) return;
    for (let b = 0; b < n; b++)
      for (let ch = 0; ch < c; ch++) {
        const plane = out.offset + (b * c + ch) * h * w;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            // Window columns that land inside the row: [first, end), as in im2col; rows likewise.
            const shift = j * dw - left;
            const [first, end] = insideRange(ow, strideW, shift, w);
            const [rFirst, rEnd] = insideRange(oh, strideH, i * dh - top, h);
            if (end <= first || rEnd <= rFirst) continue;
            const at = cols!.offset + b * s[0]! + ch * s[1]! + i * s[2]! + j * s[3]!;
            const row = (r: number): number => plane + (r * strideH - top + i * dh) * w + shift;
            if (fast) {
              fast.add(
                src.byteOffset + 4 * (at + rFirst * s[4]! + first),
                4 * s[4]!,
                dst.byteOffset + 4 * (row(rFirst) + first),
                4 * strideH * w,
                4 * (end - first),
                rEnd - rFirst,
              );
              continue;
            }
            for (let r = rFirst; r < rEnd; r++) {
              const [from, to] = [at + r * s[4]!, row(r)];
              for (let col = first; col < end; col++) {
                const k = to + col * strideW;
                dst[k] = dst[k]! + src[from + col * s[5]!]!;
              }
            }
          }
      }
  };
}
