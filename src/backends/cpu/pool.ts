/**
 * Recycles large CPU buffers given back by dispose(). A fresh page costs a page fault on first touch
 * (1–11 µs per 4 KB on these VMs), which for a 16 MB output is more than the arithmetic.
 *
 * Only explicit frees feed the pool. Buffers nobody disposes are left to the garbage collector, which
 * frees CPU memory by itself; recycling them through a FinalizationRegistry would have to hold each
 * buffer strongly until its cleanup callback runs, and those callbacks never run inside a
 * synchronous training loop, so every buffer would stay pinned (a leak we measured: an 8,000-sample
 * MNIST run grew until it was killed).
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { allocArray } from '../../core/dtype.js';

/** Below this, allocation is cheap and pooling would only add bookkeeping. */
const MIN_POOLED_BYTES = 1 << 16;
/** Free buffers kept per size, so a burst of disposals cannot pin unbounded memory. */
const MAX_FREE_PER_SIZE = 4;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

function viewOf(dtype: DType, buffer: ArrayBuffer, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, size);
    case 'float64':
      return new Float64Array(buffer, 0, size);
    case 'int32':
      return new Int32Array(buffer, 0, size);
    case 'bool':
      return new Uint8Array(buffer, 0, size);
  }
}

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Buffers this pool handed out whose memory is still private to nabla. */
  private readonly owned = new WeakSet<TypedArray>();

  /** A buffer for `size` elements; its contents are unspecified (kernels overwrite outputs). */
  alloc(dtype: DType, size: number): TypedArray {
    const bytes = size * BYTES[dtype];
    if (bytes < MIN_POOLED_BYTES) return allocArray(dtype, size);
    const array = viewOf(dtype, this.free.get(bytes)?.pop() ?? new ArrayBuffer(bytes), size);
    this.owned.add(array);
    return array;
  }

  /** Marks `array`'s memory as handed out to user code (dataSync): it will never be recycled. */
  markShared(array: TypedArray): void {
    this.owned.delete(array);
  }

  /** Takes `array`'s memory back (its last tensor was disposed). */
  release(array: TypedArray): void {
    if (!this.owned.delete(array)) return;
    const bytes = array.byteLength;
    const list = this.free.get(bytes) ?? [];
    if (list.length < MAX_FREE_PER_SIZE) list.push(array.buffer as ArrayBuffer);
    this.free.set(bytes, list);
  }
}
