import type { Backend } from '../backends/backend.js';
import type { DType } from '../core/dtype.js';
import { formatShape, opError, type NablaError } from '../core/errors.js';
import { optionalNodeModule } from './node.js';
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

/** Allocations from this size are checked against the memory the system has free. */
const CHECKED_BYTES = 2 ** 30;
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
  const bytes = size * BYTES_PER_ELEMENT[dtype];
  const refuse = (why: string): NablaError =>
    opError(
      op,
      `cannot allocate a ${dtype} tensor of shape ${formatShape(shape)} (${bytes.toLocaleString('en-US')} bytes): ${why}`,
    );
  if (backend.dtypes && !backend.dtypes.includes(dtype))
    throw opError(
      op,
      `the ${backend.device} device has no ${dtype} tensors (it stores ${backend.dtypes.join(', ')}); run this on 'cpu'`,
    );
  // The system may promise more than it has and kill the process later, with no message.
  const free = bytes >= CHECKED_BYTES ? optionalNodeModule('node:os')?.freemem() : undefined;
  if (free !== undefined && backend.device === 'cpu' && bytes > free)
    throw refuse(`the system has ${free.toLocaleString('en-US')} bytes free`);
  try {
    return backend.alloc(dtype, size);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw refuse(`more than the ${backend.device} device can give (${error.message})`);
  }
}
