/**
 * Im2Col and Col2Im on the CPU: loops over the windows, the innermost along a row of output
 * positions. Inputs are read through their strides; outputs are fresh and contiguous.
 */
import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView, PrimitiveAttrs } from '../primitives.js';

type View = ArrayView<TypedArray>;

export function im2col(out: View, [x]: readonly View[], a: PrimitiveAttrs['Im2Col']): void {
  const [n, c, kh, kw, oh, ow] = out.shape as [number, number, number, number, number, number];
  const [, , h, w] = x!.shape as [number, number, number, number];
  const [sn, sc, sh, sw] = x!.strides as [number, number, number, number];
  const [top, , left] = a.padding;
  const [strideH, strideW] = a.stride;
  const [dh, dw] = a.dilation;
  const src = x!.buffer;
  const dst = out.buffer;
  let o = out.offset;
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      const base = x!.offset + b * sn + ch * sc;
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) {
          // Output columns whose input column is inside: [first, end); the rest read padding.
          const shift = j * dw - left;
          const first = Math.min(ow, Math.max(0, Math.ceil(-shift / strideW)));
          const end = Math.max(first, Math.min(ow, Math.ceil((w - shift) / strideW)));
          for (let r = 0; r < oh; r++, o += ow) {
            const y = r * strideH - top + i * dh;
            if (y < 0 || y >= h) {
              dst.fill(a.padValue, o, o + ow);
              continue;
            }
            if (first > 0) dst.fill(a.padValue, o, o + first);
            const row = base + y * sh + shift * sw;
            for (let col = first, step = strideW * sw; col < end; col++)
              dst[o + col] = src[row + col * step]!;
            if (end < ow) dst.fill(a.padValue, o + end, o + ow);
          }
        }
    }
}

export function col2im(out: View, [cols]: readonly View[], a: PrimitiveAttrs['Col2Im']): void {
  const [n, c, kh, kw, oh, ow] = cols!.shape as [number, number, number, number, number, number];
  const [h, w] = a.size;
  const s = cols!.strides;
  const [top, , left] = a.padding;
  const [strideH, strideW] = a.stride;
  const [dh, dw] = a.dilation;
  const src = cols!.buffer;
  const dst = out.buffer;
  dst.fill(0, out.offset, out.offset + n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      const plane = out.offset + (b * c + ch) * h * w;
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) {
          // Window columns that land inside the row: [first, end), as in im2col.
          const shift = j * dw - left;
          const first = Math.min(ow, Math.max(0, Math.ceil(-shift / strideW)));
          const end = Math.max(first, Math.min(ow, Math.ceil((w - shift) / strideW)));
          for (let r = 0; r < oh; r++) {
            const y = r * strideH - top + i * dh;
            if (y < 0 || y >= h) continue;
            const at = cols!.offset + b * s[0]! + ch * s[1]! + i * s[2]! + j * s[3]! + r * s[4]!;
            const row = plane + y * w + shift;
            for (let col = first; col < end; col++) {
              const k = row + col * strideW;
              dst[k] = dst[k]! + src[at + col * s[5]!]!;
            }
          }
        }
    }
}
