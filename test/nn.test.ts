/** nn.Module mechanics, layers and initialisers. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import * as nb from '../src/index.js';
import { goldenPath } from './helpers/files.js';

class TwoLayer extends nb.nn.Module {
  readonly fc1 = new nb.nn.Linear(3, 4);
  readonly act = new nb.nn.Tanh();
  readonly fc2 = new nb.nn.Linear(4, 2, { bias: false });
  readonly scale = nb.nn.parameter(nb.ones([1]));
  forward(x: nb.Tensor): nb.Tensor {
    return this.fc2.forward(this.act.forward(this.fc1.forward(x))).mul(this.scale);
  }
}

describe('Module', () => {
  test('parameters are found in fields and children, in order, with dotted names', () => {
    const names = [...new TwoLayer().namedParameters()].map(
      ([n, p]) => `${n}:${p.shape.join('x')}`,
    );
    assert.deepEqual(names, ['scale:1', 'fc1.weight:4x3', 'fc1.bias:4', 'fc2.weight:2x4']);
    const seq = new nb.nn.Sequential(
      new nb.nn.Linear(2, 3),
      new nb.nn.ReLU(),
      new nb.nn.Linear(3, 1),
    );
    assert.deepEqual(Object.keys(seq.stateDict()), ['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  test('train/eval reach every child; zeroGrad clears gradients', () => {
    const model = new nb.nn.Sequential(new nb.nn.Linear(2, 2), new nb.nn.Dropout(0.5));
    model.eval();
    assert.equal(model.layers[1]!.training, false);
    model
      .forward(nb.ones([1, 2]))
      .sum()
      .backward();
    assert.ok(model.parameters().every((p) => p.grad));
    model.zeroGrad();
    assert.ok(model.parameters().every((p) => p.grad === null));
  });

  test('stateDict / loadStateDict round-trip; bad dicts are refused whole', () => {
    const a = new TwoLayer();
    const b = new TwoLayer();
    b.loadStateDict(a.stateDict());
    const x = nb.randn([5, 3]);
    assert.deepEqual(b.forward(x).toArray(), a.forward(x).toArray());
    const { ['fc1.bias']: _dropped, ...missing } = a.stateDict();
    assert.throws(() => b.loadStateDict(missing), /missing keys: fc1.bias/);
    assert.throws(
      () => b.loadStateDict({ ...a.stateDict(), extra: nb.ones([1]) }),
      /unexpected keys: extra/,
    );
    const before = b.fc1.weight.toArray();
    assert.throws(
      () =>
        b.loadStateDict({ ...a.stateDict(), scale: nb.zeros([1]), 'fc1.weight': nb.ones([3, 4]) }),
      /fc1.weight: shape \[3, 4\] in the state dict, \[4, 3\] in the model/,
    );
    assert.deepEqual(b.fc1.weight.toArray(), before);
    b.loadStateDict(missing, { strict: false });
  });

  test('a disposed tensor or a null value is refused before anything is copied', () => {
    const a = new TwoLayer();
    const b = new TwoLayer();
    const before = b.stateDict();
    const snapshot = Object.fromEntries(Object.entries(before).map(([k, t]) => [k, t.toArray()]));
    const gone = a.stateDict();
    gone['fc1.bias']!.dispose(); // the second entry; fc1.weight comes first
    assert.throws(() => b.loadStateDict(gone), /loadStateDict: fc1\.bias: the tensor was disposed/);
    const nulled = { ...a.stateDict(), 'fc2.weight': null as unknown as nb.Tensor };
    assert.throws(() => b.loadStateDict(nulled), /fc2\.weight: null is not a tensor/);
    assert.throws(() => b.loadStateDict(nulled, { strict: false }), /null is not a tensor/);
    for (const [k, t] of Object.entries(b.stateDict()))
      assert.deepEqual(t.toArray(), snapshot[k], k);
  });

  test('to("cpu") keeps the model; other devices are refused', () => {
    const model = new TwoLayer();
    assert.equal(model.to('cpu'), model);
  });
});

describe('layers', () => {
  test('Linear computes x·Wᵀ + b and checks its input width', () => {
    const fc = new nb.nn.Linear(2, 1);
    nb.noGrad(() => {
      fc.weight.copy_(nb.tensor([[2, -1]]));
      fc.bias!.copy_(nb.tensor([0.5]));
    });
    assert.deepEqual(
      fc
        .forward(
          nb.tensor([
            [1, 1],
            [3, 2],
          ]),
        )
        .toArray(),
      [[1.5], [4.5]],
    );
    assert.throws(() => fc.forward(nb.ones([2, 3])), /Linear: expected inputs with 2 features/);
  });

  test("Linear's default init is PyTorch's: U(±1/√fanIn) for weight and bias", () => {
    nb.manualSeed(0);
    const fc = new nb.nn.Linear(400, 300);
    const bound = 1 / Math.sqrt(400);
    assert.ok(fc.weight.abs().max().item() <= bound);
    assert.ok(fc.weight.abs().max().item() > 0.99 * bound);
    const std = Math.sqrt(fc.weight.square().mean().item());
    assert.ok(Math.abs(std - bound / Math.sqrt(3)) < 0.002);
    assert.ok(fc.bias!.abs().max().item() <= bound);
  });

  test('activations and Softmax', () => {
    const x = nb.tensor([[-1, 0, 2]]);
    assert.deepEqual(new nb.nn.ReLU().forward(x).toArray(), [[0, 0, 2]]);
    assert.deepEqual(new nb.nn.LeakyReLU(0.5).forward(x).toArray(), [[-0.5, 0, 2]]);
    assert.deepEqual(new nb.nn.Identity().forward(x), x);
    const p = new nb.nn.Softmax(1).forward(x);
    assert.ok(Math.abs(p.sum().item() - 1) < 1e-6);
    assert.deepEqual(new nb.nn.Flatten().forward(nb.ones([2, 3, 4])).shape, [2, 12]);
  });

  test('Dropout zeroes about p of the inputs while training and scales the rest', () => {
    nb.manualSeed(1);
    const drop = new nb.nn.Dropout(0.25);
    const y = drop.forward(nb.ones([10000]));
    const kept = y.gt(0).sum().item() / 10000;
    assert.ok(Math.abs(kept - 0.75) < 0.02);
    assert.ok(Math.abs(y.max().item() - 1 / 0.75) < 1e-6);
    drop.eval();
    assert.deepEqual(drop.forward(nb.ones([3])).toArray(), [1, 1, 1]);
    assert.throws(() => new nb.nn.Dropout(1), /p must be in \[0, 1\)/);
  });
});

describe('init', () => {
  test('gains and fans follow PyTorch', () => {
    assert.equal(nb.nn.init.calculateGain('relu'), Math.SQRT2);
    assert.equal(nb.nn.init.calculateGain('tanh'), 5 / 3);
    assert.deepEqual(nb.nn.init.fans(nb.zeros([8, 3, 2, 2])), [12, 32]);
  });

  test('xavier and kaiming produce the right spreads', () => {
    nb.manualSeed(2);
    const w = nb.zeros([300, 200]);
    const std = (): number => Math.sqrt(w.square().mean().item());
    nb.nn.init.xavierUniform(w);
    assert.ok(Math.abs(std() - Math.sqrt(2 / 500)) < 0.002);
    nb.nn.init.xavierNormal(w);
    assert.ok(Math.abs(std() - Math.sqrt(2 / 500)) < 0.002);
    nb.nn.init.kaimingUniform(w, { nonlinearity: 'relu' });
    assert.ok(Math.abs(std() - Math.SQRT2 / Math.sqrt(200)) < 0.003);
    nb.nn.init.kaimingNormal(w, { nonlinearity: 'relu', mode: 'fanOut' });
    assert.ok(Math.abs(std() - Math.SQRT2 / Math.sqrt(300)) < 0.003);
    nb.nn.init.constant(w, 3);
    assert.equal(w.mean().item(), 3);
  });
});

describe('losses reject bad targets', () => {
  const F = nb.nn.functional;
  test('a label ≥ the number of classes', () => {
    assert.throws(
      () => F.crossEntropy(nb.zeros([2, 3]), nb.tensor(new Int32Array([1, 3]))),
      /crossEntropy: label 3 at position 1 is out of range for 3 classes/,
    );
    assert.throws(
      () => F.crossEntropy(nb.zeros([2, 3]), nb.tensor(new Int32Array([-1, 0]))),
      /label -1/,
    );
  });
  test('targets of the wrong shape', () => {
    assert.throws(
      () => F.mse(nb.zeros([4, 1]), nb.zeros([4])),
      /mse: target of shape \[4\] does not match prediction of shape \[4, 1\]/,
    );
    assert.throws(
      () => F.crossEntropy(nb.zeros([2, 3]), nb.tensor(new Int32Array([1, 2, 0]))),
      /class indices of shape \[3\] do not match logits of shape \[2, 3\]/,
    );
    assert.throws(
      () => F.crossEntropy(nb.zeros([2, 3]), nb.zeros([2, 2])),
      /target must be int32 class indices \[2\] or probabilities \[2, 3\]/,
    );
    assert.throws(
      () => F.mse(nb.zeros([2]), nb.zeros([2]), { reduction: 'avg' as 'mean' }),
      /unknown reduction 'avg'/,
    );
  });
  test('loss modules pass their reduction', () => {
    const loss = new nb.nn.MSELoss({ reduction: 'sum' }).forward(
      nb.tensor([1, 2]),
      nb.tensor([0, 0]),
    );
    assert.equal(loss.item(), 5);
    assert.equal(
      new nb.nn.BCEWithLogitsLoss().forward(nb.tensor([0]), nb.tensor([1])).item(),
      Math.fround(Math.log(2)),
    );
  });
});

describe('convolution and normalization layers', () => {
  const nn = nb.nn;
  /** The network of scripts/golden/cnn_fixture.py. */
  const fixtureModel = (): nb.nn.Sequential =>
    new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(4, 6, 3, { groups: 2, bias: false }),
      new nn.ReLU(),
      new nn.AdaptiveAvgPool2d([2, 2]),
      new nn.Flatten(),
      new nn.Linear(24, 8),
      new nn.BatchNorm1d(8),
      new nn.LayerNorm(8),
      new nn.Linear(8, 3),
    );

  test("a PyTorch CNN's state dict (buffers included) loads and gives PyTorch's outputs", () => {
    const golden = JSON.parse(readFileSync(goldenPath('torch-cnn.json'), 'utf8')) as {
      keys: string[];
      input: number[];
      inputShape: number[];
      eval: number[];
    };
    const model = fixtureModel();
    assert.deepEqual(Object.keys(model.stateDict()), golden.keys, "PyTorch's names, in its order");
    model.loadStateDict(nb.load(goldenPath('torch-cnn.safetensors')));
    model.eval();
    const x = nb.tensor(golden.input, { shape: golden.inputShape });
    const y = nb.noGrad(() => model.forward(x)).dataSync();
    golden.eval.forEach((e, i) =>
      assert.ok(Math.abs(y[i]! - e) < 1e-5, `output ${i}: ${y[i]} vs ${e}`),
    );
  });

  test('BatchNorm2d in training moves its running estimates as PyTorch does, and counts batches', () => {
    const bn = new nn.BatchNorm2d(2, { momentum: 0.25 });
    const values = [1, 2, 3, 4, 10, 20, 30, 40, -1, 0, 1, 2, 5, 5, 5, 9];
    bn.forward(nb.tensor(values, { shape: [2, 2, 2, 2] }));
    // Channel c: the 8 values of both samples; mean and unbiased variance by hand.
    const channel = (c: number): number[] =>
      [0, 1].flatMap((n) => values.slice(n * 8 + c * 4, n * 8 + c * 4 + 4));
    const expectedMean = [0, 1].map((c) => channel(c).reduce((a, b) => a + b) / 8);
    const expectedVar = [0, 1].map(
      (c) => channel(c).reduce((a, v) => a + (v - expectedMean[c]!) ** 2, 0) / 7,
    );
    const mean = bn.running_mean!.dataSync();
    const variance = bn.running_var!.dataSync();
    for (const c of [0, 1]) {
      assert.ok(Math.abs(mean[c]! - 0.25 * expectedMean[c]!) < 1e-5);
      assert.ok(Math.abs(variance[c]! - (0.75 + 0.25 * expectedVar[c]!)) < 1e-4);
    }
    assert.equal(bn.num_batches_tracked!.item(), 1);
    bn.eval();
    bn.forward(nb.ones([1, 2, 1, 1]));
    assert.equal(bn.num_batches_tracked!.item(), 1, 'eval leaves the count');
  });

  test('convolutions of tensors in the arena (rows moved in WebAssembly) match float64', () => {
    nb.manualSeed(5);
    const F = nb.nn.functional;
    const options: nb.nn.functional.Conv2dOptions[] = [{}, { padding: 2, stride: [1, 2] }];
    for (const opts of options) {
      const x = nb.randn([4, 8, 20, 20], { requiresGrad: true }); // 51 KB: an arena tensor
      const w = nb.randn([6, 8, 3, 3], { requiresGrad: true });
      const y = F.conv2d(x, w, null, opts);
      y.square().sum().backward();
      const x64 = x.detach().cast('float64').requiresGrad_();
      const w64 = w.detach().cast('float64').requiresGrad_();
      const y64 = F.conv2d(x64, w64, null, opts);
      y64.square().sum().backward();
      const close = (a: nb.Tensor, b: nb.Tensor, what: string): void => {
        const [p, q] = [a.dataSync(), b.dataSync()];
        p.forEach((v, i) =>
          assert.ok(
            Math.abs(v - q[i]!) <= 1e-3 * (1 + Math.abs(q[i]!)),
            `${what} ${i}: ${v} vs ${q[i]}`,
          ),
        );
      };
      close(y, y64, 'output');
      close(x.grad!, x64.grad!, 'input gradient');
      close(w.grad!, w64.grad!, 'weight gradient');
    }
  });

  test('max pooling propagates NaN and sends its gradient there; an edge window picks a real tap', () => {
    const x = nb.tensor([NaN, 1, 2, 3, -Infinity, -Infinity, -Infinity, -Infinity], {
      shape: [2, 1, 2, 2],
      requiresGrad: true,
    });
    const y = nb.nn.functional.maxPool2d(x, 2, { padding: 1, stride: 2 });
    // Windows of 1×1 inside the plane (padding 1): each output is one input element.
    assert.deepEqual([...y.dataSync()], [NaN, 1, 2, 3, -Infinity, -Infinity, -Infinity, -Infinity]);
    const pooled = nb.nn.functional.maxPool2d(x, 2);
    assert.deepEqual([...pooled.dataSync()], [NaN, -Infinity]);
    pooled.sum().backward();
    assert.deepEqual([...x.grad!.dataSync()], [1, 0, 0, 0, 1, 0, 0, 0]);
  });

  test('a wrong input rank or channel count names the layer and the shapes', () => {
    assert.throws(
      () => new nn.Conv2d(1, 32, 3).forward(nb.zeros([2, 3, 28, 28])),
      /Conv2d\(1, 32, 3\): expected 1 channels \(input \[N, 1, H, W\]\), got \[2, 3, 28, 28\]/,
    );
    assert.throws(
      () => new nn.Conv2d(1, 32, 3).forward(nb.zeros([2, 28, 28])),
      /Conv2d\(1, 32, 3\): expected input \[N, 1, H, W\], got \[2, 28, 28\]/,
    );
    assert.throws(
      () => new nn.BatchNorm1d(8).forward(nb.zeros([4, 6])),
      /BatchNorm1d\(8\): expected 8 channels/,
    );
    assert.throws(
      () => new nn.MaxPool2d(2).forward(nb.zeros([4, 6])),
      /MaxPool2d\(2\): expected input \[N, C, H, W\], got \[4, 6\]/,
    );
    assert.throws(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), /divisible by groups 2/);
    assert.throws(
      () => nb.nn.functional.maxPool2d(nb.zeros([1, 1, 4, 4], { dtype: 'int32' }), 2),
      /WindowArgMax: expected a float input, got int32/,
    );
  });

  test('buffers are state, not parameters; a saved state dict holds them', () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2));
    const names = Object.keys(model.stateDict());
    assert.deepEqual(names, [
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '1.running_mean',
      '1.running_var',
      '1.num_batches_tracked',
    ]);
    assert.deepEqual(
      model.parameters().length,
      4,
      'running estimates are not parameters (an optimizer never sees them)',
    );
    const copy = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2));
    copy.loadStateDict(nb.deserialize(nb.serialize(model.stateDict())).tensors);
    assert.deepEqual(Array.from(copy.stateDict()['1.running_var']!.dataSync()), [1, 1]);
  });
});
