/**
 * Why hidden layers matter: on a non-linear 2-D set (two circles), logistic regression can only
 * draw a line, while MLPs with 20 + 1 and 20 + 20 + 20 + 1 sigmoid/tanh units bend the boundary
 * around the inner circle. Three pictures, one per model.
 */
import * as nb from '../src/index.js';
import { runIfMain, savePicture, type ExampleOptions } from './run.js';

function mlp(widths: number[]): nb.nn.Sequential {
  const layers: nb.nn.Module[] = [];
  for (let i = 1; i < widths.length; i++) {
    layers.push(new nb.nn.Linear(widths[i - 1]!, widths[i]!));
    layers.push(i < widths.length - 1 ? new nb.nn.Tanh() : new nb.nn.Sigmoid());
  }
  return new nb.nn.Sequential(...layers);
}

export async function main(options: ExampleOptions = {}) {
  const log = options.log ?? console.log;
  nb.manualSeed(0);
  const { x, y } = nb.datasets.circles({ n: 400, noise: 0.08, seed: 1 });
  const target = y.cast('float32').unsqueeze(1); // BCE wants probabilities' shape: [N, 1]
  const models: [string, number[]][] = [
    ['logistic regression', [2, 1]],
    ['MLP 20+1', [2, 20, 1]],
    ['MLP 20+20+20+1', [2, 20, 20, 20, 1]],
  ];
  const results = [];
  for (const [name, widths] of models) {
    const model = mlp(widths);
    const opt = new nb.optim.Adam(model.parameters(), { lr: 0.02 });
    const loader = new nb.data.DataLoader(new nb.data.TensorDataset(x, target), {
      batchSize: 32,
      shuffle: true,
      seed: 0,
    });
    for (let epoch = 0; epoch < (options.quick ? 60 : 150); epoch++) {
      for (const [xb, yb] of loader) {
        const loss = nb.nn.functional.bce(model.forward(xb!), yb!);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
    }
    const accuracy = nb.noGrad(() => nb.metrics.accuracy(model.forward(x), target));
    const file = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    const svg = nb.viz.decisionBoundary((p) => model.forward(p), x, y, {
      title: `${name}: accuracy ${accuracy.toFixed(3)}`,
    });
    const picture = await savePicture(options, `boundary-${file}`, svg);
    log(`${name.padEnd(20)} training accuracy ${accuracy.toFixed(3)}   ${picture}`);
    results.push({ name, accuracy, picture });
  }
  return results;
}

runIfMain(import.meta.url, main);
