/**
 * `node dist/bench/jit-ratio.js`: eager vs jit for W2 and W4 as BENCHMARKS.md asks (each figure from
 * a fresh process) and side by side: the eager and jit processes alternate, five pairs each, so host
 * drift (up to ±50% between runs on these VMs) hits both alike. Prints each median and the ratios.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './harness.js';

const PAIRS = 5;
const run = (script: string, args: string[], key: string): number => {
  const path = fileURLToPath(new URL(`./workloads/${script}.js`, import.meta.url));
  const line = execFileSync(process.execPath, [path, ...args], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  return (JSON.parse(line) as Record<string, number>)[key]!;
};

const results: Record<string, { eager: number[]; jit: number[] }> = {
  W4: { eager: [], jit: [] },
  W2: { eager: [], jit: [] },
};
for (let i = 0; i < PAIRS; i++) {
  for (const mode of ['eager', 'jit'] as const) {
    results['W4']![mode].push(run('w4-xor', [mode], 'steps/s'));
    results['W2']![mode].push(run('mlp', ['W2', mode], 'samples/s'));
  }
}
for (const [name, { eager, jit }] of Object.entries(results)) {
  const ratios = eager.map((e, i) => jit[i]! / e);
  console.log(
    `${name}: eager ${median(eager).toFixed(0)}, jit ${median(jit).toFixed(0)} (medians of ${PAIRS} fresh processes each); ` +
      `jit/eager ${(median(jit) / median(eager)).toFixed(2)}× (pairwise ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
  );
}
