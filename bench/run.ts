/**
 * `npm run bench [-- name ...]`: runs each workload of the benchmark plan that nabla supports so
 * far, each in a fresh Node process, and prints the figures; `-- --soak` runs the memory soaks
 * instead, and `-- --device webgpu [--small]` the GPU workloads (against PyTorch CUDA where
 * python3 has it). Record them in bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { measureLimit, type Limit } from './limit.js';
import { flopsPerSample } from './workloads/training.js';

/** Name → [script, ...arguments]; a `KEY=value` argument sets an environment variable. */
const WORKLOADS: Record<string, string[]> = {
  dispatch: ['dispatch'],
  'W1-js': ['w1-matmul', 'NABLA_CPU_KERNELS=js'],
  W1: ['w1-matmul'],
  'W1-1t': ['w1-matmul', 'paired', 'NABLA_NUM_THREADS=1'],
  'W1-fma-1t': ['fma', 'w1-matmul', 'NABLA_NUM_THREADS=1'],
  W5: ['w5-elementwise', 'eager'],
  'W5-disposing': ['w5-elementwise', 'disposing'],
  'W5-jit': ['w5-elementwise', 'jit'],
  'W5-disposing-1t': ['w5-elementwise', 'disposing', 'NABLA_NUM_THREADS=1'],
  'W5-jit-1t': ['w5-elementwise', 'jit', 'NABLA_NUM_THREADS=1'],
  W4: ['w4-xor'],
  'W4-jit': ['w4-xor', 'jit'],
  'W4-graph': ['w4-graph'],
  W2: ['mlp', 'W2'],
  'W2-jit': ['mlp', 'W2', 'jit'],
  'W2-1t': ['mlp', 'W2', 'NABLA_NUM_THREADS=1'],
  'W2-jit-1t': ['mlp', 'W2', 'jit', 'NABLA_NUM_THREADS=1'],
  // As browsers and Node ≥ 22 run it: relaxed-SIMD multiply-add (Node 20: a V8 flag).
  'W2-fma-jit': ['fma', 'mlp', 'W2', 'jit'],
  W3: ['mlp', 'W3'],
  'W3-jit': ['mlp', 'W3', 'jit'],
  'W3-1t': ['mlp', 'W3', 'paired', 'NABLA_NUM_THREADS=1'],
  'W3-jit-1t': ['mlp', 'W3', 'jit', 'paired', 'NABLA_NUM_THREADS=1'],
  'jit-ratio': ['jit-ratio'],
  'W7-1t': ['cnn', 'NABLA_NUM_THREADS=1'],
  W7: ['cnn'],
  A2: ['fma', 'a2', 'NABLA_NUM_THREADS=1'], // as the nabla command runs: relaxed SIMD on
};
/** Training runs of minutes: with --compare (beside PyTorch's) or when named. */
const LONG = new Set(['A2']);
/** --soak: 100,000-step loops that dispose nothing; memory must plateau (minutes each). */
const SOAK: Record<string, string[]> = {
  'soak-eager': ['soak', 'eager'],
  'soak-jit': ['soak', 'jit'],
  'soak-tf1': ['soak', 'tf1'],
};
const deviceAt = process.argv.indexOf('--device');
if (deviceAt > 0 && process.argv[deviceAt + 1] === 'webgpu') {
  benchWebGpu(process.argv.includes('--small'));
  process.exit(0);
}
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const compare = process.argv.includes('--compare');
const chosen = process.argv.includes('--soak') ? SOAK : WORKLOADS;

