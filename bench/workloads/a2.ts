/**
 * A2: Fashion-MNIST, 784-256-128-10, 10 epochs, as `nabla train --dataset fashion-mnist` runs it
 * (Adam 1e-3, batch 64, cosine annealing, on one thread: NABLA_NUM_THREADS=1). 'A2 seconds' is what the PyTorch script times:
 * the epochs, each with its test evaluation (from history.json); 'A2 run seconds' the whole run,
 * loading the IDX files and writing checkpoints and the model included. Reports nothing but a
 * reason when Debian's dataset-fashion-mnist is not installed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { parseTrainArgs, runTrain, type TrainConfig } from '../../src/cli/train.js';
import { report } from '../harness.js';

const workload = 'A2 Fashion-MNIST 784-256-128-10, 10 epochs';
if (!existsSync(nb.datasets.FASHION_MNIST_DIR)) {
  report({ workload, skipped: "needs Debian's dataset-fashion-mnist" });
} else {
  const out = mkdtempSync(join(tmpdir(), 'nabla-a2-'));
  const args = ['--dataset', 'fashion-mnist', '--hidden', '256,128', '--epochs', '10'];
  const config = parseTrainArgs([...args, '--out', out]) as TrainConfig;
  const start = performance.now();
  const { testAccuracy } = await runTrain(config, () => {});
  const runSeconds = (performance.now() - start) / 1000;
  const { history } = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as {
    history: { seconds: number }[];
  };
  const seconds = history.reduce((sum, r) => sum + r.seconds, 0);
  rmSync(out, { recursive: true, force: true });
  report({
    workload,
    'A2 seconds': seconds,
    'A2 run seconds': runSeconds,
    'A2 accuracy': testAccuracy ?? NaN,
  });
}
