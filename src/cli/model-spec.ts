/**
 * `nabla train --model`: convolutional networks described by a string of comma-separated layers,
 * built for 28×28 one-channel images (the input is unflattened first) and ended by a Linear layer
 * to the classes. Layers:
 *   c32, c32k5, c32k5p2   Conv2d with 32 channels (kernel 3, padding 0 unless given)
 *   bn                    BatchNorm2d (after a conv) or BatchNorm1d (after fc)
 *   relu, tanh            activations
 *   pool, avg             2×2 max or average pooling
 *   drop0.25              Dropout(0.25)
 *   fc128                 Linear to 128 features (the first one flattens)
 * `cnn` is the network of the issue and BENCHMARKS.md's W7.
 */
import * as nb from '../index.js';
import { UsageError } from './args.js';

export const CNN_PRESET = 'c32,relu,pool,c64,relu,pool,fc128,relu';

/** Image inputs: channels, height, width. */
const IMAGE = [1, 28, 28] as const;

/** The spec `--model` names: the preset for `cnn`, else the string itself. */
export function cnnSpec(model: string): string {
  return model === 'cnn' ? CNN_PRESET : model;
}

/** The network a spec describes, for `classes` outputs; a bad spec is a UsageError naming the layer. */
export function buildCnn(spec: string, classes: number): nb.nn.Sequential {
  const layers: nb.nn.Module[] = [new nb.nn.Unflatten(1, [...IMAGE])];
  let shape: number[] = [...IMAGE]; // per sample: [C, H, W], or [features] after flattening
  const bad = (token: string, why: string): UsageError =>
    new UsageError(
      `--model: layer '${token}' ${why} (layers: cN[kK][pP], bn, relu, tanh, pool, avg, dropP, fcN)`,
    );
  for (const token of cnnSpec(spec)
    .split(',')
    .map((t) => t.trim())) {
    const conv = /^c(\d+)(?:k(\d+))?(?:p(\d+))?$/.exec(token);
    const fc = /^fc(\d+)$/.exec(token);
    const drop = /^drop(0?\.\d+)$/.exec(token);
    if (conv) {
      if (shape.length !== 3) throw bad(token, 'comes after the features were flattened');
      const [out, kernel, padding] = [+conv[1]!, +(conv[2] ?? 3), +(conv[3] ?? 0)];
      const size = (n: number): number => n + 2 * padding - kernel + 1;
      if (out < 1 || size(shape[1]!) < 1)
        throw bad(token, `does not fit a ${shape.join('×')} input`);
      layers.push(new nb.nn.Conv2d(shape[0]!, out, kernel, { padding }));
      shape = [out, size(shape[1]!), size(shape[2]!)];
    } else if (token === 'pool' || token === 'avg') {
      if (shape.length !== 3 || shape[1]! < 2)
        throw bad(token, `needs an image of at least 2×2, has ${shape.join('×')}`);
      layers.push(token === 'pool' ? new nb.nn.MaxPool2d(2) : new nb.nn.AvgPool2d(2));
      shape = [shape[0]!, Math.floor(shape[1]! / 2), Math.floor(shape[2]! / 2)];
    } else if (token === 'bn') {
      layers.push(
        shape.length === 3 ? new nb.nn.BatchNorm2d(shape[0]!) : new nb.nn.BatchNorm1d(shape[0]!),
      );
    } else if (token === 'relu') layers.push(new nb.nn.ReLU());
    else if (token === 'tanh') layers.push(new nb.nn.Tanh());
    else if (drop) layers.push(new nb.nn.Dropout(+drop[1]!));
    else if (fc) {
      if (shape.length === 3) {
        layers.push(new nb.nn.Flatten());
        shape = [shape[0]! * shape[1]! * shape[2]!];
      }
      layers.push(new nb.nn.Linear(shape[0]!, +fc[1]!));
      shape = [+fc[1]!];
    } else throw bad(token, 'is not one');
  }
  if (shape.length === 3) {
    layers.push(new nb.nn.Flatten());
    shape = [shape[0]! * shape[1]! * shape[2]!];
  }
  layers.push(new nb.nn.Linear(shape[0]!, classes));
  return new nb.nn.Sequential(...layers);
}
