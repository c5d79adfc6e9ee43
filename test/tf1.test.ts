/** Graph mode beyond the op table: the lecture's TF1 program, errors, passes, dumps. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf1 from '../src/tf1.js';
import * as nb from '../src/index.js';

describe('graph construction and Session errors', () => {
  test('an incompatible matmul throws when the node is built, naming shapes and the line', () => {
    const g = new tf1.Graph();
    const X = tf1.placeholder('float32', [null, 3], 'X', g);
    assert.throws(
      () => tf1.matmul(X, tf1.zeros([4, 2])),
      /matmul: shapes \[-1, 3\] and \[4, 2\] cannot be multiplied \(3 ≠ 4\) \(at .*tf1\.test\.(ts|js):\d+/,
    );
    assert.throws(
      () => tf1.add(X, tf1.zeros([2])),
      /Add: shapes \[-1, 3\] and \[2\] cannot be broadcast/,
    );
  });

  test('a symbolic tensor has no value outside a session', () => {
    const X = tf1.placeholder('float32', [2], 'X', new tf1.Graph());
    assert.throws(
      () => X.dataSync(),
      /symbolic tensor of a graph, with no value outside a session: evaluate it with sess.run/,
    );
    assert.throws(() => tf1.mul(X, 2).item(), /symbolic tensor/);
  });

  test('missing, mistyped and misshaped feeds name the placeholder', () => {
    const g = new tf1.Graph();
    const X = tf1.placeholder('float32', [null, 2], 'images', g);
    const y = tf1.sum(X);
    const sess = new tf1.Session(g);
    assert.throws(
      () => sess.run(y),
      /placeholder 'images' \(float32 \[\?, 2\]\) needs a value: add it to the feeds/,
    );
    assert.throws(
      () => sess.run(y, new Map([[X, nb.ones([3, 2], { dtype: 'float64' })]])),
      /placeholder 'images' \(float32 \[\?, 2\]\) was fed float64 values/,
    );
    assert.throws(
      () => sess.run(y, new Map([[X, [[1, 2, 3]]]])),
      /placeholder 'images' \(float32 \[\?, 2\]\) was fed a value of shape \[1, 3\]/,
    );
    assert.equal(
      sess
        .run(
          y,
          new Map([
            [
              X,
              [
                [1, 2],
                [3, 4],
              ],
            ],
          ]),
        )
        .item(),
      10,
    );
    const flat = new Float32Array([1, 2, 3, 4, 5, 6]); // a flat typed array takes the shape [3, 2]
    assert.equal(sess.run(y, new Map([[X, flat]])).item(), 21);
  });

  test('an uninitialised variable is reported by name', () => {
    const g = new tf1.Graph();
    const v = new tf1.Variable(nb.ones([2]), { name: 'weights', graph: g });
    assert.throws(
      () => new tf1.Session(g).run(tf1.mul(v, 2)),
      /variable 'weights' is not initialized: run globalVariablesInitializer\(\)/,
    );
  });

  test('assign updates a variable after the run computed its fetches from the old value', () => {
    const g = new tf1.Graph();
    const v = new tf1.Variable(nb.tensor([1, 2]), { graph: g });
    const doubled = tf1.mul(v, 2);
    const update = tf1.assign(v, doubled);
    const sess = new tf1.Session(g);
    sess.run(v.initializer);
    const [, before] = sess.run([update, doubled]);
    assert.deepEqual(before.toArray(), [2, 4]);
    assert.deepEqual(sess.run(v).toArray(), [2, 4]);
  });

  test('gradients are null for tensors the output does not depend on; registerGradient applies', () => {
    const g = new tf1.Graph();
    const x = tf1.placeholder('float32', [3], 'x', g);
    const z = tf1.placeholder('float32', [3], 'z', g);
    const [dx, dz] = tf1.gradients(tf1.sum(tf1.neg(x)), [x, z]);
    assert.equal(dz, null);
    const sess = new tf1.Session(g);
    assert.deepEqual(sess.run(dx!, new Map([[x, [1, 2, 3]]])).toArray(), [-1, -1, -1]);
    const custom = nb.customOp({
      name: 'TF1Doubler',
      forward: (t) => t.mul(2),
      backward: (_op, dy) => [dy.mul(2)],
      infer: ([t]) => ({ shape: t!.shape, dtype: t!.dtype }),
    });
    tf1.registerGradient('TF1Doubler', (_op, dy: nb.Tensor) => [tf1.mul(dy, 100)]);
    const [dc] = tf1.gradients(tf1.sum(custom(x)), [x]);
    assert.deepEqual(sess.run(dc!, new Map([[x, [1, 2, 3]]])).toArray(), [100, 100, 100]);
  });
});

/** 2·3 of two constants was computed when built: the graph holds it as one constant, 6. */
function holdsFoldedScale(g: tf1.Graph): boolean {
  return [...g.leaves.values()].some(
    (leaf) => leaf.kind === 'constant' && leaf.value.size === 1 && leaf.value.item() === 6,
  );
}

