import type { Tensor } from '../tensor/tensor.js';

/** Gradients the engine made (backward, nb.jit replays): only these are freed when dropped. */
const engineGrads = new WeakSet<Tensor>();

/** Records that the engine computed `grad` (so zeroGrad may free it). */
export function markEngineGrad(grad: Tensor): Tensor {
  engineGrads.add(grad);
  return grad;
}

/** Sets `param.grad` to a gradient the engine computed, freeing the one it replaces. */
export function setEngineGrad(param: Tensor, grad: Tensor): void {
  if (param.grad && param.grad !== grad) dropGrad(param.grad);
  param.grad = markEngineGrad(grad);
}

/** Frees a dropped gradient if the engine made it (one a user assigned is the user's). */
function dropGrad(grad: Tensor): void {
  if (engineGrads.has(grad) && !grad.isSymbolic) grad.dispose();
}

/**
 * zeroGrad for modules and optimizers: sets each `.grad` to null, as PyTorch's default does, and
 * frees the memory of gradients the engine made at once (a clone keeps a copy). Inside nb.jit the
 * gradients are symbolic and belong to the trace.
 */
export function zeroGrads(params: Iterable<Tensor>): void {
  for (const p of params) {
    if (p.grad) dropGrad(p.grad);
    p.grad = null;
  }
}
