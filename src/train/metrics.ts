/** Classification metrics on predictions and targets (no gradients). */
import { isFloat } from '../core/dtype.js';
import { formatShape, opError } from '../core/errors.js';
import { noGrad } from '../engine/grad-mode.js';
import * as ops from '../ops/index.js';
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

/** Predicted and true class indices ([N], int32) from any accepted prediction/target form. */
function classes(prediction: Tensor, target: Tensor, threshold: number): [Tensor, Tensor] {
  const n = prediction.shape[0];
  const wide = (t: Tensor): boolean => t.ndim === 2 && t.shape[1]! > 1;
  const asIndices = (t: Tensor, isPrediction: boolean): Tensor => {
    if (wide(t)) return ops.argmax(t, 1); // logits, probabilities or one-hot rows
    const flat = t.ndim === 2 ? ops.squeeze(t, 1) : t;
    if (flat.ndim !== 1)
      throw opError('accuracy', `expected [N], [N, 1] or [N, C], got ${formatShape(t.shape)}`);
    // Binary probabilities are thresholded; integer labels are taken as they are.
    return isFloat(flat.dtype) && isPrediction
      ? ops.cast(ops.ge(flat, threshold), 'int32')
      : ops.cast(flat, 'int32');
  };
  if (target.shape[0] !== n) {
    throw opError(
      'accuracy',
      `prediction ${formatShape(prediction.shape)} and target ${formatShape(target.shape)} differ in batch size`,
    );
  }
  return [asIndices(prediction, true), asIndices(target, false)];
}

/**
 * The fraction of correct predictions. Multi-class: logits or probabilities [N, C] vs class indices
 * [N] or one-hot [N, C]. Binary: probabilities [N] or [N, 1], thresholded at `threshold`, vs 0/1.
 */
export function accuracy(prediction: Tensor, target: Tensor, { threshold = 0.5 } = {}): number {
  return noGrad(() => {
    const n = prediction.shape[0]!;
    return n === 0 ? 0 : correctCount(prediction, target, threshold).item() / n;
  });
}

/** How many predictions are right, as a 0-d int32 tensor on the predictions' device. */
export function correctCount(prediction: Tensor, target: Tensor, threshold = 0.5): Tensor {
  return noGrad(() => {
    const [p, t] = classes(prediction, target, threshold);
    return ops.sum(ops.eq(p, t));
  });
}

/** counts[i][j] = samples of true class i predicted as j, as an int32 [C, C] tensor. */
export function confusionMatrix(prediction: Tensor, target: Tensor, numClasses?: number): Tensor {
  return noGrad(() => {
    const [p, t] = classes(prediction, target, 0.5);
    const predicted = p.dataSync();
    const truth = t.dataSync();
    let c =
      numClasses ?? (prediction.ndim === 2 && prediction.shape[1]! > 1 ? prediction.shape[1]! : 2);
    for (let i = 0; i < truth.length; i++) c = Math.max(c, truth[i]! + 1, predicted[i]! + 1);
    if (numClasses !== undefined && c > numClasses) {
      throw opError('confusionMatrix', `found class ${c - 1}, but numClasses is ${numClasses}`);
    }
    const matrix = zeros([c, c], { dtype: 'int32' });
    const counts = matrix.dataSync();
    for (let i = 0; i < truth.length; i++) counts[truth[i]! * c + predicted[i]!]!++;
    return matrix;
  });
}