describe('graph passes', () => {
  function build() {
    const g = new tf1.Graph();
    const x = tf1.placeholder('float32', [null, 4], 'x', g);
    const w = new tf1.Variable(nb.randn([4, 3]), { graph: g });
    const b = new tf1.Variable(nb.randn([3]), { graph: g });
    const scale = tf1.mul(tf1.constant(2), tf1.constant(3)); // constants only: computed now
    const h1 = tf1.sigmoid(tf1.add(tf1.matmul(x, w), b));
    const h2 = tf1.sigmoid(tf1.add(tf1.matmul(x, w), b)); // the same again: CSE
    const out = tf1.mul(tf1.add(h1, h2), scale);
    return { g, x, out };
  }

  test('all passes keep the value and shrink the plan', () => {
    const feeds = (x: nb.Tensor) => new Map([[x, nb.randn([5, 4])]]);
    nb.manualSeed(3);
    const a = build();
    const plain = new tf1.Session(a.g, { passes: [] });
    const optimized = new tf1.Session(a.g);
    plain.run(tf1.globalVariablesInitializer(a.g));
    optimized.run(tf1.globalVariablesInitializer(a.g));
    // Both sessions must see the same variable values.
    const initial = plain.valueOf(
      [...a.g.leaves.keys()].find((t) => t instanceof tf1.Variable) as tf1.Variable,
    );
    assert.ok(initial);
    const f = feeds(a.x);
    const expected = plain.run(a.out, f).dataSync();
    const actual = optimized.run(a.out, f).dataSync();
    expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= 1e-6 * Math.abs(e) + 1e-7));
    const steps = (s: tf1.Session) =>
      (s as unknown as { plans: Map<string, { steps: { label: string }[] }> }).plans;
    const plainSteps = [...steps(plain).values()].at(-1)!.steps.map((s) => s.label);
    const optimizedSteps = [...steps(optimized).values()].at(-1)!.steps.map((s) => s.label);
    assert.equal(holdsFoldedScale(a.g), true);
    assert.deepEqual(plainSteps, [
      'MatMul',
      'Add',
      'Sigmoid',
      'MatMul',
      'Add',
      'Sigmoid',
      'Add',
      'Mul',
    ]);
    // CSE drops the second branch; fusion merges the elementwise chain after the matmul.
    assert.deepEqual(optimizedSteps, ['MatMul', 'Fused(Add, Sigmoid, Add, Mul)']);
  });

  test('the graph dumps as text and as Graphviz DOT', () => {
    const { g } = build();
    assert.match(g.toString(), /x = placeholder : \[\?, 4\] float32/);
    assert.match(g.toString(), /MatMul_0 = MatMul\(x, Variable\) : \[\?, 3\] float32/);
    const dot = g.toDot();
    assert.match(dot, /^digraph G \{/);
    assert.match(dot, /"x" -> "MatMul_0" \[label="\[\?, 4\]"\];/);
  });
});

