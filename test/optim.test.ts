/** Optimizers reproduce PyTorch's trajectories; schedulers follow PyTorch's formulas. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import { assertClose } from './helpers/golden.js';
import { goldenPath } from './helpers/files.js';

interface Run {
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, number | boolean | number[]>;
  steps: { weight: number[]; bias: number[] }[];
}
const golden = JSON.parse(readFileSync(goldenPath('optim.json'), 'utf8')) as {
  torch: string;
  w0: number[];
  b0: number[];
  x: number[];
  y: number[];
  runs: Record<string, Run>;
};

function makeOptimizer(run: Run, params: nb.Tensor[]): nb.optim.Optimizer {
  const o = run.options;
  const common = { lr: o['lr'] as number, weightDecay: (o['weight_decay'] as number) ?? undefined };
  if (run.optimizer === 'SGD') {
    return new nb.optim.SGD(params, {
      ...common,
      momentum: (o['momentum'] as number) ?? 0,
      dampening: (o['dampening'] as number) ?? 0,
      nesterov: (o['nesterov'] as boolean) ?? false,
    });
  }
  const betas = o['betas'] as [number, number] | undefined;
  const Kind = run.optimizer === 'Adam' ? nb.optim.Adam : nb.optim.AdamW;
  return new Kind(params, { ...common, ...(betas && { betas }) });
}

describe(`optimizers follow PyTorch ${golden.torch} step by step`, () => {
  for (const [name, run] of Object.entries(golden.runs)) {
    test(name, () => {
      const model = new nb.nn.Linear(4, 3);
      nb.noGrad(() => {
        model.weight.copy_(nb.tensor(golden.w0, { shape: [3, 4] }));
        model.bias!.copy_(nb.tensor(golden.b0));
      });
      const x = nb.tensor(golden.x, { shape: [8, 4] });
      const y = nb.tensor(golden.y, { shape: [8, 3] });
      const opt = makeOptimizer(run, model.parameters());
      run.steps.forEach((expected, i) => {
        opt.zeroGrad();
        nb.nn.functional.mse(model.forward(x), y).backward();
        opt.step();
        assertClose(model.weight.dataSync(), expected.weight, 1e-5, 1e-7, `step ${i + 1} weight`);
        assertClose(model.bias!.dataSync(), expected.bias, 1e-5, 1e-7, `step ${i + 1} bias`);
      });
    });
  }
});

describe('optimizer behaviour', () => {
  test('parameters without a gradient are left alone; state round-trips', () => {
    const a = nb.ones([2], { requiresGrad: true });
    const b = nb.ones([2], { requiresGrad: true });
    const opt = new nb.optim.Adam([a, b], { lr: 0.1 });
    a.sum().backward();
    opt.step();
    assert.deepEqual(b.toArray(), [1, 1]);
    assert.ok((a.toArray() as number[])[0]! < 1);
    const state = opt.stateDict();
    assert.equal(state.state[0]!.step, 1);
    const other = new nb.optim.Adam([a, b], { lr: 0.5 });
    other.loadStateDict(state);
    assert.equal(other.lr, 0.1);
  });

  test('options are checked as PyTorch checks them, naming the option', () => {
    const p = [nb.ones([1], { requiresGrad: true })];
    const frozen = new nb.optim.SGD(p, { lr: 0 }); // PyTorch accepts lr = 0
    p[0]!.sum().backward();
    frozen.step();
    assert.deepEqual(p[0]!.toArray(), [1]);
    assert.throws(
      () => new nb.optim.Adam(p, { betas: [1.5, 2] }),
      (e: unknown) =>
        e instanceof nb.NablaError &&
        /Adam: betas must be two numbers in \[0, 1\), got \[1\.5,2\]/.test(e.message),
    );
    assert.throws(
      () => new nb.optim.AdamW(p, { eps: -1 }),
      /AdamW: eps must be a number >= 0, got -1/,
    );
    assert.throws(() => new nb.optim.SGD(p, { lr: 0.1, momentum: -0.5 }), /SGD: momentum must be/);
    assert.throws(
      () => new (nb.optim.SGD as unknown as new (p: nb.Tensor[]) => nb.optim.SGD)(p),
      (e: unknown) =>
        e instanceof nb.NablaError &&
        /SGD: needs options with a learning rate: new nb\.optim\.SGD\(params, \{ lr: 0\.1 \}\)/.test(
          e.message,
        ),
    );
    assert.throws(() => (frozen.lr = NaN), /lr must be a number >= 0, got NaN/);
  });

  test('Adam reads subnormal moments of large float32 parameters as zero, other values as they are', () => {
    const [subnormal, minNormal] = [2 ** -140, 2 ** -126];
    const beta1 = Math.fround(0.9);
    /** The first four moments after a step with zero gradients from the given first four. */
    const step = (size: number, dtype: 'float32' | 'float64', head: number[]) => {
      const p = nb.ones([size], { dtype, requiresGrad: true });
      const opt = new nb.optim.Adam([p], { lr: 0.1 });
      const moment = (values: number[]): nb.Tensor =>
        nb.tensor([...values, ...new Array<number>(size - values.length).fill(0)], { dtype });
      const tensors = { expAvg: moment(head), expAvgSq: moment([subnormal, 1, 1, 1]) };
      opt.loadStateDict({ lr: 0.1, state: [{ step: 1, tensors }] });
      p.grad = nb.zeros([size], { dtype });
      opt.step();
      const state = opt.stateDict().state[0]!.tensors;
      const first = (t: nb.Tensor): number[] => [...t.dataSync().slice(0, 4)];
      return { m: first(state['expAvg']!), v: first(state['expAvgSq']!), p: first(p) };
    };
    // From 4,096 elements (the compiled update): subnormals read as zero; NaN stays NaN.
    const large = step(6400, 'float32', [subnormal, -subnormal, minNormal, NaN]);
    assert.deepEqual(large.m, [0, 0, Math.fround(beta1 * minNormal), NaN]);
    assert.equal(large.v[0], 0);
    assert.deepEqual(large.p, [1, 1, 1, NaN]);
    // Small parameters (op by op) and float64 ones keep them, as PyTorch does.
    const small = step(4, 'float32', [subnormal, 0, 0, 0]);
    assert.equal(small.m[0], Math.fround(beta1 * subnormal));
    assert.ok(small.m[0]! > 0);
    assert.equal(step(6400, 'float64', [subnormal, 0, 0, 0]).m[0], 0.9 * subnormal);
  });

  test('bad arguments are reported', () => {
    assert.throws(() => new nb.optim.SGD([], { lr: 0.1 }), /empty parameter list/);
    assert.throws(
      () => new nb.optim.SGD([nb.ones([1])], { lr: 0.1 }),
      /parameter 0 is not a tensor that requires grad/,
    );
    assert.throws(
      () => new nb.optim.SGD([nb.ones([1], { requiresGrad: true })], { lr: -1 }),
      /SGD: lr must be a number >= 0, got -1/,
    );
    assert.throws(
      () => new nb.optim.SGD([nb.ones([1], { requiresGrad: true })], { lr: 0.1, nesterov: true }),
      /Nesterov momentum needs momentum > 0/,
    );
  });
});

