/**
 * W5: y = a*b + c on 4,000,000 float32 elements, no grad, new output per call. GB/s at 16 B/element.
 * Beside it, in the same process: the plain-JS fused loop with a new output (BENCHMARKS.md's
 * "plain JS Float32Array loop"), since absolute bandwidth differs between machines of this kind.
 */
import * as nb from '../../src/index.js';
import { measureAsync, report } from '../harness.js';

const N = 4_000_000;
const GB = (ms: number): number => (16 * N) / (ms * 1e6);
nb.manualSeed(0);
const [a, b, c] = [nb.randn([N]), nb.randn([N]), nb.randn([N])];
const eager = await measureAsync(() => void nb.noGrad(() => a.mul(b).add(c)), 21, 5);
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
  workload: 'W5 a*b+c 4M',
  'eager GB/s': GB(eager.median),
  'plain-JS fused GB/s': GB(plain.median),
  'eager/plain': plain.median / eager.median,
});
