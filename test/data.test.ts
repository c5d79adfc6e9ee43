/** Datasets, DataLoader, splits, the bundled datasets and the IDX reader. */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import { fashionFixture, idx, tempDir } from './helpers/files.js';

const ds = (): nb.data.TensorDataset =>
  new nb.data.TensorDataset(
    nb.arange(10, undefined, 1, { dtype: 'float32' }).reshape([10, 1]),
    nb.arange(10),
  );

describe('DataLoader', () => {
  test('batches in order, with a short last batch unless dropLast', () => {
    const sizes = [...new nb.data.DataLoader(ds(), { batchSize: 4 })].map(([x]) => x!.shape[0]);
    assert.deepEqual(sizes, [4, 4, 2]);
    assert.equal(new nb.data.DataLoader(ds(), { batchSize: 4, dropLast: true }).length, 2);
    const [x, y] = [...new nb.data.DataLoader(ds(), { batchSize: 3 })][0]!;
    assert.deepEqual(x!.toArray(), [[0], [1], [2]]);
    assert.deepEqual(y!.toArray(), [0, 1, 2]);
  });

  test('seeded shuffling is reproducible, differs per epoch, and covers every sample once', () => {
    const epoch = (loader: nb.data.DataLoader): number[] =>
      [...loader].flatMap(([, y]) => y!.toArray() as number[]);
    const a = new nb.data.DataLoader(ds(), { batchSize: 3, shuffle: true, seed: 7 });
    const b = new nb.data.DataLoader(ds(), { batchSize: 3, shuffle: true, seed: 7 });
    const [first, second] = [epoch(a), epoch(a)];
    assert.deepEqual(first, epoch(b));
    assert.notDeepEqual(first, second);
    assert.deepEqual(
      [...first].sort((p, q) => p - q),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  test('async iteration yields the same batches', async () => {
    const seen: number[] = [];
    for await (const [, y] of new nb.data.DataLoader(ds(), { batchSize: 4 }))
      seen.push(...(y!.toArray() as number[]));
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('generic datasets are stacked sample by sample', () => {
    const squares: nb.data.Dataset = { length: 3, get: (i) => [nb.tensor([i, i * i])] };
    const [batch] = [...new nb.data.DataLoader(squares, { batchSize: 3 })][0]!;
    assert.deepEqual(batch!.toArray(), [
      [0, 0],
      [1, 1],
      [2, 4],
    ]);
  });

  test('bad arguments', () => {
    assert.throws(
      () => new nb.data.DataLoader(ds(), { batchSize: 0 }),
      /batchSize must be a positive integer/,
    );
    assert.throws(
      () => new nb.data.TensorDataset(nb.ones([3, 1]), nb.ones([4])),
      /same first dimension/,
    );
    assert.throws(() => ds().get(10), /index 10 is out of range for 10 samples/);
  });
});

describe('TensorDataset.getBatch', () => {
  test('consecutive indices are copied as one block: the same values, memory of their own', () => {
    const x = nb.arange(0, 30, 1, { dtype: 'float32' }).reshape([10, 3]);
    const data = new nb.data.TensorDataset(x, nb.arange(10));
    const rows = (from: number, n: number) => Int32Array.from({ length: n }, (_, i) => from + i);
    const [bx, by] = data.getBatch(rows(4, 3));
    assert.deepEqual(bx!.toArray(), [
      [12, 13, 14],
      [15, 16, 17],
      [18, 19, 20],
    ]);
    assert.deepEqual(by!.toArray(), [4, 5, 6]);
    bx!.dataSync()[0] = -1;
    assert.equal(x.dataSync()[12], 12, 'the batch is a copy');
    assert.deepEqual(data.getBatch(Int32Array.from([4, 6]))[1]!.toArray(), [4, 6]);
    assert.deepEqual(data.getBatch(new Int32Array(0))[0]!.shape, [0, 3]);
    assert.throws(() => data.getBatch(rows(8, 3)), /index 10 is out of range/);
    const transposed = new nb.data.TensorDataset(x.T.contiguous().T, nb.arange(10));
    assert.deepEqual(transposed.getBatch(rows(1, 2))[0]!.toArray(), [
      [3, 4, 5],
      [6, 7, 8],
    ]);
  });
});

describe('randomSplit', () => {
  test('splits into disjoint subsets reproducibly', () => {
    const [a, b] = nb.data.randomSplit(ds(), [7, 3], 1);
    const ids = (s: nb.data.Subset): number[] => Array.from(s.indices);
    assert.deepEqual(
      [...ids(a!), ...ids(b!)].sort((p, q) => p - q),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(ids(nb.data.randomSplit(ds(), [7, 3], 1)[0]!), ids(a!));
    assert.deepEqual(b!.get(0)[1]!.item(), b!.indices[0]);
    assert.throws(
      () => nb.data.randomSplit(ds(), [5, 3]),
      /lengths add up to 8, the dataset has 10 samples/,
    );
  });
});

describe('datasets', () => {
  test('mnist: 8,000 / 2,000 real digits in [0, 1], all ten classes', () => {
    const { train, test: held } = nb.datasets.mnist();
    assert.deepEqual(
      [train.x.shape, train.y.shape, held.x.shape],
      [[8000, 784], [8000], [2000, 784]],
    );
    assert.equal(train.y.dtype, 'int32');
    assert.ok(train.x.min().item() >= 0 && train.x.max().item() <= 1);
    const counts = new Array(10).fill(0);
    for (const label of held.y.dataSync()) counts[label]++;
    assert.ok(
      counts.every((c) => c > 150),
      `test classes ${counts}`,
    );
    assert.deepEqual(nb.datasets.mnist().test.y.toArray(), held.y.toArray());
  });

  test('fashionMnist reads a folder of IDX files (a made fixture), scaled to [0, 1]', () => {
    const dir = fashionFixture({ train: 12, test: 6 });
    const { train, test: held, classes } = nb.datasets.fashionMnist(dir);
    assert.deepEqual(
      [train.x.shape, train.y.shape, held.x.shape, held.y.shape],
      [[12, 784], [12], [6, 784], [6]],
    );
    assert.deepEqual(Array.from(train.y.dataSync()), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert.equal(train.x.dataSync()[785], Math.fround(2 / 255)); // image 1, pixel 1: (1 + 1) % 256
    assert.equal(held.x.max().item(), 1);
    assert.equal(classes[9], 'Ankle boot');
  });

  test(
    'fashionMnist reads the IDX files of dataset-fashion-mnist',
    { skip: !existsSync(nb.datasets.FASHION_MNIST_DIR) && 'needs Debian dataset-fashion-mnist' },
    () => {
      const { train, test: held, classes } = nb.datasets.fashionMnist();
      assert.deepEqual(
        [train.x.shape, held.x.shape, held.y.shape],
        [[60000, 784], [10000, 784], [10000]],
      );
      assert.equal(classes[9], 'Ankle boot');
      assert.ok(held.x.max().item() <= 1);
    },
  );

  test('fashionMnist refuses labels that are not one per image, and empty files', () => {
    const dir = fashionFixture({ train: 10, test: 2 });
    // A rank-2 label file of 10×2 bytes: 20 labels for 10 images.
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx([10, 2], new Uint8Array(20)));
    assert.throws(
      () => nb.datasets.fashionMnist(dir),
      /train labels have shape \[10,2\], expected \[10\] \(one per image\)/,
    );
    const empty = fashionFixture({ train: 0, test: 2 });
    assert.throws(() => nb.datasets.fashionMnist(empty), /the train files hold no images/);
  });

  test('a missing directory names the Debian package; truncated or corrupt files are reported', () => {
    assert.throws(
      () => nb.datasets.fashionMnist('/nonexistent'),
      /train-images-idx3-ubyte\(\.gz\) not found in \/nonexistent/,
    );
    const dir = tempDir();
    const header = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28];
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), Uint8Array.from([...header, 1, 2, 3]));
    assert.throws(
      () => nb.datasets.fashionMnist(dir),
      /train-images-idx3-ubyte: not a valid IDX file: shape \[2,28,28\] needs 1568 data bytes, the file has 3 \(truncated or corrupt\)/,
    );
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), Uint8Array.from([1, 2, 3, 4, 5]));
    assert.throws(() => nb.datasets.fashionMnist(dir), /not a valid IDX file: bad magic number/);
    writeFileSync(
      join(dir, 'train-images-idx3-ubyte'),
      gzipSync(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 5, 6])).subarray(0, 12),
    );
    assert.throws(() => nb.datasets.fashionMnist(dir), /corrupt gzip data/);
  });

  test('the IDX reader reads gzip and raw files alike', () => {
    const dir = tempDir();
    const bytes = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    writeFileSync(join(dir, 'a'), bytes);
    writeFileSync(join(dir, 'b'), gzipSync(bytes));
    for (const f of ['a', 'b']) {
      const idx = nb.datasets.readIdx(join(dir, f));
      assert.deepEqual(
        [idx.shape, Array.from(idx.data)],
        [
          [2, 3],
          [1, 2, 3, 4, 5, 6],
        ],
      );
    }
  });

  test('toy sets: shapes, balanced classes, reproducible', () => {
    for (const make of [nb.datasets.xor, nb.datasets.moons, nb.datasets.circles]) {
      const { x, y } = make({ n: 100, seed: 3 });
      assert.deepEqual([x.shape, y.shape, y.sum().item()], [[100, 2], [100], 50]);
      assert.deepEqual(make({ n: 100, seed: 3 }).x.toArray(), x.toArray());
    }
    const { y } = nb.datasets.spirals({ n: 300, classes: 3 });
    assert.equal(y.eq(2).sum().item(), 100);
    const p = nb.datasets.patients({ n: 50 });
    assert.deepEqual(
      [p.x.shape, p.y.shape],
      [
        [50, 3],
        [50, 2],
      ],
    );
  });
});