const cpu = `${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}`;
console.log(`nabla bench — ${new Date().toISOString()} — ${cpu}, Node ${process.version}`);
// Relaxed SIMD for this process's limit loops only (Node 20 has it behind a V8 flag); workloads
// run in processes of their own, with it only where their entry says (W1-fma-1t).
setFlagsFromString('--experimental-wasm-relaxed-simd');
const limit = chosen === WORKLOADS ? measureLimit() : null;
if (limit) console.log(describeLimit('the limit (first)', limit));
const results = new Map<string, Record<string, number | string>>();
for (const [name, [script, ...args]] of Object.entries(chosen)) {
  if (only.length > 0 ? !only.includes(name) : LONG.has(name) && !compare) continue;
  const path = fileURLToPath(new URL(`./workloads/${script}.js`, import.meta.url));
  const env = {
    ...process.env,
    ...Object.fromEntries(args.filter((a) => a.includes('=')).map((a) => a.split('='))),
  };
  const argv = args.filter((a) => !a.includes('='));
  const output = execFileSync(process.execPath, [path, ...argv], { encoding: 'utf8', env });
  const result = JSON.parse(output.trim().split('\n').pop()!) as Record<string, number | string>;
  results.set(name, result);
  const figures = Object.entries(result)
    .filter(([k]) => k !== 'workload')
    .map(([k, v]) => `${k}: ${typeof v === 'number' ? +v.toPrecision(4) : v}`);
  console.log(`${String(result['workload']).padEnd(34)} ${figures.join('   ')}`);
}

function describeLimit(label: string, { gflops, chains, fmaGflops }: Limit): string {
  const fma =
    fmaGflops === null
      ? 'relaxed-SIMD multiply-add: not validated by this runtime'
      : `with relaxed-SIMD multiply-add (V8 flag) ${fmaGflops.toFixed(1)} GFLOPS`;
  return `${label}: f32x4 mul + add, 1 thread, ${gflops.toFixed(1)} GFLOPS (${chains} chains); ${fma}`;
}

/**
 * Each CPU workload as a share of the limit: W1 in GFLOPS; W2 and W3 as the GFLOPS of their
 * samples/s (3 products per layer and sample — forward, and two in backward — of 2 flops each).
 */
if (limit) {
  const end = measureLimit();
  console.log(`\n${describeLimit('the limit (again, at the end)', end)}`);
  const shares: [string, string, (v: number) => number][] = [
    ['W1-1t', 'N=1024 GFLOPS', (v) => v],
    ['W1-fma-1t', 'N=1024 GFLOPS', (v) => v],
    ['W1', 'N=1024 GFLOPS', (v) => v],
    ...(['W2', 'W3'] as const).flatMap((w) =>
      ['-1t', '-jit-1t', '', '-jit', '-fma-jit'].map(
        (suffix): [string, string, (v: number) => number] => [
          `${w}${suffix}`,
          'samples/s',
          (v) => (v * flopsPerSample(w)) / 1e9,
        ],
      ),
    ),
  ];
  console.log('\nshare of the first limit (W2, W3: GFLOPS of their samples/s):');
  for (const [name, key, toGflops] of shares) {
    const v = results.get(name)?.[key];
    if (typeof v !== 'number') continue;
    const gflops = toGflops(v);
    const paired = results.get(name)?.['N=1024 share (paired)'];
    const pairedLimit = results.get(name)?.['limit GFLOPS (paired)'];
    const pairedEpochs = results.get(name)?.['share (paired)'];
    const inProcess =
      typeof paired === 'number' && typeof pairedLimit === 'number'
        ? `   (each repetition beside a run of the limit in its process: ${paired.toFixed(2)}× of ${pairedLimit.toFixed(1)})`
        : typeof pairedEpochs === 'number'
          ? `   (each epoch between two runs of the limit in its process: ${pairedEpochs.toFixed(2)}×)`
          : '';
    console.log(
      `${name.padEnd(10)} ${gflops.toFixed(2).padStart(7)} GFLOPS   ${(gflops / limit.gflops).toFixed(2)}×${inProcess}`,
    );
  }
  const fma = results.get('W1-fma-1t')?.['N=1024 FMA ÷ mul + add (paired)'];
  if (typeof fma === 'number')
    console.log(
      `W1 N=1024, 1 thread, FMA ÷ multiply + add, alternating in its process: ${fma.toFixed(2)}×`,
    );
  const speedUp = results.get('W1')?.['N=1024 threads ÷ 1 thread (paired)'];
  if (typeof speedUp === 'number')
    console.log(
      `W1 N=1024, all threads ÷ one, alternating in its process: ${speedUp.toFixed(2)}× (across processes: ${((results.get('W1')?.['N=1024 GFLOPS'] as number) / (results.get('W1-1t')?.['N=1024 GFLOPS'] as number)).toFixed(2)}×)`,
    );
}

