/** Datasets: indexable collections of samples, each sample a list of tensors. */
import { formatShape, opError } from '../core/errors.js';
import { RandomGenerator, globalGenerator } from '../engine/random.js';
import * as ops from '../ops/index.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Dataset {
  readonly length: number;
  /** Sample i, as one tensor per field (e.g. [x, y]). */
  get(index: number): Tensor[];
  /** Samples at `indices`, stacked into batches (datasets backed by tensors do this in one gather). */
  getBatch?(indices: Int32Array): Tensor[];
}

/** Samples are the rows of the given tensors, which must agree on their first dimension. */
export class TensorDataset implements Dataset {
  readonly tensors: Tensor[];
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw opError('TensorDataset', 'needs at least one tensor');
    const n = tensors[0]!.shape[0];
    if (tensors.some((t) => t.ndim === 0 || t.shape[0] !== n)) {
      throw opError(
        'TensorDataset',
        `tensors must have the same first dimension, got ${tensors.map((t) => formatShape(t.shape)).join(', ')}`,
      );
    }
    this.tensors = tensors;
  }
  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }
  get(index: number): Tensor[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw opError('TensorDataset', `index ${index} is out of range for ${this.length} samples`);
    }
    return this.tensors.map((t) => ops.squeeze(ops.narrow(t, 0, index, 1), 0));
  }
  /**
   * The samples at `indices`, stacked. Consecutive ascending indices (an unshuffled loader's
   * batches) are one block of each tensor: copied in one piece instead of gathered row by row.
   */
  getBatch(indices: Int32Array): Tensor[] {
    const first = indices[0] ?? 0;
    if (
      indices.every((v, i) => v === first + i) &&
      first >= 0 &&
      first + indices.length <= this.length
    )
      return this.tensors.map((t) => ops.contiguous(ops.narrow(t, 0, first, indices.length)));
    const index = tensor(indices, { dtype: 'int32', device: this.tensors[0]!.device });
    return this.tensors.map((t) => ops.indexSelect(t, 0, index));
  }
}

/** The samples of `dataset` at `indices`. */
export class Subset implements Dataset {
  constructor(
    readonly dataset: Dataset,
    readonly indices: Int32Array,
  ) {}
  get length(): number {
    return this.indices.length;
  }
  get(index: number): Tensor[] {
    return this.dataset.get(this.indices[index]!);
  }
  getBatch(indices: Int32Array): Tensor[] {
    const mapped = indices.map((i) => this.indices[i]!);
    return this.dataset.getBatch
      ? this.dataset.getBatch(mapped)
      : stackSamples(this.dataset, mapped);
  }
}

export function stackSamples(dataset: Dataset, indices: Int32Array): Tensor[] {
  const samples = Array.from(indices, (i) => dataset.get(i));
  return samples[0]!.map((_, field) => ops.stack(samples.map((s) => s[field]!)));
}

/**
 * Splits a dataset into random non-overlapping subsets of the given lengths (which must add up to
 * its length), reproducibly for a given seed (else from the global generator).
 *
 * @example const [train, test] = nb.data.randomSplit(ds, [8000, 2000], 0);
 */
export function randomSplit(dataset: Dataset, lengths: readonly number[], seed?: number): Subset[] {
  const total = lengths.reduce((a, b) => a + b, 0);
  if (total !== dataset.length) {
    throw opError(
      'randomSplit',
      `lengths add up to ${total}, the dataset has ${dataset.length} samples`,
    );
  }
  const order = (seed === undefined ? globalGenerator : new RandomGenerator(seed)).permutation(
    total,
  );
  let start = 0;
  return lengths.map((n) => {
    const part = order.slice(start, start + n);
    start += n;
    return new Subset(dataset, part);
  });
}
