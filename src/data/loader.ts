import { opError } from '../core/errors.js';
import { RandomGenerator, globalGenerator } from '../engine/random.js';
import { nextTurn } from '../engine/yield.js';
import type { Tensor } from '../tensor/tensor.js';
import { stackSamples, type Dataset } from './dataset.js';

export interface DataLoaderOptions {
  batchSize?: number;
  /** Reshuffle the sample order every epoch. */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize. */
  dropLast?: boolean;
  /** Seed of this loader's own generator (else the global one, seeded by manualSeed). */
  seed?: number;
}

/**
 * Batches of a dataset, in order or reshuffled each epoch. Iterate it with `for...of` (or
 * `for await`); each batch is one stacked tensor per dataset field.
 *
 * @example for (const [x, y] of new nb.data.DataLoader(ds, { batchSize: 64, shuffle: true })) {...}
 */
export class DataLoader implements Iterable<Tensor[]>, AsyncIterable<Tensor[]> {
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly generator: RandomGenerator;

  constructor(
    readonly dataset: Dataset,
    { batchSize = 1, shuffle = false, dropLast = false, seed }: DataLoaderOptions = {},
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw opError('DataLoader', `batchSize must be a positive integer, got ${batchSize}`);
    }
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.generator = seed === undefined ? globalGenerator : new RandomGenerator(seed);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  *[Symbol.iterator](): Iterator<Tensor[]> {
    const n = this.dataset.length;
    const order = this.shuffle
      ? this.generator.permutation(n)
      : Int32Array.from({ length: n }, (_, i) => i);
    for (let start = 0; start < n; start += this.batchSize) {
      const indices = order.subarray(start, Math.min(n, start + this.batchSize));
      if (this.dropLast && indices.length < this.batchSize) return;
      yield this.dataset.getBatch
        ? this.dataset.getBatch(indices)
        : stackSamples(this.dataset, indices);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Tensor[]> {
    for (const batch of this) {
      yield batch;
      // Let the event loop turn between batches (timers, I/O, finalizers returning buffers).
      await nextTurn();
    }
  }
}
