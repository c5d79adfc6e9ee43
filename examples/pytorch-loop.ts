/**
 * The PyTorch-style training loop: zeroGrad / backward / step per mini-batch, logging
 * `loss.detach()` (a value, not a graph, so the history does not keep graphs alive), and measuring
 * accuracy under noGrad (no graph is recorded for evaluation).
 */
import * as nb from '../src/index.js';
import { runIfMain, type ExampleOptions } from './run.js';

export function main(options: ExampleOptions = {}) {
  const log = options.log ?? console.log;
  nb.manualSeed(0);
  const { x, y } = nb.datasets.spirals({ n: 300, classes: 3, seed: 0 });
  const model = new nb.nn.Sequential(
    new nb.nn.Linear(2, 64),
    new nb.nn.ReLU(),
    new nb.nn.Linear(64, 64),
    new nb.nn.ReLU(),
    new nb.nn.Linear(64, 3),
  );
  const lossFn = new nb.nn.CrossEntropyLoss();
  const optimizer = new nb.optim.Adam(model.parameters(), { lr: 0.01 });
  const loader = new nb.data.DataLoader(new nb.data.TensorDataset(x, y), {
    batchSize: 32,
    shuffle: true,
    seed: 0,
  });
  const losses: nb.Tensor[] = [];
  let accuracy = 0;
  for (let epoch = 1; epoch <= (options.quick ? 60 : 200); epoch++) {
    for (const [xb, yb] of loader) {
      const loss = lossFn.forward(model.forward(xb!), yb!);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      losses.push(loss.detach()); // keep the number, drop the graph
    }
    accuracy = nb.noGrad(() => nb.metrics.accuracy(model.forward(x), y));
    if (epoch % 20 === 0)
      log(
        `epoch ${epoch}: last loss ${losses.at(-1)!.item().toFixed(4)}, accuracy ${accuracy.toFixed(3)}`,
      );
  }
  return {
    accuracy,
    lastLoss: losses.at(-1)!.item(),
    lossesRequireGrad: losses.some((l) => l.requiresGrad),
  };
}

runIfMain(import.meta.url, main);
