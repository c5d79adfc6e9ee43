/**
 * `npm run bench`: runs each workload of ../shared/BENCHMARKS.md that nabla supports so far, each in
 * a fresh Node process, and prints the figures. Record them in bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const WORKLOADS = ['dispatch', 'w5-elementwise', 'w4-xor'];
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));

console.log(
  `nabla bench — ${new Date().toISOString()} — ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, Node ${process.version}`,
);
for (const name of WORKLOADS.filter((w) => only.length === 0 || only.includes(w))) {
  const script = fileURLToPath(new URL(`./workloads/${name}.js`, import.meta.url));
  const line = execFileSync(process.execPath, [script], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  const result = JSON.parse(line) as Record<string, number | string>;
  const figures = Object.entries(result)
    .filter(([k]) => k !== 'workload')
    .map(([k, v]) => `${k}: ${typeof v === 'number' ? +v.toPrecision(4) : v}`);
  console.log(`${String(result['workload']).padEnd(22)} ${figures.join('   ')}`);
}
