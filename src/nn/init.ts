/**
 * Parameter initialisers, in place and seeded (nb.manualSeed), with PyTorch's fan and gain rules.
 */
import { opError } from '../core/errors.js';
import { noGrad } from '../engine/grad-mode.js';
import { full, rand, randn } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu';

/** The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`. */
export function calculateGain(nonlinearity: Nonlinearity, negativeSlope = 0.01): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu':
      return Math.sqrt(2 / (1 + negativeSlope ** 2));
  }
}

/** [fanIn, fanOut] of a weight: dims 1 and 0 times the receptive field, as in PyTorch. */
export function fans(t: Tensor): [number, number] {
  if (t.ndim < 2)
    throw opError('init', `fan in/out need a tensor of at least 2 dimensions, got ${t.ndim}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

function fill(t: Tensor, values: Tensor): Tensor {
  return noGrad(() => t.copy_(values));
}

export const uniform = (t: Tensor, low = 0, high = 1): Tensor =>
  fill(
    t,
    rand(t.shape, { dtype: t.dtype })
      .mul(high - low)
      .add(low),
  );
export const normal = (t: Tensor, mean = 0, std = 1): Tensor =>
  fill(t, randn(t.shape, { dtype: t.dtype }).mul(std).add(mean));
export const constant = (t: Tensor, value: number): Tensor =>
  fill(t, full(t.shape, value, { dtype: t.dtype }));
export const zeros = (t: Tensor): Tensor => constant(t, 0);
export const ones = (t: Tensor): Tensor => constant(t, 1);

/** Glorot uniform: U(−a, a) with a = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = fans(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -bound, bound);
}

/** Glorot normal: N(0, std²) with std = gain·√(2 / (fanIn + fanOut)). */
export function xavierNormal(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = fans(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface KaimingOptions {
  /** The negative slope of the leaky ReLU that follows (0 for ReLU). */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(
  t: Tensor,
  { a = 0, mode = 'fanIn', nonlinearity = 'leakyRelu' }: KaimingOptions,
): number {
  const [fanIn, fanOut] = fans(t);
  return calculateGain(nonlinearity, a) / Math.sqrt(mode === 'fanIn' ? fanIn : fanOut);
}

/** He uniform: U(−b, b) with b = gain·√(3 / fan). */
export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform(t, -bound, bound);
}

/** He normal: N(0, (gain / √fan)²). */
export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, options));
}
