/** Models written by `nabla train`: a model.safetensors and the network its metadata describes. */
import * as nb from '../index.js';
import { NablaError } from '../core/errors.js';
import { readFileOrFail } from '../engine/node.js';
import { ACTIVATIONS, buildModel, type ActivationName } from './data.js';

/**
 * The network a model file describes (its metadata: the model, its sizes and activation), with its
 * weights.
 */
export function readModel(
  path: string,
  command = 'eval',
): { model: nb.nn.Sequential; metadata: Record<string, string> } {
  const { tensors, metadata } = nb.deserialize(readFileOrFail(command, path), path);
  const sizes = (metadata['architecture'] ?? '').split('-').map(Number);
  const activation = metadata['activation'] as ActivationName;
  if (
    sizes.length < 2 ||
    !sizes.every((s) => Number.isInteger(s) && s > 0) ||
    !(activation in ACTIVATIONS)
  )
    throw new NablaError(
      `${path}: no model description in its metadata (architecture '${metadata['architecture']}', activation '${metadata['activation']}'); nabla eval reads models written by nabla train`,
    );
  // Files written before CNNs describe MLPs.
  const model = buildModel({ model: metadata['model'] ?? 'mlp', sizes, activation });
  model.loadStateDict(tensors);
  return { model, metadata };
}
