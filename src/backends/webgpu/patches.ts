/**
 * Im2Col, Col2Im and WindowArgMax as WGSL: one thread per output element. Col2Im gathers the window elements
 * that land on its pixel (in kernel order, as the CPU adds them) instead of scattering them, so it
 * needs no atomics.
 */
import { sizeOf } from '../../core/shape.js';
import type { PrimitiveAttrs } from '../primitives.js';
import type { GpuContext } from './context.js';
import {
  computeType,
  coordinates,
  FLOAT_HELPERS,
  dispatchPerElement,
  header,
  Params,
  PER_ELEMENT_MAIN,
  store,
  type View,
} from './wgsl.js';

/** The window geometry: stride, padding (top, left), dilation, as params from `at`. */
function geometry(params: Params, a: PrimitiveAttrs['Im2Col']): number {
  return params.push(
    a.stride[0],
    a.stride[1],
    a.padding[0],
    a.padding[2],
    a.dilation[0],
    a.dilation[1],
  );
}
const GEOMETRY = (g: number): string =>
  `let sh = S(${g}u); let sw = S(${g + 1}u); let top = S(${g + 2}u); let left = S(${g + 3}u); let dh = S(${g + 4}u); let dw = S(${g + 5}u);`;

export function im2colKernel(context: GpuContext) {
  return (out: View, [x]: readonly View[], attrs: PrimitiveAttrs['Im2Col']): void => {
    const size = sizeOf(out.shape);
    if (size === 0) return;
    const params = new Params();
    params.push(size, out.offset, x!.offset, x!.shape[2]!, x!.shape[3]!);
    const shapeAt = params.push(...out.shape);
    const strideAt = params.push(...x!.strides);
    const g = geometry(params, attrs);
    const padBits = params.push(new Uint32Array(new Float32Array([attrs.padValue]).buffer)[0]!);
    const ct = computeType([out.dtype]);
    const source = `${header('Im2Col', params.length, out.dtype, [x!.dtype])}
fn bits_f(b: u32) -> f32 { var v = b; return bitcast<f32>(v); }
${PER_ELEMENT_MAIN}
  ${coordinates(6, shapeAt)}
  ${GEOMETRY(g)}
  let y = c4 * sh - top + c2 * dh;
  let xw = c5 * sw - left + c3 * dw;
  var v = ${ct}(bits_f(P(${padBits}u)));
  if (y >= 0 && y < S(3u) && xw >= 0 && xw < S(4u)) {
    v = ${ct}(in0[S(2u) + c0 * S(${strideAt}u) + c1 * S(${strideAt + 1}u) + y * S(${strideAt + 2}u) + xw * S(${strideAt + 3}u)]);
  }
  out[S(1u) + i32(i)] = ${store(out.dtype, 'v', ct)};
}`;
    dispatchPerElement(context, 'Im2Col', source, [out, x!], params, size);
  };
}

export function col2imKernel(context: GpuContext) {
  return (out: View, [cols]: readonly View[], attrs: PrimitiveAttrs['Col2Im']): void => {
    const size = sizeOf(out.shape);
    if (size === 0) return;
    const params = new Params();
    const [, , kh, kw, oh, ow] = cols!.shape as number[];
    params.push(size, out.offset, cols!.offset, kh!, kw!, oh!, ow!);
    const shapeAt = params.push(...out.shape);
    const strideAt = params.push(...cols!.strides);
    const g = geometry(params, attrs);
    const ct = computeType([out.dtype]);
    const s = (d: number): string => `S(${strideAt + d}u)`;
    const source = `${header('Col2Im', params.length, out.dtype, [cols!.dtype])}
${PER_ELEMENT_MAIN}
  ${coordinates(4, shapeAt)}
  ${GEOMETRY(g)}
  let base = S(2u) + c0 * ${s(0)} + c1 * ${s(1)};
  var acc = ${ct}(0);
  for (var ki = 0; ki < S(3u); ki++) {
    let ry = c2 + top - ki * dh;
    if (ry < 0 || ry % sh != 0 || ry / sh >= S(5u)) { continue; }
    for (var kj = 0; kj < S(4u); kj++) {
      let rx = c3 + left - kj * dw;
      if (rx < 0 || rx % sw != 0 || rx / sw >= S(6u)) { continue; }
      acc = acc + ${ct}(in0[base + ki * ${s(2)} + kj * ${s(3)} + (ry / sh) * ${s(4)} + (rx / sw) * ${s(5)}]);
    }
  }
  out[S(1u) + i32(i)] = ${store(out.dtype, 'acc', ct)};
}`;
    dispatchPerElement(context, 'Col2Im', source, [out, cols!], params, size);
  };
}

export function windowArgmaxKernel(context: GpuContext) {
  return (out: View, [x]: readonly View[], attrs: PrimitiveAttrs['WindowArgMax']): void => {
    const size = sizeOf(out.shape);
    if (size === 0) return;
    const params = new Params();
    params.push(size, out.offset, x!.offset, x!.shape[2]!, x!.shape[3]!, ...attrs.kernel);
    const shapeAt = params.push(...out.shape);
    const strideAt = params.push(...x!.strides);
    const g = geometry(params, attrs);
    const s = (d: number): string => `S(${strideAt + d}u)`;
    // Taps in kernel order (= plane order): the first maximum wins, and NaN beats any number.
    const source = `${header('WindowArgMax', params.length, out.dtype, [x!.dtype])}
${FLOAT_HELPERS}
${PER_ELEMENT_MAIN}
  ${coordinates(4, shapeAt)}
  ${GEOMETRY(g)}
  let base = S(2u) + c0 * ${s(0)} + c1 * ${s(1)};
  var best = -1;
  var peak = -inf_f();
  for (var ki = 0; ki < S(5u); ki++) {
    let y = c2 * sh - top + ki * dh;
    if (y < 0 || y >= S(3u)) { continue; }
    for (var kj = 0; kj < S(6u); kj++) {
      let xw = c3 * sw - left + kj * dw;
      if (xw < 0 || xw >= S(4u)) { continue; }
      let v = f32(in0[base + y * ${s(2)} + xw * ${s(3)}]);
      if (best < 0 || (!is_nan(peak) && (is_nan(v) || v > peak))) {
        best = y * S(4u) + xw;
        peak = v;
      }
    }
  }
  out[S(1u) + i32(i)] = best;
}`;
    dispatchPerElement(context, 'WindowArgMax', source, [out, x!], params, size);
  };
}
