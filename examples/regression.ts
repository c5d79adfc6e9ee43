/**
 * Multi-output regression: patients (weight, age, sex) → total cholesterol and blood sugar.
 * One network predicts both; the loss is the MSE averaged over both outputs and all patients.
 * Inputs and targets are standardised (mean 0, std 1), as one should before gradient descent.
 */
import * as nb from '../src/index.js';
import { runIfMain, type ExampleOptions } from './run.js';

const standardise = (t: nb.Tensor) => {
  const mean = t.mean(0, true);
  const std = t.sub(mean).square().mean(0, true).sqrt();
  return { z: t.sub(mean).div(std), mean, std };
};

export function main(options: ExampleOptions = {}) {
  const log = options.log ?? console.log;
  nb.manualSeed(0);
  const data = nb.datasets.patients({ n: 600, seed: 2 });
  const x = standardise(data.x);
  const y = standardise(data.y);
  const model = new nb.nn.Sequential(
    new nb.nn.Linear(3, 16),
    new nb.nn.ReLU(),
    new nb.nn.Linear(16, 2),
  );
  const opt = new nb.optim.Adam(model.parameters(), { lr: 0.01 });
  const loader = new nb.data.DataLoader(new nb.data.TensorDataset(x.z, y.z), {
    batchSize: 32,
    shuffle: true,
    seed: 0,
  });
  const epochs = options.quick ? 40 : 100;
  let loss = NaN;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (const [xb, yb] of loader) {
      const l = nb.nn.functional.mse(model.forward(xb!), yb!); // mean over both outputs too
      opt.zeroGrad();
      l.backward();
      opt.step();
    }
    loss = nb.noGrad(() => nb.nn.functional.mse(model.forward(x.z), y.z).item());
    if (epoch % 20 === 0) log(`epoch ${epoch}: MSE (standardised) ${loss.toFixed(4)}`);
  }
  // Back to mg/dL: the typical error per output.
  const prediction = nb.noGrad(() => model.forward(x.z).mul(y.std).add(y.mean));
  const rmse = prediction.sub(data.y).square().mean(0).sqrt().toArray() as number[];
  log(`RMSE: cholesterol ${rmse[0]!.toFixed(1)} mg/dL, blood sugar ${rmse[1]!.toFixed(1)} mg/dL`);
  return { loss, rmse };
}

runIfMain(import.meta.url, main);
