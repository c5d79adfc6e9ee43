/**
 * One shared WebAssembly.Memory that large CPU tensors live in, so WebAssembly kernels (and, being
 * shared, worker threads) work on tensors in place instead of copying them in and out.
 *
 * The allocator: blocks are 64-byte aligned and rounded up to a size class (eight classes per power
 * of two, so at most 12.5% is wasted); freed blocks wait on a free list per class for the next
 * allocation of that class; new blocks come from a bump pointer, growing the memory as needed.
 * Memory that WebAssembly has grown is never returned to the system, so the arena has a budget:
 * past it, alloc() says no and the caller uses ordinary garbage-collected memory instead.
 *
 * A shared memory never detaches its buffer on growth, so typed-array views made before a grow stay
 * valid: a tensor's view is made once, when it is allocated.
 */

const PAGE = 65536;
/** V8's --typed-array-max-size-in-heap default. */
const MAX_ON_HEAP_BYTES = 64;
const ALIGN = 64;
/** WebAssembly's 32-bit address space: 65,536 pages of 64 KiB. */
export const MAX_PAGES = 65536;

/** The size class of a request: the smallest m·2^k ≥ bytes with 8 ≤ m < 16, 64-byte aligned. */
export function sizeClass(bytes: number): number {
  const rounded = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  const shift = Math.max(0, 31 - Math.clz32(rounded) - 3);
  return Math.ceil(rounded / 2 ** shift) * 2 ** shift;
}

export class Arena {
  /** The byte offset where never-used memory starts. */
  private top = ALIGN; // address 0 stays unused, so no block is ever at the null address
  private readonly free = new Map<number, number[]>();
  private readonly buffers = new Set<ArrayBufferLike>();
  private current: ArrayBufferLike;

  private constructor(
    readonly memory: WebAssembly.Memory,
    /** Bytes of memory the arena may grow to. */
    readonly budget: number,
  ) {
    this.current = memory.buffer;
    this.buffers.add(this.current);
  }

  /** A shared arena, or null where this runtime has no shared WebAssembly memory. */
  static create(budget: number, initialBytes = 16 * 2 ** 20): Arena | null {
    if (typeof SharedArrayBuffer === 'undefined' || typeof WebAssembly === 'undefined') return null;
    try {
      const initial = Math.ceil(Math.min(initialBytes, budget) / PAGE);
      const memory = new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true });
      return new Arena(memory, Math.min(budget, MAX_PAGES * PAGE));
    } catch {
      return null; // the system would not reserve the address space
    }
  }

  /** Bytes reserved from the memory so far (live blocks plus free lists). */
  get reservedBytes(): number {
    return this.top;
  }

  /**
   * The byte address of a block of at least `bytes` (its size is sizeClass(bytes)), or null when
   * the budget (or the system) says no. `overBudget`: kernel scratch, which is given back at once.
   */
  alloc(bytes: number, overBudget = false): number | null {
    const size = sizeClass(bytes);
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) return reused;
    const end = this.top + size;
    if (end > this.budget && !overBudget) return null;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow by at least half again, so a growing workload grows the memory a few times only.
      const pages = Math.max(Math.ceil((end - have) / PAGE), Math.ceil(have / PAGE / 2));
      try {
        this.memory.grow(Math.min(pages, MAX_PAGES - have / PAGE));
      } catch {
        return null; // the system refused the memory: the caller falls back to the JS heap
      }
      if (this.memory.buffer.byteLength < end) return null;
    }
    const address = this.top;
    this.top += size;
    return address;
  }

  /** Returns a block from alloc() (with the same `bytes`) to its free list. */
  release(address: number, bytes: number): void {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    if (list) list.push(address);
    else this.free.set(size, [address]);
  }

  /** The memory's current buffer (views made on it stay valid after later growth). */
  get buffer(): ArrayBufferLike {
    const buffer = this.memory.buffer;
    if (buffer !== this.current) this.buffers.add((this.current = buffer));
    return buffer;
  }

  /** Whether `array` is a view into this arena. */
  owns(array: ArrayBufferView): boolean {
    // Arena views are never tiny; V8 keeps tiny typed arrays on its heap, where reading `.buffer`
    // would make an ArrayBuffer for them (slow, on every dispatch of a small op).
    return array.byteLength > MAX_ON_HEAP_BYTES && this.buffers.has(array.buffer);
  }
}
