/** Autograd semantics: the lecture's examples, accumulation, retain/create graph, grad, customOp. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import * as tf1 from '../src/tf1.js';

const close = (a: number, b: number, tol = 1e-6): void =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

describe("the lecture's worked example", () => {
  test('J = ((w·x + b) − y)² at x=2, y=5, w=3, b=4, and one SGD step with α = 0.1', () => {
    const [x, y] = [nb.tensor(2), nb.tensor(5)];
    const w = nb.tensor(3, { requiresGrad: true });
    const b = nb.tensor(4, { requiresGrad: true });
    const J = w.mul(x).add(b).sub(y).square();
    J.backward();
    assert.equal(J.item(), 25);
    assert.equal(w.grad!.item(), 20);
    assert.equal(b.grad!.item(), 10);
    nb.noGrad(() => {
      w.dataSync()[0] = w.sub(w.grad!.mul(0.1)).item();
      b.dataSync()[0] = b.sub(b.grad!.mul(0.1)).item();
    });
    close(w.item(), 1);
    close(b.item(), 3);
  });

  test('σ′(x) = σ(x)(1 − σ(x)), by autograd', () => {
    for (const v of [-3, -0.5, 0, 0.7, 4]) {
      const x = nb.tensor(v, { dtype: 'float64', requiresGrad: true });
      const s = x.sigmoid();
      s.backward();
      const sv = 1 / (1 + Math.exp(-v));
      close(s.item(), sv, 1e-12);
      close(x.grad!.item(), sv * (1 - sv), 1e-12);
    }
  });
});

describe('backward', () => {
  test('gradients accumulate until cleared', () => {
    const x = nb.tensor([1, 2], { requiresGrad: true });
    x.mul(3).sum().backward();
    x.mul(3).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [6, 6]);
    x.grad = null;
    x.square().sum().backward();
    assert.deepEqual(x.grad!.toArray(), [2, 4]);
  });

  test('a tensor used twice receives the sum of both paths', () => {
    const x = nb.tensor(3, { requiresGrad: true });
    x.mul(x).add(x).backward(); // d/dx (x² + x) = 2x + 1
    assert.equal(x.grad!.item(), 7);
  });

  test('broadcast inputs get gradients of their own shape', () => {
    const a = nb.ones([2, 3], { requiresGrad: true });
    const b = nb.ones([3], { requiresGrad: true });
    a.add(b).sum().backward();
    assert.deepEqual(b.grad!.toArray(), [2, 2, 2]);
    assert.deepEqual(a.grad!.shape, [2, 3]);
  });

  test('a chain of 100,000 ops does not overflow the stack', () => {
    const x = nb.tensor(1, { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 100_000; i++) y = y.add(1);
    y.backward();
    assert.equal(x.grad!.item(), 1);
  });

  test('non-leaf tensors keep .grad only with retainGrad()', () => {
    const x = nb.tensor(2, { requiresGrad: true });
    const h = x.mul(3).retainGrad();
    const k = h.mul(1);
    k.square().backward();
    assert.equal(h.grad!.item(), 12); // 2h
    assert.equal(k.grad, null);
    assert.equal(x.grad!.item(), 36);
  });

  test('retainGraph allows a second backward; without it the second one fails clearly', () => {
    const x = nb.tensor(2, { requiresGrad: true });
    const y = x.square();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assert.equal(x.grad!.item(), 8);
    assert.throws(() => y.backward(), /backward through the graph a second time.*retainGraph/);
  });

  test('createGraph gives higher-order derivatives: d²/dx² x³ = 6x, d³/dx³ = 6', () => {
    const x = nb.tensor(2, { dtype: 'float64', requiresGrad: true });
    const [d1] = nb.grad(x.pow(3), x, { createGraph: true });
    const [d2] = nb.grad(d1!, x, { createGraph: true });
    const [d3] = nb.grad(d2!, x);
    assert.equal(d1!.item(), 12);
    assert.equal(d2!.item(), 12);
    assert.equal(d3!.item(), 6);
  });

  test('backward(createGraph) leaves a differentiable .grad', () => {
    const x = nb.tensor(3, { requiresGrad: true });
    x.pow(2).backward(undefined, { createGraph: true });
    const g = x.grad!;
    assert.equal(g.requiresGrad, true);
    x.grad = null;
    g.backward();
    assert.equal(x.grad!.item(), 2);
  });

  test('non-scalar outputs take an explicit gradOutput', () => {
    const x = nb.tensor([1, 2, 3], { requiresGrad: true });
    x.mul(2).backward(nb.tensor([1, 0, -1]));
    assert.deepEqual(x.grad!.toArray(), [2, 0, -2]);
  });
});

describe('weights used transposed (x·Wᵀ, as nn.Linear does)', () => {
  nb.manualSeed(5);
  const x = nb.randn([64, 300]);
  const dy = nb.randn([64, 40]);
  const w = nb.randn([40, 300]);
  // The reference: the same product with Wᵀ as a plain matrix, its gradient transposed back.
  const plain = w.transpose(0, 1).contiguous().requiresGrad_();
  nb.matmul(x, plain).mul(dy).sum().backward();
  const expected = Array.from(plain.grad!.transpose(0, 1).contiguous().dataSync());

  test('get a dense gradient with the same floats as the plain product', () => {
    const W = w.clone().requiresGrad_();
    nb.matmul(x, W.transpose(0, 1)).mul(dy).sum().backward();
    assert.ok(W.grad!.isContiguous);
    assert.deepEqual(Array.from(W.grad!.dataSync()), expected);
  });

  test('in a graph too, where the gradient is the product itself (no copy node)', () => {
    const g = new tf1.Graph();
    const W = tf1.placeholder('float32', [40, 300], 'W', g);
    const loss = tf1.sum(tf1.mul(tf1.matmul(x, tf1.transpose(W, 0, 1)), dy));
    const [dW] = tf1.gradients(loss, [W]);
    assert.equal(dW!.gradFn?.name, 'MatMul');
    const sess = new tf1.Session(g);
    assert.deepEqual(Array.from(sess.run(dW!, new Map([[W, w]])).dataSync()), expected);
  });
});

describe('graph control', () => {
  test('detach shares memory and cuts the graph', () => {
    const x = nb.tensor([1, 2], { requiresGrad: true });
    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    d.dataSync()[0] = 5;
    assert.equal(x.toArray()[0 as never], 5);
    const y = x.mul(d).sum();
    y.backward();
    assert.deepEqual(x.grad!.toArray(), [5, 2]);
  });

  test('noGrad records nothing and returns its result', () => {
    const x = nb.tensor(1, { requiresGrad: true });
    const y = nb.noGrad(() => x.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
    assert.equal(nb.isGradEnabled(), true);
  });

  test('gradFn names the op; leaves have none', () => {
    const x = nb.tensor(1, { requiresGrad: true });
    assert.equal(x.isLeaf, true);
    const y = x.mul(2);
    assert.equal(y.isLeaf, false);
    assert.equal(y.gradFn?.name, 'Mul');
  });

  test('nb.grad returns gradients without touching .grad, also for non-leaf inputs', () => {
    const x = nb.tensor([1, 2], { requiresGrad: true });
    const h = x.mul(x);
    const y = h.mul(3).sum();
    const [dx, dh] = nb.grad(y, [x, h]);
    assert.deepEqual(dx!.toArray(), [6, 12]);
    assert.deepEqual(dh!.toArray(), [3, 3]);
    assert.equal(x.grad, null);
  });

  test('nb.grad reports unused inputs unless allowUnused', () => {
    const x = nb.tensor(1, { requiresGrad: true });
    const z = nb.tensor(1, { requiresGrad: true });
    assert.throws(() => nb.grad(x.mul(2), [x, z]), /not used.*allowUnused/);
    assert.equal(nb.grad(x.mul(2), [x, z], { allowUnused: true })[1]!.item(), 0);
  });
});

describe('customOp and registerGradient', () => {
  test('a backward learns which inputs need a gradient (needsGrad), and may skip the others', () => {
    const seen: (readonly boolean[] | undefined)[] = [];
    const scale = nb.customOp({
      name: 'TestScale',
      forward: (x, s) => x.mul(s),
      backward: ({ inputs: [x, s], needsGrad }, dy) => {
        seen.push(needsGrad);
        return [dy.mul(s!), needsGrad?.[1] === false ? null : dy.mul(x!).sum()];
      },
    });
    const x = nb.tensor([1, 2], { requiresGrad: true });
    scale(x, nb.tensor(3)).sum().backward();
    assert.deepEqual(seen, [[true, false]]);
    assert.deepEqual([...x.grad!.dataSync()], [3, 3]);
  });
  test('a custom op uses its own backward, which can be differentiated again', () => {
    let forwardCalls = 0;
    const cube = nb.customOp({
      name: 'TestCube',
      forward: (x) => {
        forwardCalls++;
        return x.mul(x).mul(x);
      },
      backward: ({ inputs: [x] }, dy) => [dy.mul(x!.square()).mul(3)],
    });
    const x = nb.tensor(2, { dtype: 'float64', requiresGrad: true });
    const y = cube(x);
    assert.equal(y.item(), 8);
    assert.equal(y.gradFn?.name, 'TestCube');
    const [d1] = nb.grad(y, x, { createGraph: true });
    const [d2] = nb.grad(d1!, x);
    assert.equal(d1!.item(), 12);
    assert.equal(d2!.item(), 12);
    assert.equal(forwardCalls, 1);
    assert.ok(nb.gradcheck((t) => cube(t), [nb.randn([4])], { order: 2 }).ok);
  });

  test('registerGradient replaces an op gradient for later passes', () => {
    const ident = nb.customOp({
      name: 'TestIdentity',
      forward: (x) => x.mul(1),
      backward: (_, dy) => [dy],
    });
    const x = nb.tensor(1, { requiresGrad: true });
    nb.registerGradient('TestIdentity', (_op, dy: nb.Tensor) => [dy.mul(10)]);
    ident(x).backward();
    assert.equal(x.grad!.item(), 10);
    assert.throws(
      () => nb.registerGradient('NoSuchOp', (_op, dy: nb.Tensor) => [dy]),
      /no op named 'NoSuchOp'/,
    );
  });
});

describe('gradcheck', () => {
  test('reports a wrong gradient with the offending elements', () => {
    const wrong = nb.customOp({
      name: 'TestWrongSquare',
      forward: (x) => x.square(),
      backward: ({ inputs: [x] }, dy) => [dy.mul(x!)], // should be 2x
    });
    const report = nb.gradcheck((x) => wrong(x), [nb.tensor([1, 2])]);
    assert.equal(report.ok, false);
    assert.ok(report.maxError > 0.5);
    assert.match(report.failures[0]!, /input 0, element 0/);
  });
});
