/** W1: C = A·B for N×N float32 matrices ~ N(0, 1), new output per call. GFLOPS = 2N³/t. */
import * as nb from '../../src/index.js';
import { measure, report } from '../harness.js';

nb.manualSeed(0);
const figures: Record<string, number | string> = { workload: `W1 matmul (${nb.deviceInfo()})` };
for (const n of [64, 256, 1024]) {
  const [a, b] = [nb.randn([n, n]), nb.randn([n, n])];
  const reps = n === 1024 ? 5 : 15;
  const run = measure(() => void nb.noGrad(() => a.matmul(b)), reps, 2);
  figures[`N=${n} GFLOPS`] = (2 * n ** 3) / (run.median * 1e6);
}
const [a, b] = [nb.randn([1024, 1024]), nb.randn([1024, 1024])];
const tn = measure(() => void nb.noGrad(() => a.T.matmul(b)), 5, 1);
const nt = measure(() => void nb.noGrad(() => a.matmul(b.T)), 5, 1);
figures['Aᵀ·B GFLOPS'] = (2 * 1024 ** 3) / (tn.median * 1e6);
figures['A·Bᵀ GFLOPS'] = (2 * 1024 ** 3) / (nt.median * 1e6);
report(figures);