/** The last JSON line a command prints, or null if it fails (the reference is not installed). */
function runReference(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Record<string, number | string> | null {
  try {
    const output = execFileSync(command, args, { encoding: 'utf8', env });
    return JSON.parse(output.trim().split('\n').pop()!) as Record<string, number | string>;
  } catch {
    return null;
  }
}

/**
 * --compare: the same workloads in PyTorch (bench/pytorch/workloads.py, 1 thread, run as the
 * BENCHMARKS.md anchors were) when /usr/bin/python3 has torch, and in TensorFlow.js 4.22 wasm
 * (bench/tfjs/workloads.ts); then nabla's ratio to each.
 */
if (compare) {
  const torchEnv: NodeJS.ProcessEnv = {
    ...process.env,
    MALLOC_MMAP_THRESHOLD_: '33554432',
    MALLOC_TRIM_THRESHOLD_: '268435456',
    // One thread, as torch.set_num_threads(1) asks, pinned for OpenMP and OpenBLAS too.
    OMP_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
  };
  delete torchEnv['OPENBLAS_CORETYPE'];
  delete torchEnv['OPENBLAS_L2_SIZE'];
  const pytorch = fileURLToPath(new URL('../../bench/pytorch/workloads.py', import.meta.url));
  const tfjs = fileURLToPath(new URL('./tfjs/workloads.js', import.meta.url));
  const references = [
    runReference('/usr/bin/python3', [pytorch, '1'], torchEnv),
    runReference(process.execPath, [tfjs], process.env),
  ];
  if (!references[0]) console.log('PyTorch skipped: /usr/bin/python3 with torch is not available');
  const figure = (workload: string, key: string): number | undefined => {
    const v = results.get(workload)?.[key];
    return typeof v === 'number' ? v : undefined;
  };
  const rows: [string, number | undefined, string][] = [
    ['W1 N=1024, 1 thread', figure('W1-1t', 'N=1024 GFLOPS'), 'W1 N=1024 GFLOPS'],
    ['W1 N=1024, 2 threads', figure('W1', 'N=1024 GFLOPS'), 'W1 N=1024 GFLOPS'],
    ['W1 Aᵀ·B, 2 threads', figure('W1', 'Aᵀ·B GFLOPS'), 'W1 Aᵀ·B GFLOPS'],
    ['W1 A·Bᵀ, 2 threads', figure('W1', 'A·Bᵀ GFLOPS'), 'W1 A·Bᵀ GFLOPS'],
    ['W2 eager, 1 thread', figure('W2-1t', 'samples/s'), 'W2 samples/s'],
    ['W2 jit, 1 thread', figure('W2-jit-1t', 'samples/s'), 'W2 samples/s'],
    ['W2 eager, 2 threads', figure('W2', 'samples/s'), 'W2 samples/s'],
    ['W2 jit, 2 threads', figure('W2-jit', 'samples/s'), 'W2 samples/s'],
    ['W2 jit, 2 threads, FMA', figure('W2-fma-jit', 'samples/s'), 'W2 samples/s'],
    ['W3 eager, 1 thread', figure('W3-1t', 'samples/s'), 'W3 samples/s'],
    ['W3 jit, 1 thread', figure('W3-jit-1t', 'samples/s'), 'W3 samples/s'],
    ['W3 eager, 2 threads', figure('W3', 'samples/s'), 'W3 samples/s'],
    ['W3 jit, 2 threads', figure('W3-jit', 'samples/s'), 'W3 samples/s'],
    ['W4 eager', figure('W4', 'steps/s'), 'W4 steps/s'],
    ['W4 jit', figure('W4-jit', 'steps/s'), 'W4 steps/s'],
    ['W5 eager', figure('W5', 'GB/s'), 'W5 GB/s'],
    ['W5 disposing, 1 thread', figure('W5-disposing-1t', 'GB/s'), 'W5 GB/s'],
    ['W5 disposing, 2 threads', figure('W5-disposing', 'GB/s'), 'W5 GB/s'],
    ['W5 jit/addcmul, 1 thread', figure('W5-jit-1t', 'GB/s'), 'W5 addcmul GB/s'],
    ['W5 jit/addcmul, 2 threads', figure('W5-jit', 'GB/s'), 'W5 addcmul GB/s'],
    ['W7 CNN, 1 thread', figure('W7-1t', 'samples/s'), 'W7 samples/s'],
    ['W7 CNN, 2 threads', figure('W7', 'samples/s'), 'W7 samples/s'],
  ];
  compareA2(torchEnv);
  if (references[0]) interleavedW2(pytorch, torchEnv);
  for (const reference of references) {
    if (!reference) continue;
    console.log(`\n${String(reference['workload'])}, same machine:`);
    for (const [label, ours, key] of rows) {
      const theirs = reference[key];
      if (ours !== undefined && typeof theirs === 'string')
        console.log(`${label.padEnd(26)} nabla ${+ours.toPrecision(4)}   them: ${theirs}`);
      if (ours === undefined || typeof theirs !== 'number') continue;
      console.log(
        `${label.padEnd(26)} nabla ${+ours.toPrecision(4)}   them ${+theirs.toPrecision(4)}   ratio ${(ours / theirs).toFixed(2)}×`,
      );
    }
  }
}

/**
 * W2 jit on two threads (multiply + add, and relaxed-SIMD FMA) against PyTorch's W2 on one thread,
 * in alternating processes (three rounds, the order reversed each round): this machine's speed
 * drifts by up to 40% within minutes, so figures measured minutes apart compare the drift as much
 * as the frameworks. Each round runs nabla on one thread too: two threads ÷ one shows what the
 * second core gave in that round (on this VM, from 1.1× to 1.9× within minutes).
 */
function interleavedW2(pytorch: string, torchEnv: NodeJS.ProcessEnv): void {
  const mlp = fileURLToPath(new URL('./workloads/mlp.js', import.meta.url));
  const fma = fileURLToPath(new URL('./workloads/fma.js', import.meta.url));
  const samplesPerSecond = {
    nabla: (): unknown =>
      runReference(process.execPath, [mlp, 'W2', 'jit'], process.env)?.['samples/s'],
    'nabla FMA': (): unknown =>
      runReference(process.execPath, [fma, 'mlp', 'W2', 'jit'], process.env)?.['samples/s'],
    'nabla 1 thread': (): unknown =>
      runReference(process.execPath, [mlp, 'W2', 'jit'], {
        ...process.env,
        NABLA_NUM_THREADS: '1',
      })?.['samples/s'],
    PyTorch: (): unknown =>
      runReference('/usr/bin/python3', [pytorch, '1', 'W2'], torchEnv)?.['W2 samples/s'],
  };
  type Who = keyof typeof samplesPerSecond;
  const rounds: Record<Who, number>[] = [];
  for (let round = 0; round < 3; round++) {
    const order = Object.keys(samplesPerSecond) as Who[];
    if (round % 2 === 1) order.reverse();
    const figures: Partial<Record<Who, unknown>> = {};
    for (const who of order) figures[who] = samplesPerSecond[who]();
    if (order.some((who) => typeof figures[who] !== 'number')) return;
    rounds.push(figures as Record<Who, number>);
  }
  for (const who of ['nabla', 'nabla FMA'] as const) {
    const ratios = rounds.map((r) => r[who] / r.PyTorch).sort((a, b) => a - b);
    const shown = rounds.map((r) => `${Math.round(r[who])} / ${Math.round(r.PyTorch)}`);
    console.log(
      `${who === 'nabla' ? '\n' : ''}W2 jit, 2 threads${who === 'nabla' ? '' : ', FMA'} ÷ PyTorch, 1 thread, alternating processes (samples/s): ${shown.join(', ')}; median ratio ${ratios[1]!.toFixed(2)}×`,
    );
  }
  const speedUps = rounds.map((r) => (r.nabla / r['nabla 1 thread']).toFixed(2));
  console.log(`W2 jit, 2 threads ÷ 1 thread in the same rounds: ${speedUps.join(', ')}`);
}

/**
 * A2 beside PyTorch's run of the same training (bench/pytorch/fashion.py): the time of the epochs
 * with their test evaluations, which is what the script times; nabla's whole run is shown too.
 */
function compareA2(torchEnv: NodeJS.ProcessEnv): void {
  const ours = results.get('A2');
  if (!ours) return;
  if (typeof ours['A2 seconds'] !== 'number') {
    console.log(`\nA2 skipped: ${String(ours['skipped'])}`);
    return;
  }
  const script = fileURLToPath(new URL('../../bench/pytorch/fashion.py', import.meta.url));
  const theirs = runReference('/usr/bin/python3', [script, 'mlp', '10', '0', 'cosine'], torchEnv);
  const line = (who: string, r: Record<string, number | string>): string =>
    `${who} ${(r['A2 seconds'] as number).toFixed(1)} s, test accuracy ${(r['A2 accuracy'] as number).toFixed(4)}`;
  const whole = `(the whole run, loading and files included: ${(ours['A2 run seconds'] as number).toFixed(1)} s)`;
  console.log(
    `\nA2 (Fashion-MNIST 784-256-128-10, 10 epochs, 1 thread): ${line('nabla', ours)} ${whole}`,
  );
  if (!theirs) console.log('PyTorch A2 skipped: no /usr/bin/python3 with torch');
  else
    console.log(
      `${line(String(theirs['workload']), theirs)}; nabla takes ${((ours['A2 seconds'] as number) / (theirs['A2 seconds'] as number)).toFixed(2)}× its time`,
    );
}

/**
 * --device webgpu: the GPU workloads in a fresh process and, where python3 (on the PATH, else
 * /usr/bin's) has torch with CUDA, the same in PyTorch (TF32 off), with nabla's ratio to it.
 */
function benchWebGpu(small: boolean): void {
  console.log(`nabla bench --device webgpu — ${new Date().toISOString()}, Node ${process.version}`);
  const script = fileURLToPath(new URL('./workloads/webgpu.js', import.meta.url));
  const ours = runReference(process.execPath, small ? [script, 'small'] : [script], process.env);
  if (!ours) throw new Error('the WebGPU workloads failed (is there an adapter? see the README)');
  const cuda = fileURLToPath(new URL('../../bench/pytorch/cuda.py', import.meta.url));
  // GPU machines keep torch in their own python3 (a virtual environment on the PATH), not always
  // in the system's.
  const theirs = small
    ? null
    : (runReference('python3', [cuda], process.env) ??
      runReference('/usr/bin/python3', [cuda], process.env));
  console.log(String(ours['workload']));
  if (theirs) console.log(`against ${String(theirs['workload'])}`);
  else console.log('PyTorch CUDA skipped: no python3 with torch and a CUDA device (or --small)');
  for (const [key, value] of Object.entries(ours)) {
    if (typeof value !== 'number') continue;
    const reference = theirs?.[key];
    // Times (µs) are better when smaller: their ratio is inverted so that > 1 means nabla is ahead.
    const ratio =
      typeof reference === 'number'
        ? `   PyTorch ${+reference.toPrecision(4)}   ratio ${(key.startsWith('µs') ? reference / value : value / reference).toFixed(2)}×`
        : '';
    console.log(`${key.padEnd(26)} ${+value.toPrecision(4)}${ratio}`);
  }
}
