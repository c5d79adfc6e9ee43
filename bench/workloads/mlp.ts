/** W2 / W3 (see training.ts): samples/s over one epoch, eager or (argument `jit`) jitted. */
import * as nb from '../../src/index.js';
import { measure, report } from '../harness.js';
import { MLP_CONFIGS, mlpWorkload } from './training.js';

const name = (process.argv[2] ?? 'W2') as keyof typeof MLP_CONFIGS;
const workload = mlpWorkload(name, process.argv[3] === 'jit' ? 'jit' : 'eager');
const epoch = measure(workload.epoch, name === 'W3' ? 3 : 5, 1);
report({
  workload: `${workload.label} (${nb.deviceInfo()})`,
  'samples/s': workload.samples / (epoch.median / 1000),
  'epoch s': epoch.median / 1000,
});
