/** Reading the committed PyTorch goldens and comparing nabla's values against them. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Encoded = number | 'nan' | 'inf' | '-inf';
export interface GoldenRun {
  shape: number[];
  dtype: string;
  out: Encoded[];
  grads?: Encoded[][];
}
export interface GoldenCase {
  hash: string;
  float64: GoldenRun;
  float32: GoldenRun;
}
export interface GoldenFile {
  torch: string;
  cases: Record<string, GoldenCase>;
}

export function loadGoldens(name: string): GoldenFile {
  // Tests run from dist/test/; the JSON stays in the source tree.
  const path = fileURLToPath(new URL(`../../../test/golden/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as GoldenFile;
}

export function decode(v: Encoded): number {
  return v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v;
}

/** Throws unless |actual − expected| ≤ atol + rtol·|expected| everywhere (NaN matches NaN). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: readonly Encoded[],
  rtol: number,
  atol: number,
  what: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i]!, decode(expected[i]!)];
    if (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e))
      continue;
    throw new Error(
      `${what}: element ${i} is ${a}, PyTorch gives ${e} (rtol ${rtol}, atol ${atol})`,
    );
  }
}
