/**
 * The yardstick of the CPU workloads: this machine's own limit for float32 multiply + add on
 * 128-bit WebAssembly vectors, on one thread, in registers. A generated loop runs independent
 * chains (enough of them to hide each one's latency: the best of a few counts), once as f32x4
 * multiplies and adds, and once as relaxed SIMD's fused multiply-add where the runtime validates
 * it. Workloads are then reported as a share of it, which holds across CPU models where
 * raw GFLOPS do not.
 */
import { performance } from 'node:perf_hooks';
import { buildModule, FunctionBuilder, ValType } from '../src/backends/wasm/emitter.js';

export interface Limit {
  /** GFLOPS of mul + add (2 flops per lane), the best chain count's. */
  gflops: number;
  chains: number;
  /** GFLOPS with relaxed-SIMD multiply-add, or null where the runtime does not validate it. */
  fmaGflops: number | null;
}

/**
 * run(iterations, out): `chains` independent chains, stored to memory at `out` so none is dead
 * code. Plain: a multiply chain p ← p·m beside an add chain acc ← acc + p (the multiplies cannot
 * be hoisted out of the loop, and the two chains keep both kinds of ALU busy). Fused: acc ←
 * madd(x, y, acc). Values stay bounded and normal (m = −1; x·y small).
 */
function chainModule(chains: number, fused: boolean): Uint8Array<ArrayBuffer> {
  const f = new FunctionBuilder('run', [ValType.i32, ValType.i32]);
  const [iterations, out] = f.params as [never, never];
  const acc = Array.from({ length: chains }, () => f.local(ValType.v128));
  const p = fused ? [] : Array.from({ length: chains }, () => f.local(ValType.v128));
  const [x, y] = [f.local(ValType.v128), f.local(ValType.v128)];
  f.f32Const(fused ? 1e-4 : -1)
    .f32x4Splat()
    .set(x);
  f.f32Const(1e-3).f32x4Splat().set(y);
  acc.forEach((r, i) => f.f32Const(i).f32x4Splat().set(r));
  p.forEach((r, i) =>
    f
      .f32Const(1 + i / 64)
      .f32x4Splat()
      .set(r),
  );
  f.countDown(iterations, () => {
    acc.forEach((r, i) => {
      if (fused) f.get(x).get(y).get(r).f32x4RelaxedMadd().set(r);
      else f.get(p[i]!).get(x).f32x4Mul().set(p[i]!).get(r).get(p[i]!).f32x4Add().set(r);
    });
  });
  [...acc, ...p].forEach((r, i) =>
    f
      .get(out)
      .get(r)
      .v128Store(16 * i),
  );
  return buildModule([f]);
}

/** A timed run of `chains` chains (~7 ms at 45 GFLOPS): returns its GFLOPS. */
function timedRun(bytes: Uint8Array<ArrayBuffer>, chains: number): () => number {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const { run } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
    .exports as { run: (iterations: number, out: number) => void };
  const iterations = Math.round(4e7 / chains);
  return () => {
    const start = performance.now();
    run(iterations, 0);
    const seconds = (performance.now() - start) / 1000;
    return (iterations * chains * 8) / seconds / 1e9;
  };
}

/** The best GFLOPS of `chains` chains over a few timed runs (the first run compiles and warms). */
function gflopsOf(bytes: Uint8Array<ArrayBuffer>, chains: number): number {
  const run = timedRun(bytes, chains);
  let best = 0;
  for (let rep = 0; rep < 4; rep++) {
    const gflops = run();
    if (rep > 0) best = Math.max(best, gflops);
  }
  return best;
}

/** Chains tried: each needs its registers (2 plain, 1 fused) of the 15 V8 gives WebAssembly. */
const CHAIN_COUNTS = { plain: [4, 5, 6, 7], fused: [6, 8, 10, 12] };

function best(fused: boolean): { gflops: number; chains: number } {
  let found = { gflops: 0, chains: 0 };
  for (const chains of CHAIN_COUNTS[fused ? 'fused' : 'plain']) {
    const gflops = gflopsOf(chainModule(chains, fused), chains);
    if (gflops > found.gflops) found = { gflops, chains };
  }
  return found;
}

export function measureLimit(): Limit {
  const fmaRuns = WebAssembly.validate(chainModule(1, true));
  return { ...best(false), fmaGflops: fmaRuns ? best(true).gflops : null };
}

/**
 * One timed run of the best chain count's mul + add loop per call, to interleave with a workload's
 * repetitions: this VM's speed moves by 30–40% within seconds, and a share taken from figures a
 * minute apart measures those phases as much as the kernels.
 */
export function limitSampler(): () => number {
  const { chains } = best(false);
  return timedRun(chainModule(chains, false), chains);
}
