import { opError } from '../core/errors.js';
import { bind, defineFunctionOp, type OpContext, type TensorMeta } from '../ops/define.js';
import type { Tensor } from '../tensor/tensor.js';

export interface CustomOpSpec {
  /** The op's name: it names the tape node, and `registerGradient(name, ...)` can replace it. */
  name: string;
  /** Computes the output from the inputs; runs without recording a graph. */
  forward: (...inputs: Tensor[]) => Tensor;
  /**
   * ∂L/∂input for each input, given the op (its inputs and output) and ∂L/∂output. Written with
   * nabla ops, it can itself be differentiated (higher-order gradients).
   */
  backward: (op: OpContext<undefined>, dy: Tensor) => readonly (Tensor | null | undefined)[];
  /** The output's shape and dtype from the inputs': lets the op be a node of a tf1 graph too. */
  infer?: (inputs: readonly TensorMeta[]) => TensorMeta;
  /**
   * Declares that `forward` only composes nabla ops and has no side effects (no reads of values,
   * no counters): graphs and nb.jit then run it as those ops, fused with their neighbours, instead
   * of as one opaque step. Its gradient is still `backward`.
   */
  inline?: boolean;
}

/**
 * A user-defined op with its own gradient, like `torch.autograd.Function`.
 *
 * @example
 * const cube = nb.customOp({
 *   name: 'Cube',
 *   forward: (x) => x.mul(x).mul(x),
 *   backward: ({ inputs: [x] }, dy) => [dy.mul(x!.square()).mul(3)],
 * });
 */
export function customOp(spec: CustomOpSpec): (...inputs: Tensor[]) => Tensor {
  if (!spec.name || typeof spec.forward !== 'function' || typeof spec.backward !== 'function') {
    throw opError('customOp', 'needs { name, forward, backward }');
  }
  const op = defineFunctionOp<undefined>({
    name: spec.name,
    forward: (inputs) => spec.forward(...inputs),
    vjp: spec.backward,
    ...(spec.infer && { infer: spec.infer }),
    ...(spec.inline && { inline: true }),
  });
  return (...inputs) => bind(op, inputs, undefined);
}
