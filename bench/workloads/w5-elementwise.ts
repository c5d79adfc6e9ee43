/**
 * W5: y = a*b + c on 4,000,000 float32 elements, no grad, new output per call. GB/s at 16 B/element.
 * Modes (one per process): `eager` as a PyTorch user writes it (outputs dropped, left to the
 * garbage collector); `disposing`, eager with the outputs disposed, as PyTorch's refcounting frees
 * them; `jit`, one fused kernel. Beside it, in the same process: the plain-JS fused loop with a new
 * output (BENCHMARKS.md's "plain JS Float32Array loop"), since bandwidth differs between machines.
 */
import * as nb from '../../src/index.js';
import { measureAsync, report } from '../harness.js';

const N = 4_000_000;
const GB = (ms: number): number => (16 * N) / (ms * 1e6);
const mode = process.argv[2] ?? 'eager';
nb.manualSeed(0);
const [a, b, c] = [nb.randn([N]), nb.randn([N]), nb.randn([N])];
const fused = nb.jit((x: nb.Tensor, y: nb.Tensor, z: nb.Tensor) => x.mul(y).add(z));
const RUNS: Record<string, () => void> = {
  eager: () => void nb.noGrad(() => a.mul(b).add(c)),
  disposing: () =>
    nb.noGrad(() => {
      const ab = a.mul(b);
      ab.add(c).dispose();
      ab.dispose();
    }),
  jit: () => fused(a, b, c).dispose(),
};
const run = RUNS[mode];
if (!run) throw new Error(`unknown W5 mode '${mode}' (${Object.keys(RUNS).join(', ')})`);
const nabla = await measureAsync(run, 21, 5);
const [A, B, C] = [a.dataSync(), b.dataSync(), c.dataSync()];
const plain = await measureAsync(
  () => {
    const y = new Float32Array(N);
    for (let i = 0; i < N; i++) y[i] = A[i]! * B[i]! + C[i]!;
  },
  21,
  5,
);
report({
  workload: `W5 a*b+c 4M (${mode})`,
  'GB/s': GB(nabla.median),
  'plain-JS fused GB/s': GB(plain.median),
});
