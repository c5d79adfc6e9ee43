/**
 * Kernels that move elements by position: gather, scatter-add, concatenation, the slice adjoint,
 * and fills. Concatenation and Unslice are strided copies into windows of the output (the
 * elementwise generator's copy); scatter-add is computed per output element, summing the matching
 * source elements in index order, so it needs no atomics and gives the CPU's floats.
 */
import type { DType } from '../../core/dtype.js';
import { sizeOf } from '../../core/shape.js';
import type { PrimitiveAttrs } from '../primitives.js';
import type { GpuContext } from './context.js';
import { elementwiseKernel } from './elementwise.js';
import {
  computeType,
  coordinates,
  dispatchPerElement,
  header,
  Params,
  PER_ELEMENT_MAIN,
  storageType,
  store,
  storedWord,
  type View,
} from './wgsl.js';

/** Sets every element of the contiguous `out` to `value`. */
export function fill(context: GpuContext, out: View, value: number): void {
  const size = sizeOf(out.shape);
  if (size === 0) return;
  const type = storageType('fill', out.dtype);
  const params = new Params();
  params.push(size, out.offset, storedWord('fill', out.dtype, value));
  dispatchPerElement(
    context,
    'fill',
    `${header('fill', params.length, out.dtype, [])}
${PER_ELEMENT_MAIN}
  out[S(1u) + i32(i)] = bitcast<${type}>(P(2u));
}`,
    [out],
    params,
    size,
  );
}

/** Σ c_d · stride_d over the dimensions other than `skip` (strides at params[strideAt..]). */
function dot(rank: number, strideAt: number, skip: number): string {
  const terms = ['0'];
  for (let d = 0; d < rank; d++) if (d !== skip) terms.push(`i32(c${d}) * S(${strideAt + d}u)`);
  return terms.join(' + ');
}

export function gatherKernel(context: GpuContext) {
  return (out: View, [x, index]: readonly View[], { dim }: PrimitiveAttrs['Gather']): void => {
    const size = sizeOf(out.shape);
    if (size === 0) return;
    const rank = index!.shape.length;
    const params = new Params();
    params.push(size, out.offset, index!.offset, x!.offset, x!.shape[dim]!);
    const shapeAt = params.push(...index!.shape);
    const indexStrideAt = params.push(...index!.strides);
    const xStrideAt = params.push(...x!.strides);
    const ct = computeType([out.dtype]);
    const source = `${header('gather', params.length, out.dtype, [x!.dtype, index!.dtype])}
${PER_ELEMENT_MAIN}
  ${coordinates(rank, shapeAt)}
  let k = in1[S(2u) + ${dot(rank, indexStrideAt, -1)}];
  var v = ${ct}(0);
  // An index out of range reads 0 (the CPU raises; a GPU kernel cannot).
  if (k >= 0 && u32(k) < P(4u)) { v = ${ct}(in0[S(3u) + ${dot(rank, xStrideAt, dim)} + k * S(${xStrideAt + dim}u)]); }
  out[S(1u) + i32(i)] = ${store(out.dtype, 'v', ct)};
}`;
    dispatchPerElement(context, 'gather', source, [out, x!, index!], params, size);
  };
}

export function scatterAddKernel(context: GpuContext) {
  return (
    out: View,
    [index, src]: readonly View[],
    { dim }: PrimitiveAttrs['ScatterAdd'],
  ): void => {
    const size = sizeOf(out.shape);
    if (size === 0) return;
    const rank = out.shape.length;
    const params = new Params();
    params.push(size, out.offset, index!.offset, src!.offset, index!.shape[dim]!);
    const shapeAt = params.push(...out.shape);
    const indexShapeAt = params.push(...index!.shape);
    const indexStrideAt = params.push(...index!.strides);
    const srcStrideAt = params.push(...src!.strides);
    const ct = computeType([out.dtype]);
    const outside = Array.from({ length: rank }, (_, d) => d)
      .filter((d) => d !== dim)
      .map((d) => `c${d} >= S(${indexShapeAt + d}u)`);
    const source = `${header('scatterAdd', params.length, out.dtype, [index!.dtype, src!.dtype])}
${PER_ELEMENT_MAIN}
  ${coordinates(rank, shapeAt)}
  var acc = ${ct}(0);
  if (!(${outside.join(' || ') || 'false'})) {
    let ib = S(2u) + ${dot(rank, indexStrideAt, dim)};
    let sb = S(3u) + ${dot(rank, srcStrideAt, dim)};
    for (var k = 0; k < i32(P(4u)); k++) {
      if (in0[ib + k * S(${indexStrideAt + dim}u)] == c${dim}) {
        acc = acc + ${ct}(in1[sb + k * S(${srcStrideAt + dim}u)]);
      }
    }
  }
  out[S(1u) + i32(i)] = ${store(out.dtype, 'acc', ct)};
}`;
    dispatchPerElement(context, 'scatterAdd', source, [out, index!, src!], params, size);
  };
}

/** A window of `out`: `shape` at `offset`, with `strides`. */
function window(
  out: View,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): View {
  return { buffer: out.buffer, dtype: out.dtype, shape, strides, offset };
}

export function catKernel(context: GpuContext) {
  const copy = elementwiseKernel(context, 'cat', { op: 'Identity', args: [{ input: 0 }] });
  return (out: View, inputs: readonly View[], { dim }: PrimitiveAttrs['Cat']): void => {
    let start = 0;
    for (const input of inputs) {
      const offset = out.offset + start * out.strides[dim]!;
      copy(window(out, input.shape, out.strides, offset), [input]);
      start += input.shape[dim]!;
    }
  };
}

export function unsliceKernel(context: GpuContext) {
  const copy = elementwiseKernel(context, 'unslice', { op: 'Identity', args: [{ input: 0 }] });
  return (out: View, [x]: readonly View[], attrs: PrimitiveAttrs['Unslice']): void => {
    const { dim, start, step } = attrs;
    fill(context, out, 0);
    const strides = out.strides.map((s, d) => (d === dim ? s * step : s));
    copy(window(out, x!.shape, strides, out.offset + start * out.strides[dim]!), [x!]);
  };
}

/** Numel: the element count along `dims`, written as a 0-d tensor of `dtype`. */
export function numelKernel(context: GpuContext) {
  return (out: View, [x]: readonly View[], { dims }: { dims: readonly number[]; dtype: DType }) =>
    fill(
      context,
      out,
      dims.reduce((n, d) => n * x!.shape[d]!, 1),
    );
}
