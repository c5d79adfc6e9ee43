import type { Backend } from '../backends/backend.js';

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
