/**
 * W1: C = A·B for N×N float32 matrices ~ N(0, 1), new output per call. GFLOPS = 2N³/t.
 * `paired`: N=1024 is timed in repetitions each paired with a run of the limit loop (bench/limit.ts)
 * just before it, and its share of the limit is the median of the pairs' ratios.
 */
import * as nb from '../../src/index.js';
import { measure, report, warmedUp } from '../harness.js';
import { limitSampler } from '../limit.js';

const PAIRS = 40;

nb.manualSeed(0);
const figures: Record<string, number | string> = { workload: `W1 matmul (${nb.deviceInfo()})` };
const paired = process.argv.includes('paired');
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
for (const n of [64, 256, 1024]) {
  const [a, b] = [nb.randn([n, n]), nb.randn([n, n])];
  const product = (): void => void nb.noGrad(() => a.matmul(b));
  const gflops = (ms: number): number => (2 * n ** 3) / (ms * 1e6);
  if (n === 1024 && paired) {
    const limit = limitSampler();
    const start = performance.now();
    for (let i = 0; !warmedUp(start, i, 2); i++) product();
    const pairs = Array.from({ length: PAIRS }, () => {
      const bound = limit();
      const callStart = performance.now();
      product();
      return [gflops(performance.now() - callStart), bound] as const;
    });
    figures['N=1024 GFLOPS'] = median(pairs.map(([w1]) => w1));
    figures['limit GFLOPS (paired)'] = median(pairs.map(([, bound]) => bound));
    figures['N=1024 share (paired)'] = median(pairs.map(([w1, bound]) => w1 / bound));
    continue;
  }
  // N=1024 over ~1 s rather than a moment of one of this VM's phases.
  const reps = n === 1024 ? 25 : 15;
  figures[`N=${n} GFLOPS`] = gflops(measure(product, reps, 2).median);
}
const [a, b] = [nb.randn([1024, 1024]), nb.randn([1024, 1024])];
const tn = measure(() => void nb.noGrad(() => a.T.matmul(b)), 5, 1);
const nt = measure(() => void nb.noGrad(() => a.matmul(b.T)), 5, 1);
figures['Aᵀ·B GFLOPS'] = (2 * 1024 ** 3) / (tn.median * 1e6);
figures['A·Bᵀ GFLOPS'] = (2 * 1024 ** 3) / (nt.median * 1e6);
report(figures);
