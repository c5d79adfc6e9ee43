/**
 * How the lecture writes each op: its formula, and the local derivative ∂out/∂input for each input
 * (as a formula in the operands' names). Ops without an entry are shown by name, with their vjp.
 */
export interface OpNotation {
  formula(args: readonly string[]): string;
  /** ∂out/∂args[i], given the output's and the inputs' names. */
  local(i: number, args: readonly string[], out: string): string;
}

const n = (formula: OpNotation['formula'], local: OpNotation['local']): OpNotation => ({
  formula,
  local,
});

export const NOTATION: Record<string, OpNotation> = {
  Add: n(
    ([a, b]) => `${a} + ${b}`,
    () => '1',
  ),
  Sub: n(
    ([a, b]) => `${a} − ${b}`,
    (i) => (i === 0 ? '1' : '−1'),
  ),
  Mul: n(
    ([a, b]) => `${a} · ${b}`,
    (i, [a, b]) => (i === 0 ? b! : a!),
  ),
  Div: n(
    ([a, b]) => `${a} / ${b}`,
    (i, [a, b]) => (i === 0 ? `1/${b}` : `−${a}/${b}²`),
  ),
  Pow: n(
    ([a, b]) => `${a}^${b}`,
    (i, [a, b], out) => (i === 0 ? `${b}·${a}^(${b}−1)` : `${out}·ln ${a}`),
  ),
  Neg: n(
    ([a]) => `−${a}`,
    () => '−1',
  ),
  Square: n(
    ([a]) => `${a}²`,
    (_i, [a]) => `2${a}`,
  ),
  Sqrt: n(
    ([a]) => `√${a}`,
    (_i, _a, out) => `1/(2${out})`,
  ),
  Exp: n(
    ([a]) => `exp(${a})`,
    (_i, _a, out) => out,
  ),
  Log: n(
    ([a]) => `ln ${a}`,
    (_i, [a]) => `1/${a}`,
  ),
  Abs: n(
    ([a]) => `|${a}|`,
    (_i, [a]) => `sign(${a})`,
  ),
  Sigmoid: n(
    ([a]) => `σ(${a})`,
    (_i, _a, out) => `${out}(1 − ${out})`,
  ),
  Tanh: n(
    ([a]) => `tanh(${a})`,
    (_i, _a, out) => `1 − ${out}²`,
  ),
  Relu: n(
    ([a]) => `max(${a}, 0)`,
    (_i, [a]) => `[${a} > 0]`,
  ),
  MatMul: n(
    ([a, b]) => `${a} @ ${b}`,
    (i, [a, b]) => (i === 0 ? `(·) @ ${b}ᵀ` : `${a}ᵀ @ (·)`),
  ),
  Sum: n(
    ([a]) => `Σ ${a}`,
    () => '1',
  ),
  Max: n(
    ([a]) => `max ${a}`,
    (_i, [a]) => `[${a} = max]`,
  ),
  Min: n(
    ([a]) => `min ${a}`,
    (_i, [a]) => `[${a} = min]`,
  ),
  Reshape: n(
    ([a]) => `reshape(${a})`,
    () => '1 (reshaped)',
  ),
  Permute: n(
    ([a]) => `${a}ᵀ`,
    () => '1 (transposed)',
  ),
  Expand: n(
    ([a]) => `broadcast(${a})`,
    () => '1 (summed back)',
  ),
  Where: n(
    ([c, a, b]) => `${c} ? ${a} : ${b}`,
    (i, [c]) => (i === 1 ? `[${c}]` : i === 2 ? `[not ${c}]` : '0'),
  ),
};
