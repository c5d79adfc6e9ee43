/**
 * Normalization as functions, composed from ops: batch norm (batch statistics in training, with
 * the running estimates updated in place; the running estimates in eval) and layer norm.
 */
import { formatShape, opError } from '../core/errors.js';
import { noGrad } from '../engine/grad-mode.js';
import { releasingIntermediates } from '../engine/scope.js';
import * as ops from '../ops/index.js';
import { ones } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/** Shapes a per-channel vector [C] to broadcast against x [N, C, ...]. */
function perChannel(v: Tensor, x: Tensor): Tensor {
  return ops.reshape(
    v,
    x.shape.map((d, i) => (i === 1 ? d : 1)),
  );
}

/**
 * Batch normalization over dimension 1 of x ([N, C] or [N, C, ...]). Training normalises with the
 * batch mean and biased variance and moves the running estimates by `momentum` toward the batch
 * mean and the unbiased variance, as PyTorch does; eval normalises with the running estimates.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  { training = false, momentum = 0.1, eps = 1e-5 }: BatchNormOptions = {},
): Tensor {
  if (x.ndim < 2) throw opError('batchNorm', `expected [N, C, ...], got ${formatShape(x.shape)}`);
  const channels = x.shape[1]!;
  for (const [name, v] of [
    ['runningMean', runningMean],
    ['runningVar', runningVar],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (v && (v.ndim !== 1 || v.shape[0] !== channels))
      throw opError(
        'batchNorm',
        `${name} of shape ${formatShape(v.shape)} does not fit input ${formatShape(x.shape)} (${channels} channels)`,
      );
  }
  if (ops.isExportingOnnx() && !training && runningMean && runningVar) {
    return ops.onnxNode(
      'BatchNormalization',
      [
        x,
        weight ?? ops.onesLike(runningMean),
        bias ?? ops.zerosLike(runningMean),
        runningMean,
        runningVar,
      ],
      { epsilon: eps, momentum: 1 - momentum },
      x.shape,
    );
  }
  return releasingIntermediates(() => {
    const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
    let mean: Tensor;
    let variance: Tensor;
    if (training || !runningMean || !runningVar) {
      const count = dims.reduce((n, d) => n * x.shape[d]!, 1);
      if (training && count <= 1)
        throw opError(
          'batchNorm',
          `training needs more than one value per channel, got input ${formatShape(x.shape)}`,
        );
      mean = ops.mean(x, dims, true);
      variance = ops.mean(ops.square(ops.sub(x, mean)), dims, true);
      if (training && runningMean && runningVar) {
        noGrad(() => {
          const flatMean = ops.reshape(mean, [channels]);
          const unbiased = ops.mul(ops.reshape(variance, [channels]), count / (count - 1));
          runningMean.copy_(
            ops.add(ops.mul(runningMean, 1 - momentum), ops.mul(flatMean, momentum)),
          );
          runningVar.copy_(ops.add(ops.mul(runningVar, 1 - momentum), ops.mul(unbiased, momentum)));
        });
      }
    } else {
      // Buffers, not parameters: no gradient flows into the running estimates.
      mean = perChannel(runningMean.detach(), x);
      variance = perChannel(runningVar.detach(), x);
    }
    let y = ops.div(ops.sub(x, mean), ops.sqrt(ops.add(variance, eps)));
    if (weight) y = ops.mul(y, perChannel(weight, x));
    if (bias) y = ops.add(y, perChannel(bias, x));
    return y;
  });
}

/** Layer normalization over the last dimensions, of sizes `normalizedShape`. */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const k = normalizedShape.length;
  const fits = k <= x.ndim && normalizedShape.every((d, i) => x.shape[x.ndim - k + i] === d);
  if (!fits || k === 0)
    throw opError(
      'layerNorm',
      `normalized shape ${formatShape(normalizedShape)} is not the end of input ${formatShape(x.shape)}`,
    );
  if (ops.isExportingOnnx()) {
    const scale = weight ?? ones(normalizedShape, { dtype: x.dtype, device: x.device });
    const inputs = bias ? [x, scale, bias] : [x, scale];
    return ops.onnxNode('LayerNormalization', inputs, { axis: -k, epsilon: eps }, x.shape);
  }
  return releasingIntermediates(() => {
    const dims = normalizedShape.map((_, i) => x.ndim - k + i);
    const mean = ops.mean(x, dims, true);
    const variance = ops.mean(ops.square(ops.sub(x, mean)), dims, true);
    let y = ops.div(ops.sub(x, mean), ops.sqrt(ops.add(variance, eps)));
    if (weight) y = ops.mul(y, weight);
    if (bias) y = ops.add(y, bias);
    return y;
  });
}