describe('graph and eager training agree', () => {
  test('the same MNIST MLP, init and batches give the same weights after Adam steps', () => {
    const { train } = nb.datasets.mnist();
    const x = train.x.narrow(0, 0, 512);
    const y = train.y.narrow(0, 0, 512);
    nb.manualSeed(5);
    const eager = new nb.nn.Sequential(
      new nb.nn.Linear(784, 32),
      new nb.nn.ReLU(),
      new nb.nn.Linear(32, 10),
    );
    const init = Object.fromEntries(
      Object.entries(eager.stateDict()).map(([k, t]) => [k, t.clone()]),
    );

    const opt = new nb.optim.Adam(eager.parameters(), { lr: 0.01 });
    for (let start = 0; start < 512; start += 128) {
      const loss = nb.nn.functional.crossEntropy(
        eager.forward(x.narrow(0, start, 128)),
        y.narrow(0, start, 128),
      );
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }

    const g = new tf1.Graph();
    const X = tf1.placeholder('float32', [null, 784], 'X', g);
    const Y = tf1.placeholder('int32', [null], 'Y', g);
    const v = (name: string) => new tf1.Variable(init[name]!, { name, graph: g });
    const [w1, b1, w2, b2] = [v('0.weight'), v('0.bias'), v('2.weight'), v('2.bias')];
    const hidden = tf1.relu(tf1.add(tf1.matmul(X, w1!.T), b1!));
    const logits = tf1.add(tf1.matmul(hidden, w2!.T), b2!);
    const loss = nb.nn.functional.crossEntropy(logits, Y);
    const trainOp = new tf1.train.AdamOptimizer(0.01).minimize(loss);
    const sess = new tf1.Session(g);
    sess.run(tf1.globalVariablesInitializer(g));
    for (let start = 0; start < 512; start += 128) {
      sess.run(
        trainOp,
        new Map([
          [X, x.narrow(0, start, 128)],
          [Y, y.narrow(0, start, 128)],
        ]),
      );
    }
    const eagerState = eager.stateDict();
    for (const [name, variable] of [
      ['0.weight', w1],
      ['2.bias', b2],
    ] as const) {
      const a = sess.valueOf(variable!).dataSync();
      const e = eagerState[name]!.dataSync();
      // Rounding differs (graph Adam's bias corrections are float32 tensors; fused chains keep
      // float64 intermediates): equal to 0.1% of one update step (lr 0.01).
      e.forEach((value, i) =>
        assert.ok(Math.abs(a[i]! - value) <= 1e-5, `${name}[${i}]: ${a[i]} vs ${value}`),
      );
    }
  });
});

describe('TF1 names', () => {
  test('the aliases compute what their nb counterparts do', () => {
    const g = new tf1.Graph();
    const logits = tf1.placeholder('float32', [2, 3], 'logits', g);
    const labels = tf1.placeholder('float32', [2, 3], 'labels', g);
    const sess = new tf1.Session(g);
    const z = [
      [1, 2, 3],
      [0, -1, 2],
    ];
    const p = [
      [0, 0, 1],
      [0.5, 0.5, 0],
    ];
    const feeds = new Map([
      [logits, z],
      [labels, p],
    ]);
    const [ce, bce, quotient, biggest, mean, total] = sess.run(
      [
        tf1.softmaxCrossEntropyWithLogits({ labels, logits }),
        tf1.sigmoidCrossEntropyWithLogits({ labels, logits }),
        tf1.divide(logits, 2),
        tf1.reduceMax(logits, 1),
        tf1.reduceMean(tf1.multiply(logits, labels)),
        tf1.reduceSum(tf1.subtract(logits, labels), 0, true),
      ],
      feeds,
    );
    const [zt, pt] = [nb.tensor(z), nb.tensor(p)];
    const near = (a: nb.Tensor, b: nb.Tensor) =>
      a.dataSync().forEach((v, i) => assert.ok(Math.abs(v - b.dataSync()[i]!) < 1e-6));
    near(ce, nb.nn.functional.crossEntropy(zt, pt, { reduction: 'none' }));
    near(bce, nb.nn.functional.bceWithLogits(zt, pt, { reduction: 'none' }));
    near(quotient, zt.div(2));
    assert.deepEqual(biggest.toArray(), [3, 2]);
    near(mean, zt.mul(pt).mean());
    assert.deepEqual(total.shape, [1, 3]);
    const u = tf1.randomUniform([1000], -2, 3);
    assert.ok(u.min().item() >= -2 && u.max().item() < 3);
    assert.equal(tf1.constant([1, 2], 'int32').dtype, 'int32');
  });
});

describe('plan cache', () => {
  test('a Session keeps at most 32 plans, dropping the least recently used', () => {
    const g = new tf1.Graph();
    const X = tf1.placeholder('float32', [null, 2], 'X', g);
    const total = tf1.reduceSum(tf1.mul(X, 2));
    const sess = new tf1.Session(g);
    const plans = (sess as unknown as { plans: Map<string, unknown> }).plans;
    const run = (n: number): number => sess.run(total, new Map([[X, nb.ones([n, 2])]])).item();
    for (let n = 1; n <= 40; n++) assert.equal(run(n), 4 * n);
    assert.equal(plans.size, 32);
    const newest = [...plans.keys()].at(-1);
    run(9); // the oldest kept: used again, it becomes the newest
    assert.equal(plans.size, 32);
    assert.notEqual([...plans.keys()].at(-1), newest);
    assert.equal(run(1), 4); // dropped before: planned again, and still right
  });
});
