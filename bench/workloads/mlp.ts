/**
 * W2 / W3 (see training.ts): samples/s over one epoch, eager or (argument `jit`) jitted.
 * `paired`: each epoch timed between two runs of the limit loop (bench/limit.ts), and its GFLOPS
 * (3 products per layer and sample, 2 flops each) as a share of their mean: the median of those
 * shares, taken in the epochs' own seconds rather than against a limit measured minutes before.
 */
import * as nb from '../../src/index.js';
import { measure, median, report, warmUp } from '../harness.js';
import { limitSampler } from '../limit.js';
import { flopsPerSample, type MLP_CONFIGS, mlpWorkload } from './training.js';

const name = (process.argv[2] ?? 'W2') as keyof typeof MLP_CONFIGS;
const workload = mlpWorkload(name, process.argv.includes('jit') ? 'jit' : 'eager');
const reps = name === 'W3' ? 3 : 5;
const figures: Record<string, number | string> = {
  workload: `${workload.label} (${nb.deviceInfo()})`,
};
if (process.argv.includes('paired')) {
  const flops = flopsPerSample(name);
  const limit = limitSampler();
  warmUp(workload.epoch, 1);
  const epochs = Array.from({ length: reps }, () => {
    const before = limit();
    const epochStart = performance.now();
    workload.epoch();
    const seconds = (performance.now() - epochStart) / 1000;
    return {
      seconds,
      share: (workload.samples * flops) / seconds / 1e9 / ((before + limit()) / 2),
    };
  });
  const seconds = median(epochs.map((e) => e.seconds));
  figures['samples/s'] = workload.samples / seconds;
  figures['epoch s'] = seconds;
  figures['share (paired)'] = median(epochs.map((e) => e.share));
} else {
  const epoch = measure(workload.epoch, reps, 1);
  figures['samples/s'] = workload.samples / (epoch.median / 1000);
  figures['epoch s'] = epoch.median / 1000;
}
report(figures);
