/**
 * The op case table's types and the deterministic inputs each case gets. One table drives the
 * PyTorch goldens (scripts/golden), the float64 gradchecks, and (later) graph parity and backends.
 */
import type { Tensor } from '../../src/index.js';

export interface InputSpec {
  readonly shape: readonly number[];
  /** float inputs are run as float32 and as float64 and are differentiated; int32 are indices. */
  readonly dtype: 'float' | 'int32';
  /** Uniform range for generated values. */
  readonly range?: readonly [number, number];
  /** Round generated values to integers (to create ties for comparisons). */
  readonly integers?: boolean;
  /** Explicit values (row-major), instead of generated ones. */
  readonly values?: readonly number[];
}

export interface OpCase {
  /** Unique id: `op/what-it-covers`. */
  readonly id: string;
  /** The API op this case covers (API.md's name). */
  readonly op: string;
  readonly inputs: readonly InputSpec[];
  readonly nb: (...inputs: Tensor[]) => Tensor;
  /** The same computation in PyTorch, over inputs named a, b, c (torch, F = torch.nn.functional). */
  readonly torch: string;
  /** Highest derivative order checked by finite differences: 0 skips (non-differentiable). */
  readonly gradOrder: 0 | 1 | 2;
}

export const float = (
  shape: readonly number[],
  range: readonly [number, number] = [-2, 2],
  integers = false,
): InputSpec => ({
  shape,
  dtype: 'float',
  range,
  integers,
});
export const given = (shape: readonly number[], values: readonly number[]): InputSpec => ({
  shape,
  dtype: 'float',
  values,
});
export const index = (shape: readonly number[], values: readonly number[]): InputSpec => ({
  shape,
  dtype: 'int32',
  values,
});

/** FNV-1a over a string: identifies a case's definition in the golden file. */
export function hashString(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function generator(seed: string): () => number {
  let x = parseInt(hashString(seed), 16) || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** The input values of a case (float64), the same on every run and in Python. */
export function inputValues(c: OpCase): number[][] {
  const next = generator(c.id);
  return c.inputs.map((spec) => {
    if (spec.values) return [...spec.values];
    const [lo, hi] = spec.range ?? [-2, 2];
    const size = spec.shape.reduce((a, b) => a * b, 1);
    return Array.from({ length: size }, () => {
      const v = lo + (hi - lo) * next();
      return spec.integers ? Math.round(v) : v;
    });
  });
}

/** The cotangent ∂L/∂out used for golden gradients, for an output of `size` elements. */
export function cotangentValues(c: OpCase, size: number): number[] {
  const next = generator(`${c.id}/cotangent`);
  return Array.from({ length: size }, () => Math.round((next() * 4 - 2) * 1024) / 1024);
}

export function caseHash(c: OpCase): string {
  return hashString(JSON.stringify({ torch: c.torch, inputs: c.inputs, values: inputValues(c) }));
}
