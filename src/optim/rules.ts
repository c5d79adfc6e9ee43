/**
 * Update rules as pure functions of tensors, written with ops: eager `step()` applies them in place
 * under noGrad, and graph mode's `minimize()` can build the same rule as graph nodes. Each follows
 * PyTorch 1.13's single-tensor implementation, in the same order of operations.
 */
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';

export type RuleState = Record<string, Tensor>;
export interface RuleResult {
  param: Tensor;
  state: RuleState;
}

/**
 * A hyperparameter: a number, or (inside nb.jit) a 0-d float64 tensor that the compiled step reads
 * at every run, so that schedulers and `opt.lr = …` reach it.
 */
export type Hyper = number | Tensor;

/**
 * `value` as an operand beside the tensor `x`: a tensor is cast to the dtype a JS number would take
 * there, so compiled and eager steps compute the same floats.
 */
const beside = (value: Hyper, x: Tensor): Hyper =>
  typeof value === 'number' ? value : ops.cast(value, x.dtype);

export interface SGDHyper {
  lr: Hyper;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * One SGD step. State: momentumBuffer (zeros before the first step). As in PyTorch, the first step's
 * buffer is the gradient itself; `step` (counting from 1) tells the first step apart when
 * dampening makes that differ from the general formula.
 */
export function sgdRule(
  param: Tensor,
  grad: Tensor,
  state: RuleState,
  h: SGDHyper,
  step: number | Tensor = 1,
): RuleResult {
  let g = h.weightDecay !== 0 ? ops.add(grad, ops.mul(param, h.weightDecay)) : grad;
  const next: RuleState = {};
  if (h.momentum !== 0) {
    const previous = state['momentumBuffer'];
    // The first buffer is a copy of the gradient, as in PyTorch: state never aliases .grad.
    const blended = previous
      ? ops.add(ops.mul(previous, h.momentum), ops.mul(g, 1 - h.dampening))
      : g.clone();
    const buffer =
      h.dampening === 0 || !previous
        ? blended // with zero dampening the formula gives g on the first step anyway
        : typeof step === 'number'
          ? step === 1
            ? g.clone()
            : blended
          : ops.where(ops.eq(step, 1), g, blended);
    next['momentumBuffer'] = buffer;
    g = h.nesterov ? ops.add(g, ops.mul(buffer, h.momentum)) : buffer;
  }
  return { param: ops.sub(param, ops.mul(g, beside(h.lr, g))), state: next };
}

/** The smallest normal float32, 2⁻¹²⁶. */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;
/**
 * Moments of fewer elements are read as they are: their subnormal arithmetic costs less than the
 * three ops of the mask, which run one by one on small eager parameters (XOR with Adam, eager:
 * 0.83–0.85× with the mask on every moment).
 */
const MASKED_MIN_SIZE = 4096;

/**
 * A large float32 moment with its subnormal entries read as zero (the denormals-are-zero mode
 * TensorFlow's CPU kernels run in). A unit whose gradient stays zero (a dead ReLU) decays its
 * moments into the subnormal range, where they stay: 0.9 · k·2⁻¹⁴⁹ rounds back to k·2⁻¹⁴⁹ for
 * k ≤ 4. Such a moment moves its parameter by less than 10⁻³⁰ · lr, but every operation on it runs
 * 1.2–2.6× slower on x86 (W2 spent twice as long in its parameter update). NaN passes through
 * (its mask is 0, and NaN · 0 is NaN), and so does ±Inf (its mask is 1). The multiply reads x twice
 * but stays one fused kernel (large parameters' updates are compiled), since x is a kernel input.
 */
function withoutSubnormals(x: Tensor | undefined): Tensor | undefined {
  if (x === undefined || x.dtype !== 'float32' || x.size < MASKED_MIN_SIZE) return x;
  return ops.mul(x, ops.ge(ops.abs(x), FLOAT32_MIN_NORMAL));
}

export interface AdamHyper {
  lr: Hyper;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decay the weights directly instead of adding weightDecay·param to the gradient. */
  decoupled: boolean;
}

/**
 * One Adam(W) step; `step` counts from 1: a number eagerly, or a tensor (a graph's step counter).
 * State: expAvg (m) and expAvgSq (v).
 */
export function adamRule(
  param: Tensor,
  grad: Tensor,
  state: RuleState,
  h: AdamHyper,
  step: number | Tensor,
): RuleResult {
  let p = param;
  let g = grad;
  if (h.weightDecay !== 0) {
    if (h.decoupled)
      p = ops.mul(
        p,
        typeof h.lr === 'number'
          ? 1 - h.lr * h.weightDecay
          : beside(ops.sub(1, ops.mul(h.lr, h.weightDecay)), p),
      );
    else g = ops.add(g, ops.mul(p, h.weightDecay));
  }
  const m0 = withoutSubnormals(state['expAvg']) ?? ops.zerosLike(param);
  const v0 = withoutSubnormals(state['expAvgSq']) ?? ops.zerosLike(param);
  const m = ops.add(ops.mul(m0, h.beta1), ops.mul(g, 1 - h.beta1));
  const v = ops.add(ops.mul(v0, h.beta2), ops.mul(ops.mul(g, g), 1 - h.beta2));
  // Bias corrections in float64 (JS numbers) when the step is known, as PyTorch computes them.
  const stepSize =
    typeof step === 'number' && typeof h.lr === 'number'
      ? h.lr / (1 - h.beta1 ** step)
      : ops.div(h.lr, ops.sub(1, ops.pow(h.beta1, step)));
  const correction2 =
    typeof step === 'number'
      ? Math.sqrt(1 - h.beta2 ** step)
      : ops.sqrt(ops.sub(1, ops.pow(h.beta2, step)));
  const denom = ops.add(ops.div(ops.sqrt(v), correction2), h.eps);
  return {
    param: ops.sub(p, ops.mul(ops.div(m, denom), stepSize)),
    state: { expAvg: m, expAvgSq: v },
  };
}
