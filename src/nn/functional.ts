/**
 * Losses as functions (`nb.nn.functional`), composed from ops: no gradient code of their own.
 * Predictions and targets must have matching shapes (PyTorch only warns when they broadcast, which
 * silently trains the wrong thing).
 */
import { isFloat } from '../core/dtype.js';
import { formatShape, opError } from '../core/errors.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import { customOp } from '../autograd/custom-op.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';
export interface LossOptions {
  reduction?: Reduction;
}

function reduce(loss: Tensor, reduction: Reduction = 'mean'): Tensor {
  switch (reduction) {
    case 'mean':
      return ops.mean(loss);
    case 'sum':
      return ops.sum(loss);
    case 'none':
      return loss;
    default:
      throw opError(
        'loss',
        `unknown reduction '${String(reduction)}'; use 'mean', 'sum' or 'none'`,
      );
  }
}

function matchingTarget(op: string, prediction: Tensor, target: Tensor): Tensor {
  if (!shapesEqual(prediction.shape, target.shape)) {
    throw opError(
      op,
      `target of shape ${formatShape(target.shape)} does not match prediction of shape ${formatShape(prediction.shape)}`,
    );
  }
  return isFloat(target.dtype) ? target : ops.cast(target, prediction.dtype);
}

/** Mean squared error (x − y)², averaged over every element (and so over several outputs). */
export function mse(prediction: Tensor, target: Tensor, { reduction }: LossOptions = {}): Tensor {
  const y = matchingTarget('mse', prediction, target);
  return reduce(ops.square(ops.sub(prediction, y)), reduction);
}

const clampedLog = (x: Tensor): Tensor => ops.clamp(ops.log(x), -100);

/**
 * Elementwise −[y log p + (1 − y) log(1 − p)] with logs clamped at −100, and PyTorch's gradient,
 * whose denominator p(1 − p) is kept ≥ 1e-12 so saturated predictions give large, finite gradients.
 */
const binaryCrossEntropy = customOp({
  name: 'BinaryCrossEntropy',
  forward: (p, y) =>
    ops.neg(ops.add(ops.mul(y, clampedLog(p)), ops.mul(ops.sub(1, y), clampedLog(ops.sub(1, p))))),
  infer: ([p, y]) => ({ shape: broadcastShapes('bce', [p!.shape, y!.shape]), dtype: p!.dtype }),
  inline: true,
  backward: ({ inputs: [p, y] }, dy) => [
    ops.div(ops.mul(dy, ops.sub(p!, y!)), ops.maximum(ops.mul(p!, ops.sub(1, p!)), 1e-12)),
    ops.mul(dy, ops.sub(clampedLog(ops.sub(1, p!)), clampedLog(p!))),
  ],
});

/** Binary cross-entropy of probabilities p: −[y log p + (1 − y) log(1 − p)], as PyTorch computes it. */
export function bce(p: Tensor, target: Tensor, { reduction }: LossOptions = {}): Tensor {
  return reduce(binaryCrossEntropy(p, matchingTarget('bce', p, target)), reduction);
}

/** Binary cross-entropy of logits z, stable for any z: max(z, 0) − z·y + log(1 + e^−|z|). */
export function bceWithLogits(z: Tensor, target: Tensor, { reduction }: LossOptions = {}): Tensor {
  const y = matchingTarget('bceWithLogits', z, target);
  const softplus = ops.log(ops.add(1, ops.exp(ops.neg(ops.abs(z)))));
  return reduce(ops.add(ops.sub(ops.relu(z), ops.mul(z, y)), softplus), reduction);
}

function checkLabels(logits: Tensor, labels: Tensor): void {
  const classes = logits.shape[1]!;
  if (labels.isSymbolic) return; // checked by gather when the graph runs
  const flat = labels.contiguous();
  const data = flat.backend.readSync(flat.buffer);
  if (!data) return; // devices without synchronous reads report through gather's own check
  for (let i = 0; i < flat.size; i++) {
    const label = data[flat.offset + i]!;
    if (label < 0 || label >= classes) {
      throw opError(
        'crossEntropy',
        `label ${label} at position ${i} is out of range for ${classes} classes (labels must be 0..${classes - 1})`,
      );
    }
  }
}

/**
 * Softmax cross-entropy of logits [N, C] (log-sum-exp stable). The target is either int32 class
 * indices [N] or class probabilities / one-hot rows [N, C], as in PyTorch.
 */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  { reduction }: LossOptions = {},
): Tensor {
  if (logits.ndim !== 2) {
    throw opError(
      'crossEntropy',
      `expected logits of shape [batch, classes], got ${formatShape(logits.shape)}`,
    );
  }
  const logP = ops.logSoftmax(logits, 1);
  if (target.dtype === 'int32') {
    if (target.ndim !== 1 || target.shape[0] !== logits.shape[0]) {
      throw opError(
        'crossEntropy',
        `class indices of shape ${formatShape(target.shape)} do not match logits of shape ${formatShape(logits.shape)}; expected [${logits.shape[0]}]`,
      );
    }
    checkLabels(logits, target);
    return reduce(
      ops.neg(ops.squeeze(ops.gather(logP, 1, ops.unsqueeze(target, 1)), 1)),
      reduction,
    );
  }
  if (!isFloat(target.dtype) || !shapesEqual(target.shape, logits.shape)) {
    throw opError(
      'crossEntropy',
      `target must be int32 class indices [${logits.shape[0]}] or probabilities ${formatShape(logits.shape)}, got ${target.dtype} ${formatShape(target.shape)}`,
    );
  }
  return reduce(ops.neg(ops.sum(ops.mul(target, logP), 1)), reduction);
}

export {
  conv2d,
  conv1d,
  maxPool2d,
  avgPool2d,
  adaptiveAvgPool2d,
  pad,
  dropout,
  type Conv2dOptions,
  type Conv1dOptions,
  type Pool2dOptions,
} from './conv.js';
export { batchNorm, layerNorm, type BatchNormOptions } from './norm.js';
