/**
 * GPU memory for tensors: buffers in size buckets, recycled as tensors are disposed. The engine
 * disposes its temporaries at once; for tensors nobody disposes, a FinalizationRegistry returns the
 * buffer when the garbage collector finds the tensor gone (its callbacks run when the event loop
 * turns, as in a `for await` training loop). Growth of live GPU memory asks for a collection
 * (engine/collect.ts), since the JS heap alone would not prompt one.
 *
 * Reusing a buffer is safe in stream order: a kernel recorded later writes it after the kernels
 * recorded earlier have read it. Host data never goes through the pool's queue writes (see
 * GpuContext.upload), which would run before the recorded kernels.
 */
import type { DType } from '../../core/dtype.js';
import { collectGarbage } from '../../engine/collect.js';
import type { GpuContext } from './context.js';

/** GPUBufferUsage bits (Node has no such globals). */
export const USAGE = {
  MAP_READ: 0x1,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
} as const;

/** A tensor's memory on the GPU. bool elements take 4 bytes (WGSL has no byte arrays). */
export interface GpuBuffer {
  readonly gpu: GPUBuffer;
  readonly dtype: DType;
  /** Elements. */
  readonly size: number;
}

export interface GpuMemoryStats {
  /** Buffers held by tensors, and their bytes. */
  readonly buffers: number;
  readonly bytes: number;
  /** Freed buffers kept for reuse, and their bytes. */
  readonly pooledBuffers: number;
  readonly pooledBytes: number;
}

export const STORAGE_USAGE = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;
/** Freed memory kept for reuse beyond this is given back to the device. */
const MAX_POOLED_BYTES = 1 << 30;
/** Live buffers and bytes that may accumulate before a collection looks for dead tensors. */
const COLLECT_BUFFERS = 2048;
const COLLECT_BYTES = 256 * 2 ** 20;

/** Bucket sizes: 256 bytes, then steps of a quarter of a power of two (≤ 25% unused). */
export function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const quarter = 2 ** (Math.ceil(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / quarter) * quarter;
}

export class GpuPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private live = { buffers: 0, bytes: 0 };
  private pooled = { buffers: 0, bytes: 0 };
  private readonly collected = new FinalizationRegistry<GPUBuffer>((gpu) => {
    this.recycle(gpu);
    // Next collection once live memory has doubled from what survived this one.
    this.collectAt = {
      buffers: Math.max(COLLECT_BUFFERS, 2 * this.live.buffers),
      bytes: Math.max(COLLECT_BYTES, 2 * this.live.bytes),
    };
  });
  private collectAt = { buffers: COLLECT_BUFFERS, bytes: COLLECT_BYTES };

  constructor(private readonly context: GpuContext) {}

  alloc(dtype: DType, size: number): GpuBuffer {
    const bytes = bucketBytes(size * 4);
    let gpu = this.free.get(bytes)?.pop();
    if (gpu) {
      this.pooled.buffers--;
      this.pooled.bytes -= bytes;
    } else gpu = this.context.createBuffer(bytes, STORAGE_USAGE);
    return this.track({ gpu, dtype, size });
  }

  /** A handle on a buffer made elsewhere (an upload), counted and recycled like the rest. */
  adopt(gpu: GPUBuffer, dtype: DType, size: number): GpuBuffer {
    return this.track({ gpu, dtype, size });
  }

  release(buffer: GpuBuffer): void {
    this.collected.unregister(buffer);
    this.recycle(buffer.gpu);
  }

  stats(): GpuMemoryStats {
    return {
      buffers: this.live.buffers,
      bytes: this.live.bytes,
      pooledBuffers: this.pooled.buffers,
      pooledBytes: this.pooled.bytes,
    };
  }

  private track(buffer: GpuBuffer): GpuBuffer {
    this.live.buffers++;
    this.live.bytes += buffer.gpu.size;
    // Tensors nobody disposed hold GPU memory the JS heap does not show: look for dead ones.
    if (this.live.buffers > this.collectAt.buffers || this.live.bytes > this.collectAt.bytes) {
      this.collectAt = { buffers: 2 * this.live.buffers, bytes: 2 * this.live.bytes };
      collectGarbage();
    }
    this.collected.register(buffer, buffer.gpu, buffer);
    return buffer;
  }

  private recycle(gpu: GPUBuffer): void {
    this.live.buffers--;
    this.live.bytes -= gpu.size;
    const bytes = gpu.size;
    if (bytes !== bucketBytes(bytes) || this.pooled.bytes + bytes > MAX_POOLED_BYTES) {
      this.context.destroy(gpu);
      return;
    }
    let list = this.free.get(bytes);
    if (!list) this.free.set(bytes, (list = []));
    list.push(gpu);
    this.pooled.buffers++;
    this.pooled.bytes += bytes;
  }
}
