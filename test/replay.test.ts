/**
 * Replayed plans (src/compile/replay.ts): from the second run on, a plan computes into buffers it
 * allocated once and shares between values. Every run must still give what eager mode gives, and
 * nothing handed out may change when the next run reuses those buffers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf1 from '../src/tf1.js';
import * as nb from '../src/index.js';

/** A chain whose intermediates have equal sizes and short lives, so that they share buffers. */
function chain(x: nb.Tensor, w: nb.Tensor): nb.Tensor {
  const a = nb.tanh(nb.matmul(x, w));
  const centred = nb.sub(a, nb.mean(a, 1, true));
  const b = nb.exp(nb.matmul(centred, nb.transpose(w, 0, 1)));
  return nb.sum(nb.mul(b, x), 0);
}

describe('replayed plans', () => {
  test('every run of a session gives the eager values for its feeds', () => {
    nb.manualSeed(3);
    const w = nb.randn([4, 4], { dtype: 'float64' });
    const g = new tf1.Graph();
    const X = tf1.placeholder('float64', [null, 4], 'X', g);
    const y = chain(X, w);
    const sess = new tf1.Session(g);
    for (let run = 0; run < 4; run++) {
      const x = nb.randn([4, 4], { dtype: 'float64' });
      assert.deepEqual(sess.run(y, new Map([[X, x]])).toArray(), chain(x, w).toArray());
    }
  });

  test('fetched values stay as they were after later runs, views of intermediates included', () => {
    const g = new tf1.Graph();
    const X = tf1.placeholder('float32', [2, 3], 'X', g);
    const h = tf1.mul(tf1.matmul(X, tf1.ones([3, 3])), 2);
    const fetches = [tf1.transpose(h, 0, 1), tf1.reshape(tf1.add(h, 1), [6])] as const;
    const sess = new tf1.Session(g);
    const results = [1, 2, 3].map((v) => sess.run(fetches, new Map([[X, nb.full([2, 3], v)]])));
    results.forEach(([t, r], i) => {
      const v = 6 * (i + 1);
      assert.deepEqual(t!.toArray(), [
        [v, v],
        [v, v],
        [v, v],
      ]);
      assert.deepEqual(r!.toArray(), Array(6).fill(v + 1));
    });
  });

  test('jitted outputs stay valid after later calls', () => {
    const f = nb.jit((x: nb.Tensor) => x.mul(2).add(1).sum(1, true).transpose(0, 1));
    const outs = [1, 2, 3].map((v) => f(nb.full([2, 4], v)));
    outs.forEach((o, i) => assert.deepEqual(o.toArray(), [[8 * (i + 1) + 4, 8 * (i + 1) + 4]]));
  });

  test('a constant disposed after the first run is reported, not read', () => {
    const c = nb.ones([3]);
    const f = nb.jit((x: nb.Tensor) => x.add(c).mul(c));
    f(nb.ones([3]));
    f(nb.ones([3]));
    c.dispose();
    assert.throws(() => f(nb.ones([3])), /Session\.run: the value of 'Const' was disposed/);
  });

  test('a custom op that runs the same plan inside a run does not share its buffers', () => {
    const g = new tf1.Graph();
    const X = tf1.placeholder('float32', [3], 'X', g);
    let depth = 0;
    const sess = new tf1.Session(g);
    const inner = nb.customOp({
      name: 'TestReentrant',
      forward: (x) => {
        if (depth > 0) return x.mul(1);
        depth++;
        try {
          return sess.run(y, new Map([[X, x]]));
        } finally {
          depth--;
        }
      },
      infer: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
      backward: (_, dy) => [dy],
    });
    const y = tf1.mul(tf1.add(inner(X), X), 2);
    // Inside, inner(x) = x and so y = 4x; outside, inner(x) = 4x and y = 10x, on every run.
    for (const v of [1, 2, 3]) {
      assert.deepEqual(
        sess.run(y, new Map([[X, nb.full([3], v)]])).toArray(),
        Array(3).fill(10 * v),
      );
    }
  });
});

describe('inlining', () => {
  const softplus = (x: nb.Tensor): nb.Tensor => x.exp().add(1).log();
  const make = (inline: boolean, counter: { calls: number }) =>
    nb.customOp({
      name: inline ? 'TestInlineSoftplus' : 'TestOpaqueSoftplus',
      forward: (x) => {
        counter.calls++;
        return softplus(x);
      },
      backward: ({ inputs: [x] }, dy) => [dy.mul(x!.sigmoid())],
      infer: ([x]) => x!,
      inline,
    });

  test('a custom op declared inline runs as its ops: traced once, same values and gradients', () => {
    for (const inline of [true, false]) {
      const counter = { calls: 0 };
      const op = make(inline, counter);
      const g = new tf1.Graph();
      const X = tf1.placeholder('float64', [3], 'X', g);
      const y = op(X);
      const [dx] = tf1.gradients(tf1.sum(tf1.mul(y, y)), [X]);
      const sess = new tf1.Session(g);
      for (const v of [-1, 0.5, 2]) {
        const x = nb.tensor([v, v + 1, v - 3], { dtype: 'float64' });
        const [got, grad] = sess.run([y, dx!], new Map([[X, x]]));
        assert.deepEqual(got.toArray(), softplus(x).toArray());
        assert.deepEqual(grad.toArray(), softplus(x).mul(2).mul(x.sigmoid()).toArray());
      }
      // Inlined, the forward was traced once into the plan; opaque, it ran on every run.
      assert.equal(counter.calls, inline ? 1 : 3, `inline: ${inline}`);
    }
  });

  test('an inline op whose forward reads values is refused with its name, when the graph runs', () => {
    const reads = nb.customOp({
      name: 'TestReadsValues',
      forward: (x) => x.mul(x.max().item()),
      backward: (_, dy) => [dy],
      infer: ([x]) => x!,
      inline: true,
    });
    const g = new tf1.Graph();
    const X = tf1.placeholder('float32', [3], 'X', g);
    const y = reads(X);
    assert.throws(
      () => new tf1.Session(g).run(y, new Map([[X, nb.ones([3])]])),
      /TestReadsValues: is declared inline, but its forward cannot run as graph ops \(it must only compose nabla ops\): .*symbolic tensor/,
    );
  });
});

describe('assignments computed in place', () => {
  test('a later read of the old value keeps the update out of place', () => {
    const p = nb.tensor([1, 2]);
    // In a trace, assignments apply after the step: the returned p + 1 reads p's old value.
    const f = nb.jit(() => {
      p.copy_(p.mul(2));
      return p.add(1);
    });
    const seen = [1, 2, 3].map(() => [f().toArray(), p.toArray()]);
    assert.deepEqual(seen, [
      [
        [2, 3],
        [2, 4],
      ],
      [
        [3, 5],
        [4, 8],
      ],
      [
        [5, 9],
        [8, 16],
      ],
    ]);
  });

  test('only elementwise steps write over their input', () => {
    const p = nb.tensor([
      [1, 2],
      [3, 4],
    ]);
    const swapColumns = nb.tensor([
      [0, 1],
      [1, 0],
    ]);
    const f = nb.jit(() => void p.copy_(p.matmul(swapColumns)));
    for (const swapped of [true, false, true, false]) {
      f();
      assert.deepEqual(
        p.toArray(),
        swapped
          ? [
              [2, 1],
              [4, 3],
            ]
          : [
              [1, 2],
              [3, 4],
            ],
      );
    }
  });
});
