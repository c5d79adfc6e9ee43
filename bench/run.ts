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
  W5: ['w5-elementwise'],
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

const cpu = `${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}`;
console.log(`nabla bench — ${new Date().toISOString()} — ${cpu}, Node ${process.version}`);
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
  const figures = Object.entries(result)
    .filter(([k]) => k !== 'workload')
    .map(([k, v]) => `${k}: ${typeof v === 'number' ? +v.toPrecision(4) : v}`);
  console.log(`${String(result['workload']).padEnd(34)} ${figures.join('   ')}`);
}
