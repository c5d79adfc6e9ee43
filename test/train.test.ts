/** Training helpers end to end: metrics, early stopping, fit. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';

describe('metrics', () => {
  test('accuracy for multi-class logits, one-hot targets and binary probabilities', () => {
    const logits = nb.tensor([
      [2, 1, 0],
      [0, 3, 1],
      [1, 0, 0],
      [0, 0, 5],
    ]);
    assert.equal(nb.metrics.accuracy(logits, nb.tensor(new Int32Array([0, 1, 2, 2]))), 0.75);
    assert.equal(
      nb.metrics.accuracy(
        logits,
        nb.tensor([
          [1, 0, 0],
          [0, 1, 0],
          [1, 0, 0],
          [0, 1, 0],
        ]),
      ),
      0.75,
    );
    assert.equal(
      nb.metrics.accuracy(nb.tensor([[0.9], [0.2], [0.6]]), nb.tensor([[1], [0], [0]])),
      2 / 3,
    );
    assert.throws(
      () => nb.metrics.accuracy(logits, nb.tensor(new Int32Array([0]))),
      /differ in batch size/,
    );
  });

  test('confusion matrix rows are true classes, columns predictions', () => {
    const m = nb.metrics.confusionMatrix(
      nb.tensor(new Int32Array([0, 1, 1, 2])),
      nb.tensor(new Int32Array([0, 1, 2, 2])),
      3,
    );
    assert.deepEqual(m.toArray(), [
      [1, 0, 0],
      [0, 1, 0],
      [0, 1, 1],
    ]);
  });
});

describe('EarlyStopping and History', () => {
  test('stops after `patience` epochs without improvement and restores the best weights', () => {
    const model = new nb.nn.Linear(1, 1);
    const stopper = new nb.EarlyStopping({ patience: 2 });
    const weights: number[] = [];
    const decisions = [3, 2, 2.5, 2.1, 2.2].map((loss) => {
      nb.noGrad(() => model.weight.copy_(nb.tensor([[loss]])));
      weights.push(loss);
      return stopper.step(loss, model);
    });
    assert.deepEqual(decisions, [false, false, false, false, true]);
    assert.equal(stopper.bestEpoch, 1);
    stopper.restore(model);
    assert.equal(model.weight.item(), 2);
  });

  test('history keeps per-epoch records and series', () => {
    const h = new nb.History();
    h.record({ epoch: 1, loss: 0.5 });
    h.record({ epoch: 2, loss: 0.25 });
    assert.deepEqual(h.series('loss'), [0.5, 0.25]);
    assert.equal(JSON.stringify(h), '[{"epoch":1,"loss":0.5},{"epoch":2,"loss":0.25}]');
  });
});

describe('fit', () => {
  test('an MLP learns the moons (non-linear) to > 95% test accuracy', () => {
    nb.manualSeed(0);
    const { x, y } = nb.datasets.moons({ n: 600, noise: 0.1, seed: 1 });
    const model = new nb.nn.Sequential(
      new nb.nn.Linear(2, 16),
      new nb.nn.Tanh(),
      new nb.nn.Linear(16, 2),
    );
    const [trainX, testX] = [x.narrow(0, 0, 500), x.narrow(0, 500, 100)];
    const [trainY, testY] = [y.narrow(0, 0, 500), y.narrow(0, 500, 100)];
    const history = nb.fit(model, {
      epochs: 40,
      lossFn: (p, t) => nb.nn.functional.crossEntropy(p, t),
      optimizer: new nb.optim.Adam(model.parameters(), { lr: 0.02 }),
      train: new nb.data.DataLoader(new nb.data.TensorDataset(trainX, trainY), {
        batchSize: 32,
        shuffle: true,
        seed: 0,
      }),
      validation: { x: testX, y: testY },
    });
    assert.equal(history.epochs.length, 40);
    assert.ok(
      history.series('testAccuracy').at(-1)! > 0.95,
      `accuracy ${history.series('testAccuracy').at(-1)}`,
    );
    assert.ok(history.series('trainLoss').at(-1)! < history.series('trainLoss')[0]!);
  });

  test('a NaN loss stops training, naming the step and the last finite loss', () => {
    const model = new nb.nn.Linear(1, 1);
    const x = nb.tensor([[1], [2]]);
    const train = new nb.data.DataLoader(new nb.data.TensorDataset(x, nb.tensor([[1], [2]])), {
      batchSize: 1,
    });
    assert.throws(
      () =>
        nb.fit(model, {
          epochs: 50,
          lossFn: (p, t) => nb.nn.functional.mse(p, t),
          optimizer: new nb.optim.SGD(model.parameters(), { lr: 1e6 }),
          train,
        }),
      /training stopped: the loss became (NaN|Infinity) at epoch \d+, step \d+; the last finite loss was [\d.e+]+ at step \d+\. Try a lower learning rate\./,
    );
  });
});
