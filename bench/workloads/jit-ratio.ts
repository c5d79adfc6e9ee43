/**
 * Eager vs jit, interleaved in one process: repetitions alternate between the two so that host
 * drift (±50% between runs on these VMs) hits both alike. Reports each median and their ratio.
 */
import { performance } from 'node:perf_hooks';
import { median, report } from '../harness.js';
import { mlpWorkload, W4_STEPS, xorRun } from './training.js';

const REPS = 7;
const time = (fn: () => unknown): number => {
  const start = performance.now();
  fn();
  return performance.now() - start;
};

const [eagerW2, jitW2] = [mlpWorkload('W2', 'eager'), mlpWorkload('W2', 'jit')];
const times = {
  w4: { eager: [] as number[], jit: [] as number[] },
  w2: { eager: [] as number[], jit: [] as number[] },
};
for (let rep = -1; rep < REPS; rep++) {
  const t4e = time(() => xorRun('eager'));
  const t4j = time(() => xorRun('jit'));
  const t2e = time(eagerW2.epoch);
  const t2j = time(jitW2.epoch);
  if (rep < 0) continue; // warm-up
  times.w4.eager.push(t4e);
  times.w4.jit.push(t4j);
  times.w2.eager.push(t2e);
  times.w2.jit.push(t2j);
}
report({
  workload: 'eager vs jit, interleaved',
  'W4 eager steps/s': W4_STEPS / (median(times.w4.eager) / 1000),
  'W4 jit steps/s': W4_STEPS / (median(times.w4.jit) / 1000),
  'W4 jit/eager': median(times.w4.eager) / median(times.w4.jit),
  'W2 eager samples/s': eagerW2.samples / (median(times.w2.eager) / 1000),
  'W2 jit samples/s': jitW2.samples / (median(times.w2.jit) / 1000),
  'W2 jit/eager': median(times.w2.eager) / median(times.w2.jit),
});
