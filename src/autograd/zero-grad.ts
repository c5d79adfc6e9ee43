import type { Tensor } from '../tensor/tensor.js';

/**
 * zeroGrad for modules and optimizers: sets each `.grad` to null, as PyTorch's default does, and
 * frees the dropped gradient's memory at once (a clone keeps a copy). Inside nb.jit the gradients
 * are symbolic and belong to the trace.
 */
export function zeroGrads(params: Iterable<Tensor>): void {
  for (const p of params) {
    if (p.grad && !p.grad.isSymbolic) p.grad.dispose();
    p.grad = null;
  }
}
