/** nb.jit: the traced-and-replayed step gives eager mode's numbers, re-traces per signature. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';

function setup(kind: 'sgd' | 'adam' | 'adamw') {
  nb.manualSeed(1);
  const model = new nb.nn.Sequential(
    new nb.nn.Linear(4, 8),
    new nb.nn.Tanh(),
    new nb.nn.Linear(8, 3),
  );
  const params = model.parameters();
  const opt =
    kind === 'sgd'
      ? new nb.optim.SGD(params, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 })
      : kind === 'adam'
        ? new nb.optim.Adam(params, { lr: 0.05 })
        : new nb.optim.AdamW(params, { lr: 0.05 });
  const step = (x: nb.Tensor, y: nb.Tensor): nb.Tensor => {
    const loss = nb.nn.functional.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss;
  };
  return { model, opt, step };
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void => {
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${i}: ${a[i]} vs ${b[i]}`);
};

describe('nb.jit', () => {
  nb.manualSeed(9);
  const x = nb.randn([16, 4]);
  const y = nb.randint(0, 3, [16]);

  for (const kind of ['sgd', 'adam', 'adamw'] as const) {
    test(`a training step with ${kind} gives eager's losses and weights`, () => {
      const eager = setup(kind);
      const jitted = setup(kind);
      const step = nb.jit(jitted.step);
      for (let i = 0; i < 30; i++) {
        const [le, lj] = [eager.step(x, y).item(), step(x, y).item()];
        assert.ok(Math.abs(le - lj) <= 1e-5 * Math.abs(le) + 1e-7, `step ${i}: ${le} vs ${lj}`);
      }
      const [pe, pj] = [eager.model.parameters(), jitted.model.parameters()];
      pe.forEach((p, i) => close(p.dataSync(), pj[i]!.dataSync(), 1e-5));
      // Gradients are set on the parameters after each call, as backward() would.
      pe.forEach((p, i) =>
        close(p.grad!.contiguous().dataSync(), pj[i]!.grad!.contiguous().dataSync(), 1e-5),
      );
    });
  }

  test('re-traces for a new input signature; eager and jitted steps mix', () => {
    const a = setup('adam');
    const b = setup('adam');
    let traces = 0;
    const step = nb.jit((xb: nb.Tensor, yb: nb.Tensor) => {
      traces++;
      return b.step(xb, yb);
    });
    const small = [x.narrow(0, 0, 8), y.narrow(0, 0, 8)] as const;
    for (let i = 0; i < 3; i++) {
      a.step(x, y);
      step(x, y);
      a.step(...small);
      step(...small);
    }
    assert.equal(traces, 2);
    b.step(x, y); // an eager step after jitted ones continues the same optimizer state
    a.step(x, y);
    a.model
      .parameters()
      .forEach((p, i) => close(p.dataSync(), b.model.parameters()[i]!.dataSync(), 1e-5));
  });

  test('returns structures of tensors; reading values while tracing is an error', () => {
    const f = nb.jit((u: nb.Tensor) => ({ double: u.mul(2), parts: [u.sum(), u.max()] }));
    const out = f(nb.tensor([1, 2, 3]));
    assert.deepEqual(out.double.toArray(), [2, 4, 6]);
    assert.deepEqual(
      out.parts.map((t) => t.item()),
      [6, 3],
    );
    const bad = nb.jit((u: nb.Tensor) => nb.tensor(u.sum().item()));
    assert.throws(
      () => bad(nb.ones([2])),
      /symbolic tensor of a graph, with no value outside a session/,
    );
  });
});
