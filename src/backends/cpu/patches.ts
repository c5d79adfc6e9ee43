/**
 * Im2Col and Col2Im on the CPU: loops over the windows, the innermost along a row of output
 * positions. Inputs are read through their strides; outputs are fresh and contiguous. Where a
 * window's taps are adjacent (stride 1 along the row) and both tensors are float32 in the arena,
 * each tap's rows move in one WebAssembly call (copied, or added in SIMD): per-element JS loops
 * over rows of 11–26 floats took a fifth of W7's step.
 */
import type { TypedArray } from '../../core/dtype.js';
import type { Kernel, PrimitiveAttrs } from '../primitives.js';
import { rowsFor, zeroElements, type WasmRows } from '../wasm/rows.js';
import { isDense } from './elementwise.js';

/** Output positions [first, end) along one dimension whose input index is inside [0, size). */
function insideRange(count: number, stride: number, shift: number, size: number): [number, number] {
  const first = Math.min(count, Math.max(0, Math.ceil(-shift / stride)));
  return [first, Math.max(first, Math.min(count, Math.ceil((size - shift) / stride)))];
}

/** Whether every tap of every window lies inside the [h, w] plane (no padding is read). */
function windowsInside(
  [kh, kw, oh, ow]: readonly number[],
  [h, w]: readonly number[],
  a: PrimitiveAttrs['Im2Col'],
): boolean {
  const [top, , left] = a.padding;
  const inside = (count: number, stride: number, shift: number, size: number): boolean => {
    const [first, end] = insideRange(count, stride, shift, size);
    return first === 0 && end === count;
  };
  for (let i = 0; i < kh!; i++)
    if (!inside(oh!, a.stride[0], i * a.dilation[0] - top, h!)) return false;
  for (let j = 0; j < kw!; j++)
    if (!inside(ow!, a.stride[1], j * a.dilation[1] - left, w!)) return false;
  return true;
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
    if (fast && (n === 1 || sn === c * sc) && windowsInside([kh, kw, oh, ow], [h, w], a)) {
      // The whole batch in one call: every window's rows are inside its plane.
      const address = (v: typeof out): number => v.buffer.byteOffset + 4 * v.offset;
      const [iStep, jStep, winRow] = [4 * dh * sh, 4 * dw, 4 * strideH * sh];
      fast.im2col(
        address(x!),
        4 * sc,
        n * c,
        kh,
        kw,
        iStep,
        jStep,
        winRow,
        address(out),
        4 * ow,
        oh,
      );
      return;
    }
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
    if (fast && isDense(cols!) && windowsInside([kh, kw, oh, ow], [h, w], a)) {
      // The whole batch in one call: every window's rows are inside its plane.
      const [iStep, jStep, winRow] = [4 * dh * w, 4 * dw, 4 * strideH * w];
      const [plane, columns] = [dst.byteOffset + 4 * out.offset, src.byteOffset + 4 * cols!.offset];
      fast.col2im(plane, 4 * h * w, n * c, kh, kw, iStep, jStep, winRow, columns, 4 * ow, oh);
      return;
    }
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
