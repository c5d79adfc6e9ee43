/** Errors a user can act on: the op, the shapes and the caller's file:line. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import * as tf1 from '../src/tf1.js';
import { callSiteIn } from '../src/core/errors.js';
import type { Backend } from '../src/backends/backend.js';
import { Tensor } from '../src/tensor/tensor.js';

const THIS_FILE = /errors\.test\.(ts|js):\d+:\d+/;

function captured(fn: () => unknown): nb.NablaError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof nb.NablaError, `expected a NablaError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an error');
}

describe('shape and dtype errors name the op, the shapes and the call site', () => {
  test('matmul with mismatched inner dimensions', () => {
    const error = captured(() => nb.matmul(nb.ones([2, 3]), nb.ones([4, 5])));
    assert.match(error.message, /matmul: shapes \[2, 3\] and \[4, 5\] cannot be multiplied/);
    assert.match(error.message, THIS_FILE);
    assert.match(error.callSite!, THIS_FILE);
    assert.equal(error.op, 'matmul');
  });

  test('broadcasting incompatible shapes', () => {
    const error = captured(() => nb.ones([2, 3]).add(nb.ones([4])));
    assert.match(error.message, /Add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
    assert.match(error.message, THIS_FILE);
  });

  test('reshape to the wrong number of elements', () => {
    assert.throws(
      () => nb.ones([2, 3]).reshape([4, 2]),
      /reshape: cannot reshape a tensor of shape \[2, 3\] \(6 elements\) to \[4, 2\]/,
    );
  });

  test('dimension out of range', () => {
    assert.throws(
      () => nb.ones([2, 3]).sum(2),
      /Sum: dimension 2 is out of range for a tensor of 2 dimensions/,
    );
  });

  test('gather with a float index, or an index out of range', () => {
    assert.throws(
      () => nb.gather(nb.ones([2, 2]), 1, nb.ones([2, 1])),
      /gather: index must be an int32 tensor/,
    );
    const bad = nb.tensor(new Int32Array([0, 5]), { shape: [2, 1] });
    assert.throws(
      () => nb.gather(nb.ones([2, 2]), 1, bad),
      /gather: index 5 is out of range for a dimension of size 2/,
    );
  });

  test('cat with mismatched shapes; ragged nested arrays', () => {
    assert.throws(
      () => nb.cat([nb.ones([2, 2]), nb.ones([3, 3])], 0),
      /cat: shapes \[2, 2\], \[3, 3\] differ outside dimension 0/,
    );
    assert.throws(() => nb.tensor([[1, 2], [3]]), /tensor: ragged nested array/);
  });

  test('passing a plain array where a tensor is needed', () => {
    assert.throws(
      () => nb.matmul([1, 2] as never, nb.ones([2])),
      /expected a Tensor as input, got an array \(wrap it with nb.tensor\)/,
    );
  });
});

describe('autograd misuse', () => {
  test('backward on a non-scalar without a gradient', () => {
    const x = nb.ones([3], { requiresGrad: true });
    assert.throws(
      () => x.mul(2).backward(),
      /backward: a gradient can only be implied for a one-element output, this one has shape \[3\]/,
    );
  });

  test('backward on a tensor that does not require grad', () => {
    assert.throws(() => nb.ones([1]).backward(), /does not require grad/);
  });

  test('an int tensor cannot require grad', () => {
    assert.throws(
      () => nb.arange(3).requiresGrad_(),
      /only floating-point tensors can require grad, not int32/,
    );
    assert.throws(
      () => nb.tensor([1], { dtype: 'int32', requiresGrad: true }),
      /only floating-point tensors can require grad/,
    );
  });

  test('a gradOutput of the wrong shape', () => {
    const x = nb.ones([3], { requiresGrad: true });
    assert.throws(
      () => x.mul(2).backward(nb.ones([2])),
      /gradient of shape \[2\] does not match output of shape \[3\]/,
    );
  });
});

describe('reads', () => {
  test('a disposed tensor cannot be read or used', () => {
    const t = nb.ones([2]);
    t.dispose();
    assert.throws(() => t.dataSync(), /dataSync: this tensor was disposed/);
    assert.throws(() => t.item(), /item: this tensor was disposed/);
    assert.throws(() => t.add(1), /an input tensor was disposed/);
    assert.rejects(t.data(), /disposed/);
  });

  test('item on a tensor with several elements', () => {
    assert.throws(
      () => nb.ones([2]).item(),
      /item: only one-element tensors can be read as a number/,
    );
  });

  test('a device without synchronous reads asks for await t.data()', async () => {
    // A device whose memory the host cannot map synchronously, as WebGPU's.
    const cpu = nb.ones([1]).backend;
    const asyncOnly: Backend = { ...cpu, readSync: () => null };
    const t = Tensor.fromHost(new Float32Array([7]), [1], 'float32', asyncOnly);
    assert.throws(() => t.dataSync(), /cannot be read synchronously; use await t.data\(\)/);
    assert.deepEqual(Array.from(await t.data()), [7]);
  });
});

describe("errors inside the library name the user's line, never Node's own frames", () => {
  test("a frame of Node's module loader is skipped, not read from its inner slash", () => {
    const stack = [
      'Error',
      '    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)',
      '    at async onImport.tracePromise.__proto__ (node:internal/modules/esm/loader:606:26)',
      '    at train (/home/me/app/train.js:12:7)',
    ].join('\n');
    assert.equal(callSiteIn(stack), '/home/me/app/train.js:12:7');
    assert.equal(callSiteIn(stack.split('\n').slice(0, 3).join('\n')), undefined);
  });
});

describe('graph-mode misuse', () => {
  test('a placeholder without a shape', () => {
    const error = captured(() => tf1.placeholder('float32', undefined as unknown as number[]));
    assert.match(
      error.message,
      /placeholder: needs a shape, e\.g\. tf1\.placeholder\('float32', \[null, 784\]\)/,
    );
  });

  test("Session takes TF1's keyword form, and refuses what is not a graph", () => {
    const graph = new tf1.Graph();
    const x = tf1.placeholder('float32', [2], 'x', graph);
    const sess = new tf1.Session({ graph });
    assert.equal(sess.graph, graph);
    assert.deepEqual(sess.run(tf1.mul(x, 2), new Map([[x, [1, 2]]])).toArray(), [2, 4]);
    assert.throws(
      () => new tf1.Session({ graph: 42 as unknown as tf1.Graph }),
      /Session: expected a tf1\.Graph, got 42/,
    );
  });
});
