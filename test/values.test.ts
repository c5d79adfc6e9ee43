/**
 * Values that must come out right or not at all: data of every JS type becomes the tensor PyTorch
 * would make, integers never wrap silently, shapes are resolved exactly, and `view` never copies.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import * as nb from '../src/index.js';
import * as tf1 from '../src/tf1.js';

const nablaError = (pattern: RegExp) => (e: unknown) =>
  e instanceof nb.NablaError && pattern.test(e.message);

describe('tensors from every kind of data', () => {
  test('byte and 16-bit integer arrays keep their values as int32 (never bool)', () => {
    const cases: [ArrayLike<number> & ArrayBufferView, number[]][] = [
      [new Uint8Array([0, 2, 255]), [0, 2, 255]],
      [new Uint8ClampedArray([0, 2, 255]), [0, 2, 255]],
      [new Int8Array([-128, 0, 127]), [-128, 0, 127]],
      [new Uint16Array([0, 65535]), [0, 65535]],
      [new Int16Array([-32768, 7]), [-32768, 7]],
      [new Uint32Array([0, 2147483647]), [0, 2147483647]],
    ];
    for (const [data, values] of cases) {
      const t = nb.tensor(data as unknown as Int32Array);
      assert.equal(t.dtype, 'int32', data.constructor.name);
      assert.deepEqual(t.toArray(), values, data.constructor.name);
    }
    assert.equal(
      nb
        .tensor(new Uint8Array([0, 2, 255]) as unknown as Int32Array)
        .sum()
        .item(),
      257,
    );
  });

  test('a Uint32Array value past int32, a BigInt64Array and unknown dtypes are refused', () => {
    assert.throws(
      () => nb.tensor(new Uint32Array([4294967295]) as unknown as Int32Array),
      nablaError(/tensor: 4294967295 cannot be stored as int32/),
    );
    assert.throws(
      () => nb.tensor(new BigInt64Array([1n]) as unknown as Int32Array),
      nablaError(/tensor: a BigInt64Array cannot become a tensor/),
    );
    for (const dtype of ['float16', 'int64'])
      assert.throws(
        () => nb.tensor([1], { dtype: dtype as nb.DType }),
        nablaError(new RegExp(`tensor: unknown dtype '${dtype}': nabla has float32, float64`)),
      );
    assert.throws(
      () => nb.zeros([2], { dtype: 'int64' as nb.DType }),
      nablaError(/zeros: unknown dtype 'int64'/),
    );
  });

  test('mixed booleans and numbers are numbers; dtype bool stores truth values', () => {
    const mixed = nb.tensor([true, 2, -3]);
    assert.deepEqual([mixed.dtype, mixed.toArray()], ['float32', [1, 2, -3]]);
    const truth = nb.tensor([2, 0, -1, 0.5, NaN], { dtype: 'bool' });
    assert.deepEqual(truth.toArray(), [1, 0, 1, 1, 1]); // PyTorch: [True, False, True, True, True]
    assert.deepEqual(nb.full([2], 3, { dtype: 'bool' }).toArray(), [1, 1]);
    assert.deepEqual(
      nb.tensor(new Uint8Array([0, 2]) as unknown as Int32Array, { dtype: 'bool' }).toArray(),
      [0, 1],
    );
  });
});

describe('int32 never wraps', () => {
  test('numbers int32 cannot hold are refused at creation', () => {
    assert.throws(
      () => nb.tensor([1e10], { dtype: 'int32' }),
      nablaError(/tensor: 10000000000 cannot be stored as int32/),
    );
    assert.throws(() => nb.full([1], NaN, { dtype: 'int32' }), nablaError(/full: NaN cannot/));
    assert.deepEqual(
      nb.tensor([2147483647.5, -2.7], { dtype: 'int32' }).toArray(),
      [2147483647, -2],
    );
  });

  test('casts of NaN, ±Infinity and out-of-range floats to int32 are errors', () => {
    for (const v of [NaN, Infinity, -Infinity, 3e9])
      assert.throws(
        () => nb.tensor([1, v]).cast('int32'),
        nablaError(new RegExp(`cast: ${String(v)} cannot be converted to int32`)),
      );
    assert.deepEqual(nb.tensor([-1.9, 1.9]).cast('int32').toArray(), [-1, 1]);
  });

  test('an int32 sum past int32 is an error that says how to sum (PyTorch gives int64)', () => {
    assert.throws(
      () => nb.arange(0, 100000).sum(),
      nablaError(/Sum: the int32 sum 4999950000 overflows int32 .*x\.cast\('float64'\)\.sum\(\)/),
    );
    assert.equal(nb.arange(0, 100000).cast('float64').sum().item(), 4999950000);
    assert.equal(nb.arange(0, 1000).sum().item(), 499500);
    assert.deepEqual(nb.arange(0, 6).reshape([2, 3]).sum(0).toArray(), [3, 5, 7]);
  });

  test('negative indices are refused by gather and indexSelect, as in PyTorch', () => {
    const x = nb.tensor([
      [1, 2],
      [3, 4],
    ]);
    const minusOne = nb.tensor(new Int32Array([-1]));
    assert.throws(
      () => nb.indexSelect(x, 0, minusOne),
      nablaError(/index -1 is out of range for a dimension of size 2/),
    );
    assert.throws(
      () => nb.gather(x, 1, minusOne.reshape([1, 1])),
      nablaError(/index -1 is out of range/),
    );
  });

  test('max, min, argmax and argmin of nothing are errors; sum of nothing is 0', () => {
    const empty = nb.zeros([0]);
    for (const op of ['max', 'min', 'argmax', 'argmin'] as const)
      assert.throws(
        () => empty[op](),
        nablaError(/cannot reduce over an empty dimension: shape \[0\], dimension 0 has size 0/),
        op,
      );
    assert.throws(() => nb.zeros([2, 0]).max(1), nablaError(/dimension 1 has size 0/));
    assert.deepEqual(nb.zeros([0, 3]).max(1).shape, [0]);
    assert.equal(empty.sum().item(), 0);
  });
});

describe('memory the machine cannot give', () => {
  test('is a NablaError naming the op, the shape and the bytes, raised before any work', () => {
    assert.throws(
      () => nb.zeros([1e6, 1e6]),
      nablaError(
        /^zeros: cannot allocate a float32 tensor of shape \[1000000, 1000000\] \(4,000,000,000,000 bytes\): /,
      ),
    );
    const x = nb.ones([1, 1e6]);
    assert.throws(
      () => x.T.matmul(x),
      nablaError(/^MatMul: cannot allocate a float32 tensor of shape \[1000000, 1000000\]/),
    );
  });
});

describe('shapes', () => {
  test('reshape with -1 needs a whole size, eagerly and in a graph', () => {
    assert.throws(
      () => nb.arange(0, 6).reshape([-1, 4]),
      nablaError(/reshape: cannot reshape a tensor of shape \[6\] \(6 elements\) to \[-1, 4\]/),
    );
    assert.throws(() => tf1.reshape(tf1.placeholder('float32', [6]), [-1, 4]), /cannot reshape/);
    const X = tf1.placeholder('float32', [null]); // checked when the graph runs
    const bad = tf1.reshape(X, [-1, 4]);
    const sess = new tf1.Session();
    assert.throws(
      () => sess.run(bad, new Map([[X, nb.arange(0, 6).cast('float32')]])),
      /cannot reshape/,
    );
    assert.deepEqual(nb.arange(0, 6).reshape([-1, 3]).shape, [2, 3]);
  });

  test('a bare size is a shape, as in PyTorch; anything else is a clear error', () => {
    assert.deepEqual(nb.zeros(3).shape, [3]);
    assert.deepEqual(nb.ones(2).toArray(), [1, 1]);
    assert.deepEqual(nb.arange(6).reshape(6).shape, [6]);
    assert.throws(
      () => nb.zeros('3' as unknown as number),
      nablaError(/zeros: expected a shape \(an array of sizes\), got "3"/),
    );
    assert.throws(
      () => nb.arange(6).reshape([2, 'x'] as unknown as number[]),
      nablaError(/reshape: expected a shape .*, got \[2,"x"\]/),
    );
  });

  test("view is PyTorch's: the same memory in a new shape, or an error", () => {
    const x = nb.arange(0, 6, 1, { dtype: 'float32' });
    const v = x.view([2, 3]);
    assert.deepEqual(v.shape, [2, 3]);
    x.dataSync()[0] = 42;
    assert.equal((v.toArray() as number[][])[0]![0], 42);
    assert.deepEqual(x.view([-1, 2]).shape, [3, 2]);
    assert.throws(
      () => v.T.view([6]),
      nablaError(
        /view: a tensor of shape \[3, 2\] with strides \[1, 3\] cannot be viewed as \[6\] without a copy; use reshape\(\)/,
      ),
    );
    assert.throws(() => x.view([4, -1]), nablaError(/cannot reshape a tensor of shape \[6\]/));
  });
});

describe('backward', () => {
  test('takes its options in the first place too, as PyTorch keywords read', () => {
    const w = nb.tensor(3, { requiresGrad: true });
    const J = w.square();
    J.backward({ retainGraph: true });
    J.backward();
    assert.equal(w.grad!.item(), 12);
  });

  test('a number is not a gradient', () => {
    const J = nb.tensor(3, { requiresGrad: true }).square();
    assert.throws(
      () => J.backward(2 as unknown as nb.Tensor),
      nablaError(
        /backward: expected a gradient tensor or an options object, got 2 \(wrap a number: nb\.tensor\(2\)\)/,
      ),
    );
  });

  test('on a tf1 graph it says to build gradients with tf1.gradients or minimize', () => {
    const x = tf1.placeholder('float32', [2]);
    const w = new tf1.Variable(tf1.ones([2]));
    const L = tf1.reduceSum(tf1.mul(x, w));
    assert.throws(
      () => L.backward(),
      nablaError(
        /backward: this is a symbolic tensor of a tf1 graph: build its gradients with tf1\.gradients/,
      ),
    );
    const [g] = tf1.gradients(L, [w]);
    const sess = new tf1.Session();
    sess.run(tf1.globalVariablesInitializer());
    assert.deepEqual(sess.run(g!, new Map([[x, [1, 2]]])).toArray(), [1, 2]);
  });
});

describe('logSoftmax', () => {
  test('rows with ±Infinity and NaN give what PyTorch gives', () => {
    const x = nb.tensor([
      [-Infinity, 0],
      [NaN, 1],
      [-Infinity, -Infinity],
      [Infinity, 0],
    ]);
    // torch.log_softmax of the same rows (PyTorch 1.13).
    const expected = [
      [-Infinity, 0],
      [NaN, NaN],
      [NaN, NaN],
      [NaN, NaN],
    ];
    assert.deepEqual(x.logSoftmax(1).toArray(), expected);
  });

  test('int32 input gives float32, as in PyTorch', () => {
    const y = nb.tensor([[1, 2, 3]], { dtype: 'int32' }).logSoftmax(1);
    assert.equal(y.dtype, 'float32');
    const expected = [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806];
    y.dataSync().forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `${v}`));
  });
});

describe('printing', () => {
  // Expected texts are PyTorch 1.13's str() of the same tensors, with nabla's trailing fields.
  test('small tensors print every element, aligned, in one format', () => {
    assert.equal(
      String(
        nb.tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      ),
      'tensor([[1., 2., 3.],\n        [4., 5., 6.]], shape=[2, 3], dtype=float32, device=cpu)',
    );
    assert.equal(
      String(nb.tensor([0.1, 2.5, -3])),
      'tensor([ 0.1000,  2.5000, -3.0000], shape=[3], dtype=float32, device=cpu)',
    );
    assert.equal(String(nb.arange(4)), 'tensor([0, 1, 2, 3], shape=[4], dtype=int32, device=cpu)');
    assert.equal(
      String(nb.tensor(3.5, { requiresGrad: true })),
      'tensor(3.5000, shape=[], dtype=float32, device=cpu, requiresGrad=true)',
    );
    assert.equal(
      String(nb.tensor([1e-6, 1, NaN, Infinity])),
      'tensor([1.0000e-6, 1.0000e+0,       nan,       inf], shape=[4], dtype=float32, device=cpu)',
    );
  });

  test('large tensors print three edge items around ..., reading only those, at once', () => {
    const big = nb.arange(0, 2000 * 3000).reshape([2000, 3000]);
    assert.equal(
      String(big),
      [
        'tensor([[      0,       1,       2,  ...,    2997,    2998,    2999],',
        '        [   3000,    3001,    3002,  ...,    5997,    5998,    5999],',
        '        [   6000,    6001,    6002,  ...,    8997,    8998,    8999],',
        '        ...,',
        '        [5991000, 5991001, 5991002,  ..., 5993997, 5993998, 5993999],',
        '        [5994000, 5994001, 5994002,  ..., 5996997, 5996998, 5996999],',
        '        [5997000, 5997001, 5997002,  ..., 5999997, 5999998, 5999999]], shape=[2000, 3000], dtype=int32, device=cpu)',
      ].join('\n'),
    );
    assert.equal(inspect(big.T), String(big.T)); // console.log and the REPL print the same
    assert.ok(String(big.T).startsWith('tensor([[      0,    3000,    6000,  ...,'));
  });
});
