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
    assert.equal(traces, 3); // one per signature, and the check of what it froze at the 4th call
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

describe('what a compiled step follows, as eager code does', () => {
  /** p starts at 0 and its gradient is 1, so each SGD step moves it by −lr. */
  function sgdOnOne(lr: number) {
    const p = nb.zeros([1], { requiresGrad: true });
    const opt = new nb.optim.SGD([p], { lr });
    const step = nb.jit(() => {
      opt.zeroGrad();
      const loss = p.sum();
      loss.backward();
      opt.step();
      return loss;
    });
    return { p, opt, step };
  }

  test('the learning rate a scheduler sets, and opt.lr = 0', () => {
    const { p, opt, step } = sgdOnOne(1);
    const sched = new nb.optim.ExponentialLR(opt, 0.1);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = p.item();
      step();
      seen.push(before - p.item());
      sched.step();
    }
    close(seen, [1, 0.1, 0.01], 1e-6);
    opt.lr = 0;
    const before = p.item();
    step();
    assert.equal(p.item(), before);
  });

  test('dropout draws a new mask every call, and eval() switches it off', () => {
    nb.manualSeed(3);
    const model = new nb.nn.Sequential(new nb.nn.Dropout(0.5));
    const forward = nb.jit((x: nb.Tensor) => model.forward(x));
    const x = nb.ones([256]);
    const [a, b] = [forward(x).toArray(), forward(x).toArray()] as number[][];
    assert.notDeepEqual(a, b);
    for (const mask of [a!, b!]) {
      assert.ok(mask.every((v) => v === 0 || v === 2));
      const kept = mask.filter((v) => v === 2).length;
      assert.ok(kept > 90 && kept < 166, `kept ${kept} of 256`);
    }
    model.eval();
    assert.deepEqual(forward(x).toArray(), x.toArray());
    model.train();
    assert.ok((forward(x).toArray() as number[]).some((v) => v === 0));
  });

  test('a closed-over number that changes is named in a warning and followed from then on', () => {
    let scale = 2;
    const f = nb.jit((x: nb.Tensor) => x.mul(scale));
    const x = nb.tensor([1, 2]);
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (message: string) => warnings.push(message);
    try {
      assert.deepEqual(f(x).toArray(), [2, 4]);
      scale = 3;
      assert.deepEqual(f(x).toArray(), [3, 6]); // the second call checks what the first froze
      scale = 4;
      assert.deepEqual(f(x).toArray(), [4, 8]);
    } finally {
      console.warn = original;
    }
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /nb\.jit: a value the function reads from JavaScript changed after it was compiled: made while tracing: the number 2 became made while tracing: the number 3\. It is traced on every call from now on/,
    );
  });

  test('a closed-over tensor rebound to another is noticed; one changed in place is followed', () => {
    let w = nb.tensor([1, 1]);
    const f = nb.jit((x: nb.Tensor) => x.mul(w));
    const x = nb.tensor([1, 2]);
    const original = console.warn;
    console.warn = () => {};
    try {
      assert.deepEqual(f(x).toArray(), [1, 2]);
      w.dataSync()[0] = 5;
      assert.deepEqual(f(x).toArray(), [5, 2]);
      w = nb.tensor([3, 3]);
      // Checks come on calls 4, 8, 16, … as far as 2% of the time allows: a tiny step gets fewer.
      let calls = 2;
      while (calls < 4096 && (f(x).toArray() as number[])[0] !== 3) calls++;
      assert.ok(calls < 4096, 'never noticed');
      assert.deepEqual(f(x).toArray(), [3, 6]);
    } finally {
      console.warn = original;
    }
  });

  test('a jitted opt.step() alone, after eager backward, updates large parameters as eager does', () => {
    // Parameters from 4,096 elements take the optimizer's own compiled update when eager.
    const make = () => {
      nb.manualSeed(3);
      const layer = new nb.nn.Linear(80, 64);
      return { layer, opt: new nb.optim.Adam(layer.parameters(), { lr: 0.01 }) };
    };
    const [eager, jitted] = [make(), make()];
    const update = nb.jit(() => jitted.opt.step());
    const x = nb.randn([8, 80]);
    const original = console.warn;
    console.warn = () => {}; // the gradients it reads are new tensors every call: a warning
    try {
      for (let i = 0; i < 5; i++) {
        for (const [run, step] of [
          [eager, () => eager.opt.step()],
          [jitted, update],
        ] as const) {
          run.opt.zeroGrad();
          run.layer.forward(x).square().mean().backward();
          step();
        }
      }
    } finally {
      console.warn = original;
    }
    const [we, wj] = [eager.layer.weight.dataSync(), jitted.layer.weight.dataSync()];
    assert.ok(wj.every(Number.isFinite), 'the jitted update wrote non-finite weights');
    close(we, wj, 1e-6);
  });

  test('plans are bounded: the least recently used goes first', () => {
    let traces = 0;
    const f = nb.jit(
      (x: nb.Tensor) => {
        traces++;
        return x.add(1);
      },
      { maxPlans: 2 },
    );
    for (const n of [1, 2, 3, 1]) f(nb.zeros([n]));
    assert.equal(traces, 4); // [1] was dropped when [3] came
    assert.throws(() => nb.jit((x: nb.Tensor) => x, { maxPlans: 0 }), /maxPlans must be/);
  });
});
