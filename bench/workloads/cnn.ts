/**
 * W7: BENCHMARKS.md's CNN (conv 32 3×3, ReLU, max-pool 2, conv 64 3×3, ReLU, max-pool 2, 1600 →
 * 128 → 10), batch 64, Adam 1e-3, softmax cross-entropy, on one fixed batch of U[0,1) images;
 * samples/s. The event loop turns between steps, as in a `for await` loop or `nabla train`.
 */
import * as nb from '../../src/index.js';
import { buildCnn } from '../../src/cli/model-spec.js';
import { report, warmedUp } from '../harness.js';

nb.manualSeed(0);
const model = buildCnn('cnn', 10);
const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
const x = nb.rand([64, 784]);
const y = nb.randint(0, 10, [64]);
const step = (): number => {
  const loss = nb.nn.functional.crossEntropy(model.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  return loss.item();
};
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const warmupStart = performance.now();
for (let i = 0; !warmedUp(warmupStart, i, 5); i++) {
  step();
  await turn();
}
const rates: number[] = [];
for (let rep = 0; rep < 3; rep++) {
  const start = performance.now();
  for (let i = 0; i < 40; i++) {
    step();
    await turn();
  }
  rates.push((64 * 40) / ((performance.now() - start) / 1000));
}
rates.sort((a, b) => a - b);
report({ workload: 'W7 CNN b64 (eager)', 'samples/s': rates[1]! });
