/**
 * Where large CPU buffers come from, and where they go back.
 *
 * Large buffers live in the WebAssembly arena when there is one (so SIMD kernels and worker threads
 * use them in place), else in recycled ArrayBuffers; small ones are plain typed arrays that the
 * garbage collector frees (cheap to make, and too small for SIMD kernels to matter).
 *
 * A block goes back on dispose() of its last tensor — by the user, or by the engine for what it
 * owns and what nobody else can see — or, for tensors nobody disposed, through a
 * FinalizationRegistry once the garbage collector has found the tensor unreachable. Those callbacks
 * run only when the event loop turns, so a synchronous loop that never disposes fills the arena up
 * to its budget; from then on new buffers come from the garbage-collected heap (and plain-TS
 * kernels), and nothing leaks.
 *
 * JS-heap buffers are recycled only on dispose(): a FinalizationRegistry would have to hold each
 * one strongly until its callback runs, pinning all of them in a synchronous loop (measured: an
 * MNIST run grew until it was killed). Arena blocks have no such problem: the registry holds two
 * numbers.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { allocArray } from '../../core/dtype.js';
import { collectGarbage } from '../../engine/collect.js';
import { Arena } from '../wasm/arena.js';

/** Below this, allocation is cheap and pooling would only add bookkeeping. */
const MIN_POOLED_BYTES = 1 << 14;
/** Free JS-heap buffers kept per size, so a burst of disposals cannot pin unbounded memory. */
const MAX_FREE_PER_SIZE = 4;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

function viewOf(
  dtype: DType,
  buffer: ArrayBufferLike,
  byteOffset: number,
  size: number,
): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, size);
    case 'float64':
      return new Float64Array(buffer, byteOffset, size);
    case 'int32':
      return new Int32Array(buffer, byteOffset, size);
    case 'bool':
      return new Uint8Array(buffer, byteOffset, size);
  }
}

/** An arena block and the number of live JS views that reach it. */
interface Block {
  readonly address: number;
  readonly bytes: number;
  views: number;
  /** Handed to user code by dataSync(): only the garbage collector may free it now. */
  shared: boolean;
}

export interface PoolStats {
  /** Bytes of the arena in use or on its free lists (0 without an arena). */
  readonly arenaBytes: number;
  /** The arena's budget in bytes (0 without an arena). */
  readonly arenaBudget: number;
}

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Recycled JS-heap buffers this pool handed out whose memory is still private to nabla. */
  private readonly owned = new WeakSet<TypedArray>();
  private readonly blocks = new WeakMap<TypedArray, Block>();
  private readonly registry: FinalizationRegistry<Block>;

  /**
   * Arena bytes held by live blocks, and how much that grew since the last forced collection
   * (allocations less releases, never below zero).
   */
  private liveBytes = 0;
  private grownSinceCollection = 0;

  constructor(
    readonly arena: Arena | null,
    /** A full garbage collection (tests count the calls). */
    private readonly collect: () => void = collectGarbage,
  ) {
    this.registry = new FinalizationRegistry((block) => {
      if (--block.views === 0) this.releaseBlock(block);
    });
  }

  private releaseBlock(block: Block): void {
    this.liveBytes -= block.bytes;
    this.grownSinceCollection = Math.max(0, this.grownSinceCollection - block.bytes);
    this.arena!.release(block.address, block.bytes);
  }

  /**
   * Tensors nobody disposed hold arena memory behind small JS objects, so V8 — which collects by JS
   * heap growth — may not look for dead ones before the arena is full, and from then on tensors
   * land in the JS heap, out of reach of the SIMD kernels (W7 ran ~30% of its allocations there).
   * Past half the budget, a full collection is forced each time the live blocks have grown by a
   * quarter budget since the last one; the blocks it finds come back when the event loop next
   * turns. Growth, not allocation: a loop that disposes what it makes needs no collection, however
   * much of the arena its data holds (a 188 MB dataset and 200 KB batches spent 20% of the time in
   * forced collections, one per 64 MB allocated).
   */
  private collectIfFull(bytes: number): void {
    this.liveBytes += bytes;
    this.grownSinceCollection += bytes;
    const budget = this.arena!.budget;
    if (this.liveBytes > budget / 2 && this.grownSinceCollection > budget / 4) {
      this.grownSinceCollection = 0;
      this.collect();
    }
  }

  /** A buffer for `size` elements; its contents are unspecified (kernels overwrite outputs). */
  alloc(dtype: DType, size: number): TypedArray {
    const bytes = size * BYTES[dtype];
    if (bytes < MIN_POOLED_BYTES) return allocArray(dtype, size);
    const address = this.arena?.alloc(bytes) ?? null;
    if (address !== null) {
      this.collectIfFull(bytes);
      const array = viewOf(dtype, this.arena!.buffer, address, size);
      const block: Block = { address, bytes, views: 1, shared: false };
      this.blocks.set(array, block);
      this.registry.register(array, block, array);
      return array;
    }
    const recycled = this.free.get(bytes)?.pop() ?? new ArrayBuffer(bytes);
    const array = viewOf(dtype, recycled, 0, size);
    this.owned.add(array);
    return array;
  }

  /**
   * Elements [offset, offset + size) of `array` as a view for user code (dataSync): the memory stays
   * valid while the user holds the view, so it is never recycled on dispose.
   */
  share(array: TypedArray, offset: number, size: number): TypedArray {
    const view =
      offset === 0 && size === array.length ? array : array.subarray(offset, offset + size);
    this.owned.delete(array);
    const block = this.blocks.get(array);
    if (block) {
      block.shared = true;
      if (view !== array) {
        block.views++;
        this.registry.register(view, block);
      }
    }
    return view;
  }

  /** Takes `array`'s memory back (its last tensor was disposed). */
  release(array: TypedArray): void {
    if (array.byteLength < MIN_POOLED_BYTES) return; // the garbage collector's
    const block = this.blocks.get(array);
    if (block) {
      if (block.shared) return;
      this.registry.unregister(array);
      this.blocks.delete(array);
      this.releaseBlock(block);
      return;
    }
    if (!this.owned.delete(array)) return;
    const bytes = array.byteLength;
    const list = this.free.get(bytes) ?? [];
    if (list.length < MAX_FREE_PER_SIZE) list.push(array.buffer as ArrayBuffer);
    this.free.set(bytes, list);
  }

  stats(): PoolStats {
    return { arenaBytes: this.arena?.reservedBytes ?? 0, arenaBudget: this.arena?.budget ?? 0 };
  }
}
