/** Tensors: creation, dtypes, seeded randomness, views sharing memory, reads. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';

describe('creation', () => {
  test('nb.tensor infers shape and dtype', () => {
    const t = nb.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(
      [t.shape, t.ndim, t.size, t.dtype, t.device],
      [[2, 3], 2, 6, 'float32', 'cpu'],
    );
    assert.deepEqual(t.toArray(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.equal(nb.tensor(3.5).ndim, 0);
    assert.equal(nb.tensor([true, false]).dtype, 'bool');
    assert.equal(nb.tensor(new Int32Array([1, 2])).dtype, 'int32');
    assert.equal(nb.tensor(new Float64Array([1, 2])).dtype, 'float64');
    assert.deepEqual(nb.tensor([1.7, -2.2], { dtype: 'int32' }).toArray(), [1, -2]);
    assert.deepEqual(nb.tensor([1, 2, 3, 4], { shape: [2, 2] }).shape, [2, 2]);
  });

  test('a typed array is used without copying', () => {
    const data = new Float32Array([1, 2, 3, 4]);
    const t = nb.tensor(data, { shape: [2, 2] });
    data[3] = 9;
    assert.equal(t.toArray().toString(), '1,2,3,9');
  });

  test('zeros, ones, full, *Like, eye, arange, linspace', () => {
    assert.deepEqual(nb.zeros([2]).toArray(), [0, 0]);
    assert.deepEqual(nb.ones([2], { dtype: 'int32' }).toArray(), [1, 1]);
    assert.deepEqual(nb.full([2], 7).toArray(), [7, 7]);
    assert.equal(nb.zerosLike(nb.ones([3], { dtype: 'float64' })).dtype, 'float64');
    assert.deepEqual(nb.onesLike(nb.zeros([1, 2])).toArray(), [[1, 1]]);
    assert.deepEqual(nb.eye(2).toArray(), [
      [1, 0],
      [0, 1],
    ]);
    assert.deepEqual(nb.arange(4).toArray(), [0, 1, 2, 3]);
    assert.equal(nb.arange(4).dtype, 'int32');
    assert.deepEqual(nb.arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
    assert.deepEqual(nb.linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
    assert.equal(nb.randn([2, 3], { requiresGrad: true }).requiresGrad, true);
  });

  test('manualSeed makes rand, randn and randint reproducible', () => {
    nb.manualSeed(42);
    const first = [nb.rand([5]), nb.randn([5]), nb.randint(0, 10, [5])].map((t) => t.toArray());
    nb.manualSeed(42);
    const second = [nb.rand([5]), nb.randn([5]), nb.randint(0, 10, [5])].map((t) => t.toArray());
    assert.deepEqual(first, second);
    nb.manualSeed(43);
    assert.notDeepEqual(nb.rand([5]).toArray(), first[0]);
  });

  test('random samples have the right distributions', () => {
    nb.manualSeed(7);
    const u = nb.rand([20000]);
    const n = nb.randn([20000]);
    const r = nb.randint(-3, 3, [20000]);
    assert.ok(u.min().item() >= 0 && u.max().item() < 1);
    assert.ok(Math.abs(u.mean().item() - 0.5) < 0.01);
    assert.ok(Math.abs(n.mean().item()) < 0.03);
    assert.ok(Math.abs(n.square().mean().item() - 1) < 0.03);
    assert.deepEqual([r.min().item(), r.max().item(), r.dtype], [-3, 2, 'int32']);
  });
});

describe('dtype rules', () => {
  test('promotion follows PyTorch', () => {
    const f32 = nb.ones([1]);
    const f64 = nb.ones([1], { dtype: 'float64' });
    const i32 = nb.ones([1], { dtype: 'int32' });
    assert.equal(f32.add(f64).dtype, 'float64');
    assert.equal(i32.add(f32).dtype, 'float32');
    assert.equal(i32.add(2).dtype, 'int32');
    assert.equal(i32.add(2.5).dtype, 'float32');
    assert.equal(f32.mul(3).dtype, 'float32');
    assert.equal(i32.div(2).dtype, 'float32');
    assert.equal(i32.exp().dtype, 'float32');
    assert.equal(f32.gt(0).dtype, 'bool');
    assert.equal(f32.gt(0).sum().dtype, 'int32');
  });

  test('a number next to a float32 tensor is rounded to float32, as in PyTorch', () => {
    const t = nb.tensor([0.1]);
    assert.equal(t.eq(0.1).item(), 1);
  });
});

describe('views share memory', () => {
  test('reshape, transpose, expand, slice and detach are views', () => {
    const t = nb.arange(6, undefined, 1, { dtype: 'float32' });
    const views = [
      t.reshape([2, 3]),
      t.reshape([3, 2]).T,
      t.reshape([1, 6]).expand([2, 6]),
      t.slice(0, 2),
      t.detach(),
    ];
    t.dataSync()[2] = 100;
    assert.equal((views[0]!.toArray() as number[][])[0]![2], 100);
    assert.equal((views[1]!.toArray() as number[][])[0]![1], 100);
    assert.equal((views[2]!.toArray() as number[][])[1]![2], 100);
    assert.equal((views[3]!.toArray() as number[])[0], 100);
    assert.equal((views[4]!.toArray() as number[])[2], 100);
  });

  test('ops read strided views correctly', () => {
    const t = nb.arange(6, undefined, 1, { dtype: 'float32' }).reshape([2, 3]);
    assert.deepEqual(t.T.add(0).toArray(), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.deepEqual(t.slice(1, 0, 3, 2).mul(2).toArray(), [
      [0, 4],
      [6, 10],
    ]);
    assert.deepEqual(t.T.reshape([6]).toArray(), [0, 3, 1, 4, 2, 5]);
  });

  test('sums of dense tensors (a faster path) give the floats of the same sums of strided views', () => {
    nb.manualSeed(31);
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const dense = nb.randn([37, 5, 301]).mul(100).cast(dtype);
      // The same values laid out column-major: the general path reads them through offsets.
      const strided = dense.permute([2, 1, 0]).contiguous().permute([2, 1, 0]);
      assert.equal(strided.isContiguous, false);
      for (const dims of [[0], [0, 1], [2], [1, 2], [0, 1, 2]]) {
        const [fast, general] = [dense.sum(dims), strided.sum(dims)];
        assert.deepEqual(fast.toArray(), general.toArray(), `${dtype} sum over ${dims}`);
      }
    }
  });

  test('dataSync shares memory with a contiguous tensor; writes are seen by ops', () => {
    const t = nb.zeros([3]);
    t.dataSync()[1] = 5;
    assert.equal(t.sum().item(), 5);
    assert.ok(t.slice(0, 1).dataSync() instanceof Float32Array);
  });
});

describe('reads', () => {
  test('item, toArray, data and array', async () => {
    const t = nb.tensor([
      [1, 2],
      [3, 4],
    ]);
    assert.equal(t.sum().item(), 10);
    assert.deepEqual(Array.from(await t.data()), [1, 2, 3, 4]);
    assert.deepEqual(await t.array(), [
      [1, 2],
      [3, 4],
    ]);
    assert.equal(nb.tensor(2).toArray(), 2);
    assert.equal(
      String(nb.tensor([1, 2])),
      'tensor([1., 2.], shape=[2], dtype=float32, device=cpu)',
    );
  });

  test('size-0 tensors', () => {
    const t = nb.zeros([0, 3]);
    assert.deepEqual(t.toArray(), []);
    assert.deepEqual(t.sum(0).toArray(), [0, 0, 0]);
    assert.equal(t.sum().item(), 0);
  });

  test('large outputs come from the pool and are independent tensors', () => {
    const a = nb.ones([100_000]);
    const x = a.mul(2);
    x.dispose();
    const y = a.mul(3); // may reuse x's memory
    const z = a.mul(4);
    assert.equal(y.max().item(), 3);
    assert.equal(z.min().item(), 4);
  });
});
