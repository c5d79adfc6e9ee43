/**
 * 0-d CPU operands of GPU kernels (an optimizer's step count and learning rate, the scalars of
 * `t.mul(2)`) as small read-only GPU buffers, kept by value: a training step repeats most of its
 * constants, so each is uploaded once, not once per kernel. A value that changes every step (Adam's
 * bias corrections) takes over the buffer of the value used least recently, written in place, so
 * a training loop soon binds buffers it has bound before: no new buffer (80 µs to create on an
 * H200) and no new bind group a step.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import type { ArrayView } from '../primitives.js';
import type { GpuContext } from './context.js';
import { STORAGE_USAGE, type GpuBuffer } from './pool.js';
import { storedWord, type View } from './wgsl.js';

/**
 * Distinct values kept. A training step's constants fit many times over; a value that changes each
 * step cycles through the rest, and a loop makes no new bind group once it has cycled once.
 */
export const SCALARS_KEPT = 64;

interface Scalar {
  readonly buffer: GpuBuffer;
  /** The context's submit count when a kernel last read it: work not yet submitted if current. */
  readAt: number;
}

export class HostScalars {
  private readonly scalars = new Map<string, Scalar>();

  constructor(private readonly context: GpuContext) {}

  /** `x` (a 0-d view of a host array) as a GPU view of its value, in 32 bits. */
  view(x: ArrayView<unknown>): View {
    const dtype: DType = x.dtype === 'float64' ? 'float32' : x.dtype;
    const bits = Uint32Array.of(storedWord('scalar', dtype, (x.buffer as TypedArray)[x.offset]!));
    const key = `${dtype}:${bits[0]!}`;
    let scalar = this.scalars.get(key);
    if (scalar) {
      this.scalars.delete(key); // most recently used last
    } else if (this.scalars.size < SCALARS_KEPT) {
      scalar = {
        buffer: { gpu: this.context.upload(bits, STORAGE_USAGE), dtype, size: 1 },
        readAt: -1,
      };
    } else {
      const [oldest, old] = this.scalars.entries().next().value!;
      this.scalars.delete(oldest);
      // A queue write lands before the work recorded but not yet submitted: that goes first if it
      // reads the old value. Work submitted earlier reads it before the write, in queue order.
      if (old.readAt === this.context.submits) this.context.submit();
      this.context.device.queue.writeBuffer(old.buffer.gpu, 0, bits);
      scalar = { buffer: { gpu: old.buffer.gpu, dtype, size: 1 }, readAt: -1 };
    }
    scalar.readAt = this.context.submits;
    this.scalars.set(key, scalar);
    const { buffer } = scalar;
    return { buffer, dtype, shape: [], strides: [], offset: 0 };
  }
}
