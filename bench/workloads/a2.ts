/**
 * A2: Fashion-MNIST, 784-256-128-10, 10 epochs, as `nabla train --dataset fashion-mnist
 * --schedule none` runs it (Adam 1e-3, batch 64); the wall time of the whole run (loading the
 * IDX files and writing the model included) and the final test accuracy. Reports nothing but a
 * reason when Debian's dataset-fashion-mnist is not installed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
  const config = parseTrainArgs([...args, '--schedule', 'none', '--out', out]) as TrainConfig;
  const start = performance.now();
  const { testAccuracy } = await runTrain(config, () => {});
  const seconds = (performance.now() - start) / 1000;
  rmSync(out, { recursive: true, force: true });
  report({ workload, 'A2 seconds': seconds, 'A2 accuracy': testAccuracy ?? NaN });
}
