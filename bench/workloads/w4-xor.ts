/** W4 (see training.ts): steps/s, eager or (argument `jit`) jitted. */
import { measure, report } from '../harness.js';
import { W4_STEPS, xorRun } from './training.js';

const mode = process.argv[2] === 'jit' ? 'jit' : 'eager';
let finalLoss = 0;
const run = measure(
  () => {
    finalLoss = xorRun(mode);
  },
  5,
  1,
);
report({
  workload: `W4 XOR 2000 steps (${mode})`,
  'steps/s': W4_STEPS / (run.median / 1000),
  'final loss': finalLoss,
});
