/**
 * W2 / W3: MLP training epochs, eager. Softmax cross-entropy on int labels, Adam (lr 1e-3), PyTorch
 * Linear init, synthetic inputs U[0,1) with uniform labels. samples/s over one epoch.
 *   W2: 784 → 128 (ReLU) → 10, batch 64, 10,000 samples.
 *   W3: 784 → 1024 (ReLU) → 1024 (ReLU) → 10, batch 256, 2,560 samples.
 */
import * as nb from '../../src/index.js';
import { measure, report } from '../harness.js';

const CONFIGS = {
  W2: { hidden: [128], batch: 64, samples: 10_000, reps: 5 },
  W3: { hidden: [1024, 1024], batch: 256, samples: 2_560, reps: 3 },
};
const name = (process.argv[2] ?? 'W2') as keyof typeof CONFIGS;
const { hidden, batch, samples, reps } = CONFIGS[name];

nb.manualSeed(0);
const widths = [784, ...hidden, 10];
const layers: nb.nn.Module[] = [];
widths.slice(1).forEach((w, i) => {
  layers.push(new nb.nn.Linear(widths[i]!, w));
  if (i < widths.length - 2) layers.push(new nb.nn.ReLU());
});
const model = new nb.nn.Sequential(...layers);
const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
const loader = new nb.data.DataLoader(
  new nb.data.TensorDataset(nb.rand([samples, 784]), nb.randint(0, 10, [samples])),
  { batchSize: batch },
);

const epoch = measure(
  () => {
    for (const [x, y] of loader) {
      const loss = nb.nn.functional.crossEntropy(model.forward(x!), y!);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
  },
  reps,
  1,
);
report({
  workload: `${name} MLP ${widths.join('-')} b${batch}`,
  'samples/s': samples / (epoch.median / 1000),
  'epoch s': epoch.median / 1000,
});
