import type { Backend } from '../backends/backend.js';
import type { DType } from '../core/dtype.js';
import { formatShape, opError } from '../core/errors.js';
import { sizeOf, type Shape } from '../core/shape.js';

/**
 * A device buffer shared by a tensor and its views. It is freed when the last tensor using it is
 * disposed (views count as users); on the CPU, tensors nobody disposes are left to the GC.
 */
export class Storage<Buffer = unknown> {
  private users = 0;
  constructor(
    readonly backend: Backend<Buffer>,
    private current: Buffer | null,
  ) {}

  get buffer(): Buffer | null {
    return this.current;
  }

  retain(): void {
    this.users++;
  }

  release(): void {
    if (--this.users > 0 || this.current === null) return;
    this.backend.free(this.current);
    this.current = null;
  }
}

const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/**
 * A fresh buffer for `size` elements of `dtype`, for `op`'s output of `shape`. Memory the device
 * cannot give is a NablaError naming the op, the shape and the bytes, raised before any work.
 */
export function allocate<Buffer>(
  op: string,
  backend: Backend<Buffer>,
  dtype: DType,
  shape: Shape,
): Buffer {
  const size = sizeOf(shape);
  try {
    return backend.alloc(dtype, size);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const bytes = size * BYTES_PER_ELEMENT[dtype];
    throw opError(
      op,
      `cannot allocate a ${dtype} tensor of shape ${formatShape(shape)} (${bytes.toLocaleString('en-US')} bytes): more than the ${backend.device} device can give (${error.message})`,
    );
  }
}
