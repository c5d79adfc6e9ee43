/**
 * W1: C = A·B for N×N float32 matrices ~ N(0, 1), new output per call. GFLOPS = 2N³/t. Each output
 * is disposed, as PyTorch frees it when the next replaces it: this loop never lets the event loop
 * turn, so outputs left to the garbage collector would fill the arena (600+ MB seen), and later
 * ones land on the JS heap, copied out of the product — that measured the fallback, not the
 * product (two threads ÷ one 1.39–1.60 with 64 and 256's outputs left behind, 1.81–1.91 without).
 * `paired`: N=1024 is timed in repetitions each paired with a run of the limit loop (bench/limit.ts)
 * just before it, and its share of the limit is the median of the pairs' ratios. On more than one
 * thread, N=1024 is also timed alternating between one thread and all (nb.setNumThreads), and the
 * speed-up is the median of the pairs' ratios: one process's figures minutes apart on this VM
 * compare its phases as much as the threads.
 */
import * as nb from '../../src/index.js';
import { Arena } from '../../src/backends/wasm/arena.js';
import { gemmModuleBytes, WasmGemm } from '../../src/backends/wasm/gemm.js';
import { alternatingRatio, measure, median, report, warmUp } from '../harness.js';
import { limitSampler } from '../limit.js';

const PAIRS = 40;

nb.manualSeed(0);
const figures: Record<string, number | string> = { workload: `W1 matmul (${nb.deviceInfo()})` };
const paired = process.argv.includes('paired');
// Worker threads run the WebAssembly kernels only (NABLA_CPU_KERNELS=js runs on one thread).
const threaded = nb.getNumThreads() > 1 && nb.deviceInfo().includes('WebAssembly');
for (const n of [64, 256, 1024]) {
  const [a, b] = [nb.randn([n, n]), nb.randn([n, n])];
  const product = (): void => nb.noGrad(() => a.matmul(b)).dispose();
  const gflops = (ms: number): number => (2 * n ** 3) / (ms * 1e6);
  if (n === 1024 && paired) {
    const limit = limitSampler();
    warmUp(product, 2);
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
  if (n === 1024 && threaded) figures['N=1024 threads ÷ 1 thread (paired)'] = speedUp(product);
  // N=1024 over ~1 s rather than a moment of one of this VM's phases.
  const reps = n === 1024 ? 25 : 15;
  figures[`N=${n} GFLOPS`] = gflops(measure(product, reps, 2).median);
}
/** The median ratio of `product`'s time on one thread to its time on all, in alternating pairs. */
function speedUp(product: () => void): number {
  const threads = nb.getNumThreads();
  const on = (n: number) => (): void => {
    nb.setNumThreads(n);
    product();
  };
  const ratio = alternatingRatio(on(1), on(threads), PAIRS);
  nb.setNumThreads(threads);
  return ratio;
}

/**
 * Where relaxed SIMD validates (the `fma` entries): N=1024 on one thread by the fused
 * multiply-add kernel and by the multiply + add one, alternating in this process on an arena of
 * their own; the median ratio of their speeds (FMA ÷ mul + add), or null without relaxed SIMD.
 */
function fmaOverMultiplyAdd(): number | null {
  if (!WebAssembly.validate(gemmModuleBytes(true, true))) return null;
  const arena = Arena.create(32 * 2 ** 20);
  if (!arena) return null;
  const [fused, plain] = [true, false].map((multiplyAdd) => new WasmGemm(arena, 1, multiplyAdd));
  const n = 1024;
  const view = () => {
    const buffer = new Float32Array(arena.buffer, arena.alloc(4 * n * n)!, n * n);
    buffer.forEach((_, i) => (buffer[i] = Math.sin(i)));
    return { buffer, dtype: 'float32' as const, shape: [n, n], strides: [n, 1], offset: 0 };
  };
  const [x, y, out] = [view(), view(), view()];
  const by = (gemm: WasmGemm) => (): void => void gemm.matmul(out, [x, y]);
  return alternatingRatio(by(plain!), by(fused!), PAIRS);
}
const fmaRatio = fmaOverMultiplyAdd();
if (fmaRatio !== null) figures['N=1024 FMA ÷ mul + add (paired)'] = fmaRatio;

const [a, b] = [nb.randn([1024, 1024]), nb.randn([1024, 1024])];
const tn = measure(() => nb.noGrad(() => a.T.matmul(b)).dispose(), 5, 1);
const nt = measure(() => nb.noGrad(() => a.matmul(b.T)).dispose(), 5, 1);
figures['Aᵀ·B GFLOPS'] = (2 * 1024 ** 3) / (tn.median * 1e6);
figures['A·Bᵀ GFLOPS'] = (2 * 1024 ** 3) / (nt.median * 1e6);
report(figures);