describe('the compiled (fused) update gives the op-by-op floats', () => {
  type Rule = (
    param: nb.Tensor,
    grad: nb.Tensor,
    state: nb.optim.RuleState,
    lr: number,
    step: number,
  ) => { param: nb.Tensor; state: nb.optim.RuleState };
  /**
   * An optimizer's steps on one 6,400-element parameter (its compiled update) against its rule
   * applied op by op, through 4 steps with a learning-rate change in between: the same floats
   * (both round every op to float32, as PyTorch does). `size` is the parameter's shape.
   */
  const compare = (
    make: (params: nb.Tensor[], lr: number) => nb.optim.Optimizer,
    rule: Rule,
    shape: number[] = [80, 80],
  ): void => {
    nb.manualSeed(31);
    const init = nb.randn(shape);
    const grads = [1, 2, 3, 4].map(() => nb.randn(shape));
    const param = init.clone().requiresGrad_();
    const opt = make([param], 0.01);
    let [reference, state]: [nb.Tensor, nb.optim.RuleState] = [init.clone(), {}];
    grads.forEach((g, step) => {
      if (step === 2) opt.lr = 0.005; // a scheduler's change must reach the update
      param.grad = g.clone();
      opt.step();
      nb.noGrad(() => {
        ({ param: reference, state } = rule(reference, g, state, opt.lr, step + 1));
      });
    });
    const [a, b] = [param.dataSync(), reference.dataSync()];
    a.forEach((v, i) => assert.ok(Object.is(v, b[i]), `${i}: ${v} vs ${b[i]}`));
  };
  const adam =
    (weightDecay: number, decoupled: boolean): Rule =>
    (param, grad, state, lr, step) => {
      const h = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, decoupled };
      return nb.optim.adamRule(param, grad, state, h, step);
    };
  const sgd =
    (momentum: number, dampening: number, nesterov: boolean, weightDecay: number): Rule =>
    (param, grad, state, lr, step) =>
      nb.optim.sgdRule(
        param,
        grad,
        state,
        { lr, momentum, dampening, nesterov, weightDecay },
        step,
      );
  test("Adam and AdamW (compiled at every size, XOR's 8 elements too)", () => {
    for (const shape of [[80, 80], [8]]) {
      compare((params, lr) => new nb.optim.Adam(params, { lr }), adam(0, false), shape);
      compare(
        (params, lr) => new nb.optim.AdamW(params, { lr, weightDecay: 0.1 }),
        adam(0.1, true),
        shape,
      );
    }
  });
  test('SGD with momentum and dampening, and with Nesterov momentum', () => {
    compare(
      (params, lr) => new nb.optim.SGD(params, { lr, momentum: 0.9, dampening: 0.1 }),
      sgd(0.9, 0.1, false, 0),
    );
    compare(
      (params, lr) =>
        new nb.optim.SGD(params, { lr, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
      sgd(0.9, 0, true, 1e-3),
    );
  });
});

describe('learning-rate schedulers', () => {
  const opt = (): nb.optim.Optimizer =>
    new nb.optim.SGD([nb.ones([1], { requiresGrad: true })], { lr: 1 });
  const run = (sched: { step(): void; getLastLr(): number }, n: number): number[] =>
    Array.from({ length: n }, () => (sched.step(), +sched.getLastLr().toFixed(10)));

  test('StepLR, ExponentialLR, CosineAnnealingLR', () => {
    assert.deepEqual(run(new nb.optim.StepLR(opt(), 2, 0.5), 5), [1, 0.5, 0.5, 0.25, 0.25]);
    assert.deepEqual(run(new nb.optim.ExponentialLR(opt(), 0.5), 3), [0.5, 0.25, 0.125]);
    assert.deepEqual(
      run(new nb.optim.CosineAnnealingLR(opt(), 4, 0), 4),
      [0.8535533906, 0.5, 0.1464466094, 0],
    );
  });

  test('ReduceLROnPlateau waits `patience` bad epochs, then multiplies by factor', () => {
    const o = opt();
    const sched = new nb.optim.ReduceLROnPlateau(o, { patience: 1, factor: 0.5 });
    const lrs = [1, 0.9, 0.95, 0.95, 0.95, 0.8].map((loss) => (sched.step(loss), o.lr));
    assert.deepEqual(lrs, [1, 1, 1, 0.5, 0.5, 0.5]);
  });
});

describe('optimizer memory', () => {
  test('a saved state dict stays readable after later steps free the live state', () => {
    const p = nb.ones([4], { requiresGrad: true });
    const opt = new nb.optim.Adam([p], { lr: 0.1 });
    p.sum().backward();
    opt.step();
    const saved = opt.stateDict();
    const m = saved.state[0]!.tensors['expAvg']!.toArray();
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      p.sum().backward();
      opt.step();
    }
    assert.deepEqual(saved.state[0]!.tensors['expAvg']!.toArray(), m);
  });
});
