/**
 * Recycles large CPU buffers. A fresh page costs a page fault on first touch (1–11 µs per 4 KB on
 * these VMs), which for a 16 MB output is more than the arithmetic. Buffers come back on dispose()
 * at once, and after garbage collection through a FinalizationRegistry (which runs when the event
 * loop turns: JavaScript cannot observe a collection inside one synchronous job without keeping the
 * objects alive). A buffer whose memory was handed to the user (dataSync) is never recycled.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { allocArray } from '../../core/dtype.js';

/** Below this, allocation is cheap and pooling would only add bookkeeping. */
const MIN_POOLED_BYTES = 1 << 16;
/** Free buffers kept per size, so a burst of garbage cannot pin unbounded memory. */
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

interface Entry {
  readonly buffer: ArrayBuffer;
  /** The memory is visible to user code (dataSync), so it must never be reused. */
  shared: boolean;
  freed: boolean;
}

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly entries = new WeakMap<TypedArray, Entry>();
  private readonly registry = new FinalizationRegistry<Entry>((entry) => this.recycle(entry));
  hits = 0;
  misses = 0;

  /** A buffer for `size` elements; its contents are unspecified (kernels overwrite outputs). */
  alloc(dtype: DType, size: number): TypedArray {
    const bytes = size * BYTES[dtype];
    if (bytes < MIN_POOLED_BYTES) return allocArray(dtype, size);
    const reused = this.free.get(bytes)?.pop();
    if (reused) this.hits++;
    else this.misses++;
    const array = viewOf(dtype, reused ?? new ArrayBuffer(bytes), size);
    const entry: Entry = { buffer: array.buffer as ArrayBuffer, shared: false, freed: false };
    this.entries.set(array, entry);
    this.registry.register(array, entry, entry);
    return array;
  }

  /** Marks `array`'s memory as handed out to user code: it will not be recycled. */
  markShared(array: TypedArray): void {
    const entry = this.entries.get(array);
    if (entry) entry.shared = true;
  }

  /** Returns `array`'s memory now (its last tensor was disposed). */
  release(array: TypedArray): void {
    const entry = this.entries.get(array);
    if (!entry) return;
    this.registry.unregister(entry);
    this.recycle(entry);
  }

  private recycle(entry: Entry): void {
    if (entry.shared || entry.freed) return;
    entry.freed = true;
    const list = this.free.get(entry.buffer.byteLength) ?? [];
    if (list.length < MAX_FREE_PER_SIZE) list.push(entry.buffer);
    this.free.set(entry.buffer.byteLength, list);
  }
}
