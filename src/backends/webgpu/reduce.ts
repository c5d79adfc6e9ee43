/**
 * Reductions over any set of dimensions: one workgroup per output element. Its threads stride
 * through the reduced block, then combine their partial results in a tree in workgroup memory.
 * Max/min propagate NaN and ArgMax/ArgMin return the first extreme index (NaN counting as the
 * extreme), as on the CPU; sums accumulate in float32, in tree order.
 */
import { sizeOf } from '../../core/shape.js';
import type { ReduceAttrs, ReduceName } from '../primitives.js';
import type { GpuContext } from './context.js';
import {
  collapse,
  computeType,
  FLOAT_HELPERS,
  FLAT_WORKGROUP,
  grid,
  header,
  offsetsFrom,
  Params,
  SourceCache,
  store,
  type ComputeType,
  type View,
} from './wgsl.js';

/** Threads per output: many for long reductions, few for short ones (softmax over 10 classes). */
const workgroupSize = (reduced: number): number => (reduced >= 4096 ? 256 : 64);

/** How partial results start and combine: `better(v, i, best, bestIndex)` for the arg forms. */
function combineCode(name: ReduceName, ct: ComputeType): { init: string; combine: string } {
  const lowest = ct === 'f32' ? '-inf_f()' : 'i32(-2147483647 - 1)';
  const highest = ct === 'f32' ? 'inf_f()' : 'i32(2147483647)';
  const nan = (x: string): string => (ct === 'f32' ? `is_nan(${x})` : 'false');
  switch (name) {
    case 'Sum':
      return { init: `${ct}(0)`, combine: 'acc = acc + v;' };
    case 'Max':
      return { init: lowest, combine: `acc = ${ct === 'f32' ? 'max_f' : 'max'}(acc, v);` };
    case 'Min':
      return { init: highest, combine: `acc = ${ct === 'f32' ? 'min_f' : 'min'}(acc, v);` };
    case 'ArgMax':
    case 'ArgMin': {
      const beats = name === 'ArgMax' ? '>' : '<';
      // v at index j replaces acc at index best: NaN first, then the extreme, then the lower index.
      return {
        init: name === 'ArgMax' ? lowest : highest,
        combine: `if ((${nan('v')} && (!${nan('acc')} || j < best)) || (!${nan('acc')} && !${nan('v')} && (v ${beats} acc || (v == acc && j < best)))) { acc = v; best = j; }`,
      };
    }
  }
}

export function reduceKernel(context: GpuContext, name: ReduceName) {
  const sources = new SourceCache();
  return (out: View, [x]: readonly View[], { dims }: ReduceAttrs): void => {
    const outputs = sizeOf(out.shape);
    if (outputs === 0) return;
    const reducedSet = new Set(dims);
    const pick = (inReduced: boolean): { shape: number[]; strides: number[] } => {
      const dimsHere = x!.shape.map((_, d) => d).filter((d) => reducedSet.has(d) === inReduced);
      const merged = collapse(
        dimsHere.map((d) => x!.shape[d]!),
        [dimsHere.map((d) => x!.strides[d]!)],
      );
      return { shape: merged.shape, strides: merged.strides[0]! };
    };
    const kept = pick(false);
    const reduced = pick(true);
    const count = sizeOf(reduced.shape);
    const params = new Params();
    params.push(outputs, count, x!.offset, out.offset);
    const keptShapeAt = params.push(...kept.shape);
    const keptStrideAt = params.push(...kept.strides);
    const redShapeAt = params.push(...reduced.shape);
    const redStrideAt = params.push(...reduced.strides);
    const ct = computeType([x!.dtype]);
    const arg = name === 'ArgMax' || name === 'ArgMin';
    const size = workgroupSize(count);
    const { init, combine } = combineCode(name, ct);
    const key = `${kept.shape.length} ${reduced.shape.length} ${x!.dtype} ${out.dtype} ${size}`;
    const source = sources.get(
      key,
      () => `${header(name, params.length, out.dtype, [x!.dtype])}
${FLOAT_HELPERS}
var<workgroup> accs: array<${ct}, ${size}>;
var<workgroup> bests: array<u32, ${size}>;
@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) lid: u32) {
  let index = ${FLAT_WORKGROUP};
  if (index >= P(0u)) { return; }
  var base = S(2u);
  {
    ${offsetsFrom('index', kept.shape.length, keptShapeAt, [{ name: 'base', strideAt: keptStrideAt }])}
  }
  var acc = ${init};
  var best = 0xffffffffu;
  for (var j = lid; j < P(1u); j += ${size}u) {
    var at = base;
    ${offsetsFrom('j', reduced.shape.length, redShapeAt, [{ name: 'at', strideAt: redStrideAt }])}
    let v = ${ct}(in0[at]);
    ${combine}
  }
  accs[lid] = acc;
  bests[lid] = best;
  for (var half = ${size / 2}u; half > 0u; half >>= 1u) {
    workgroupBarrier();
    if (lid < half) {
      let v = accs[lid + half];
      let j = bests[lid + half];
      acc = accs[lid];
      best = bests[lid];
      ${combine}
      accs[lid] = acc;
      bests[lid] = best;
    }
  }
  if (lid == 0u) { out[S(3u) + i32(index)] = ${arg ? store(out.dtype, 'i32(bests[0])', 'i32') : store(out.dtype, 'accs[0]', ct)}; }
}`,
    );
    context.dispatch({
      op: name,
      source,
      buffers: [out.buffer.gpu, x!.buffer.gpu],
      params: params.toArray(),
      workgroups: grid(outputs),
    });
  };
}
