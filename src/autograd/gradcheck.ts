/**
 * Gradient checking by central finite differences in float64, like `torch.autograd.gradcheck`.
 * The output is reduced with a fixed random cotangent (s = Σ f(x)·w), so one backward pass gives the
 * analytic gradient; each input element is then perturbed by ±eps. Order 2 checks the gradient of
 * ⟨∇s, u⟩ for a random u, which exercises every second derivative that backward records.
 */
import * as ops from '../ops/index.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { grad } from './backward.js';

export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** 1: first derivatives; 2: also second derivatives (through createGraph). */
  order?: 1 | 2;
}

export interface GradcheckReport {
  ok: boolean;
  /** Largest |analytic − numeric| over all inputs and elements. */
  maxError: number;
  /** For each input: the analytic and the numeric gradient of s = Σ f(x)·w. */
  analytic: number[][];
  numeric: number[][];
  /** Human-readable descriptions of the elements that failed. */
  failures: string[];
}

type Fn = (...inputs: Tensor[]) => Tensor;

/** A small deterministic generator, so checks never disturb the global seed. */
function cotangent(size: number, salt: number): Float64Array {
  const out = new Float64Array(size);
  let x = (0x2545f491 ^ salt) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = (x / 2 ** 32) * 2 - 1;
  }
  return out;
}

function asFloat64Leaves(inputs: readonly Tensor[]): Tensor[] {
  return inputs.map((t) => {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') return t;
    const copy = tensor(Float64Array.from(t.dataSync()), { shape: t.shape });
    return copy.requiresGrad_(true);
  });
}

function weightedSum(fn: Fn, inputs: readonly Tensor[]): Tensor {
  const out = fn(...inputs);
  const w = tensor(cotangent(out.size, out.size), { shape: out.shape });
  return ops.sum(ops.mul(ops.cast(out, 'float64'), w));
}

function check(s: Fn, inputs: Tensor[], eps: number, atol: number, rtol: number): GradcheckReport {
  const diffInputs = inputs.filter((t) => t.requiresGrad);
  const analyticGrads = grad(s(...inputs), diffInputs, { allowUnused: true, createGraph: false });
  const report: GradcheckReport = {
    ok: true,
    maxError: 0,
    analytic: [],
    numeric: [],
    failures: [],
  };
  diffInputs.forEach((input, k) => {
    const data = input.dataSync();
    const analytic = Array.from(analyticGrads[k]!.dataSync());
    const numeric = analytic.map((_, i) => {
      const saved = data[i]!;
      data[i] = saved + eps;
      const plus = s(...inputs).item();
      data[i] = saved - eps;
      const minus = s(...inputs).item();
      data[i] = saved;
      return (plus - minus) / (2 * eps);
    });
    // (s is evaluated with grad mode on: at order 2 it differentiates internally.)
    numeric.forEach((n, i) => {
      const error = Math.abs(analytic[i]! - n);
      report.maxError = Math.max(report.maxError, Number.isNaN(error) ? Infinity : error);
      if (!(error <= atol + rtol * Math.abs(n))) {
        report.ok = false;
        report.failures.push(`input ${k}, element ${i}: analytic ${analytic[i]} vs numeric ${n}`);
      }
    });
    report.analytic.push(analytic);
    report.numeric.push(numeric);
  });
  return report;
}

/**
 * Checks `fn`'s gradients against finite differences in float64; float inputs are copied to float64.
 *
 * @example nb.gradcheck((x) => x.tanh(), [nb.randn([3])]).ok; // true
 */
export function gradcheck(
  fn: Fn,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, order = 1 } = options;
  const leaves = asFloat64Leaves(inputs);
  const s: Fn = (...xs) => weightedSum(fn, xs);
  const first = check(s, leaves, eps, atol, rtol);
  if (order === 1 || !first.ok) return first;
  // h(x) = Σ_k ⟨∂s/∂x_k, u_k⟩ differentiated again checks every recorded second derivative.
  const h: Fn = (...xs) => {
    const diff = xs.filter((t) => t.requiresGrad);
    const grads = grad(s(...xs), diff, { createGraph: true, allowUnused: true });
    const terms = grads.map((g, k) =>
      ops.sum(ops.mul(g, tensor(cotangent(g.size, 7 + k), { shape: g.shape }))),
    );
    return terms.reduce((a, b) => ops.add(a, b));
  };
  const second = check(h, leaves, eps, atol, rtol);
  return { ...second, failures: second.failures.map((f) => `second order: ${f}`) };
}
