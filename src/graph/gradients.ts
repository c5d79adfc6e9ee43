import { opError } from '../core/errors.js';
import { runBackward } from '../autograd/backward.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Symbolic gradients (TF1's tf.gradients): new graph nodes computing ∂(Σ ys)/∂x for each x, built
 * by the same walker and the same registered gradients as eager backward(). Null where a x does not
 * affect ys.
 */
export function gradients(
  ys: Tensor | readonly Tensor[],
  xs: Tensor | readonly Tensor[],
  gradYs?: readonly Tensor[],
): (Tensor | null)[] {
  const outs = Array.isArray(ys) ? (ys as readonly Tensor[]) : [ys as Tensor];
  const ins = Array.isArray(xs) ? (xs as readonly Tensor[]) : [xs as Tensor];
  for (const t of [...outs, ...ins]) {
    if (!t.isSymbolic) throw opError('gradients', 'ys and xs must be symbolic tensors of a graph');
  }
  const seeds = outs.map((y, i) => gradYs?.[i] ?? ops.filledAs(1, y));
  const live = outs.map((y, i) => [y, seeds[i]!] as const).filter(([y]) => y.requiresGrad);
  const results = runBackward(
    live.map(([y]) => y),
    live.map(([, s]) => s),
    { createGraph: true, retainGraph: true },
    ins,
  );
  return ins.map((x) => results.get(x) ?? null);
}
