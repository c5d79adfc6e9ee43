/**
 * `npm run bench [-- name ...]`: runs each workload of ../shared/BENCHMARKS.md that nabla supports
 * so far, each in a fresh Node process, and prints the figures. Record them in bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Name → [script, ...arguments]; a `KEY=value` argument sets an environment variable. */
const WORKLOADS: Record<string, string[]> = {
  dispatch: ['dispatch'],
  'W1-js': ['w1-matmul', 'NABLA_CPU_KERNELS=js'],
  W1: ['w1-matmul'],
  W5: ['w5-elementwise', 'eager'],
  'W5-disposing': ['w5-elementwise', 'disposing'],
  'W5-jit': ['w5-elementwise', 'jit'],
  W4: ['w4-xor'],
  'W4-jit': ['w4-xor', 'jit'],
  'W4-graph': ['w4-graph'],
  W2: ['mlp', 'W2'],
  'W2-jit': ['mlp', 'W2', 'jit'],
  W3: ['mlp', 'W3'],
  'W3-jit': ['mlp', 'W3', 'jit'],
  'jit-ratio': ['jit-ratio'],
};
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const compare = process.argv.includes('--compare');

const cpu = `${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}`;
console.log(`nabla bench — ${new Date().toISOString()} — ${cpu}, Node ${process.version}`);
const results = new Map<string, Record<string, number | string>>();
for (const [name, [script, ...args]] of Object.entries(WORKLOADS)) {
  if (only.length > 0 && !only.includes(name)) continue;
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

/**
 * --compare: the same workloads in PyTorch (bench/pytorch/workloads.py, 1 thread, run as the
 * BENCHMARKS.md anchors were) when /usr/bin/python3 has torch, and nabla's ratio to it.
 */
if (compare) {
  const env: Record<string, string | undefined> = {
    ...process.env,
    MALLOC_MMAP_THRESHOLD_: '33554432',
    MALLOC_TRIM_THRESHOLD_: '268435456',
  };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  const script = fileURLToPath(new URL('../../bench/pytorch/workloads.py', import.meta.url));
  let torch: Record<string, number | string> | null = null;
  try {
    const output = execFileSync('/usr/bin/python3', [script, '1'], { encoding: 'utf8', env });
    torch = JSON.parse(output.trim().split('\n').pop()!) as Record<string, number | string>;
  } catch {
    console.log('PyTorch comparison skipped: /usr/bin/python3 with torch is not available');
  }
  if (torch) {
    const figure = (workload: string, key: string): number | undefined => {
      const v = results.get(workload)?.[key];
      return typeof v === 'number' ? v : undefined;
    };
    const rows: [string, number | undefined, string][] = [
      ['W1 N=1024 (wasm)', figure('W1', 'N=1024 GFLOPS'), 'W1 N=1024 GFLOPS'],
      ['W2 eager', figure('W2', 'samples/s'), 'W2 samples/s'],
      ['W2 jit', figure('W2-jit', 'samples/s'), 'W2 samples/s'],
      ['W3 eager', figure('W3', 'samples/s'), 'W3 samples/s'],
      ['W3 jit', figure('W3-jit', 'samples/s'), 'W3 samples/s'],
      ['W4 eager', figure('W4', 'steps/s'), 'W4 steps/s'],
      ['W4 jit', figure('W4-jit', 'steps/s'), 'W4 steps/s'],
      ['W5 eager', figure('W5', 'GB/s'), 'W5 GB/s'],
      ['W5 eager disposing', figure('W5-disposing', 'GB/s'), 'W5 GB/s'],
      ['W5 jit vs addcmul', figure('W5-jit', 'GB/s'), 'W5 addcmul GB/s'],
    ];
    console.log(`\n${String(torch['workload'])}, same machine:`);
    for (const [label, ours, key] of rows) {
      const theirs = torch[key];
      if (ours === undefined || typeof theirs !== 'number') continue;
      console.log(
        `${label.padEnd(20)} nabla ${+ours.toPrecision(4)}   PyTorch ${+theirs.toPrecision(4)}   ratio ${(ours / theirs).toFixed(2)}×`,
      );
    }
  }
}
