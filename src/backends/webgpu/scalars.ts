/**
 * 0-d CPU operands of GPU kernels (an optimizer's step count and learning rate, the scalars of
 * `t.mul(2)`) as small read-only GPU buffers, kept by value: a training step repeats most of its
 * constants, so each is uploaded once, not once per kernel. The device never writes them, and one
 * evicted from the cache is destroyed only after the work recorded so far is submitted.
 */
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import type { ArrayView } from '../primitives.js';
import type { GpuContext } from './context.js';
import { STORAGE_USAGE, type GpuBuffer } from './pool.js';
import type { View } from './wgsl.js';

/** Distinct values kept; step-dependent ones (bias corrections) come and go. */
const MAX_SCALARS = 256;

export class HostScalars {
  private readonly buffers = new Map<string, GpuBuffer>();

  constructor(private readonly context: GpuContext) {}

  /** `x` (a 0-d view of a host array) as a GPU view of its value, in 32 bits. */
  view(x: ArrayView<unknown>): View {
    const dtype: DType = x.dtype === 'float64' ? 'float32' : x.dtype;
    const host = allocArray(dtype, 1);
    host[0] = (x.buffer as TypedArray)[x.offset]!;
    // bool is stored in 32 bits on the GPU (WGSL has no byte arrays).
    const word = host instanceof Uint8Array ? Uint32Array.from(host) : host;
    const key = `${dtype}:${new Uint32Array(word.buffer, word.byteOffset, 1)[0]!}`;
    let buffer = this.buffers.get(key);
    if (buffer) {
      this.buffers.delete(key); // most recently used last
    } else {
      buffer = { gpu: this.context.upload(word, STORAGE_USAGE), dtype, size: 1 };
      if (this.buffers.size >= MAX_SCALARS) {
        const [oldest, old] = this.buffers.entries().next().value!;
        this.buffers.delete(oldest);
        this.context.destroy(old.gpu);
      }
    }
    this.buffers.set(key, buffer);
    return { buffer, dtype, shape: [], strides: [], offset: 0 };
  }
}
