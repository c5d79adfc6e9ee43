/**
 * Convolution, pooling and normalization layers, with PyTorch's constructor arguments, parameter
 * and buffer names (weight, bias, running_mean, running_var, num_batches_tracked), layouts and
 * initialisation. A wrong input rank or channel count is an error naming the layer and the shapes.
 */
import { formatShape, opError } from '../core/errors.js';
import { noGrad } from '../engine/grad-mode.js';
import * as ops from '../ops/index.js';
import { ones, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  maxPool2d,
  type Pair,
  type Padding,
  type Pool2dOptions,
} from './conv.js';
import { fans, kaimingUniform, uniform } from './init.js';
import { buffer, Module, parameter } from './module.js';
import { batchNorm, layerNorm } from './norm.js';

export interface ConvOptions {
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

const sizes = (value: Pair): [number, number] =>
  typeof value === 'number' ? [value, value] : [value[0], value[1]];

/** Checks the input's rank and channels, naming the layer (`Conv2d(1, 32, 3)`) and the shapes. */
function checkInput(
  layer: string,
  x: Tensor,
  ranks: readonly number[],
  channels: number | null,
  form: string,
): void {
  if (!ranks.includes(x.ndim))
    throw opError(layer, `expected input ${form}, got ${formatShape(x.shape)}`);
  if (channels !== null && x.shape[1] !== channels)
    throw opError(
      layer,
      `expected ${channels} channels (input ${form}), got ${formatShape(x.shape)}`,
    );
}

/** The weights and bias of a convolution, initialised as PyTorch's `reset_parameters`. */
function convParameters(
  outChannels: number,
  weightShape: number[],
  bias: boolean,
): [Tensor, Tensor | null] {
  const weight = parameter(zeros(weightShape));
  kaimingUniform(weight, { a: Math.sqrt(5) });
  if (!bias) return [weight, null];
  const b = parameter(zeros([outChannels]));
  const bound = 1 / Math.sqrt(fans(weight)[0]);
  uniform(b, -bound, bound);
  return [weight, b];
}

function checkChannels(
  layer: string,
  inChannels: number,
  outChannels: number,
  groups: number,
): void {
  const whole = [inChannels, outChannels, groups].every((n) => Number.isInteger(n) && n > 0);
  if (!whole || inChannels % groups !== 0 || outChannels % groups !== 0)
    throw opError(
      layer,
      `channels ${inChannels} → ${outChannels} must be positive and divisible by groups ${groups}`,
    );
}

/** 2-D convolution over [N, C, H, W]: weight [out, in/groups, kH, kW], bias [out]. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly options: Required<Omit<ConvOptions, 'bias'>>;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: Pair,
    { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true }: ConvOptions = {},
  ) {
    super();
    checkChannels(this.name, inChannels, outChannels, groups);
    [this.weight, this.bias] = convParameters(
      outChannels,
      [outChannels, inChannels / groups, ...sizes(kernelSize)],
      bias,
    );
    this.options = { stride, padding, dilation, groups };
  }

  get name(): string {
    return `Conv2d(${this.inChannels}, ${this.outChannels}, ${String(this.kernelSize)})`;
  }

  forward(x: Tensor): Tensor {
    checkInput(this.name, x, [4], this.inChannels, `[N, ${this.inChannels}, H, W]`);
    return conv2d(x, this.weight, this.bias, this.options);
  }
}

/** 1-D convolution over [N, C, L]: weight [out, in/groups, k], bias [out]. */
export class Conv1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly options: {
    stride: number;
    padding: number | 'same' | 'valid';
    dilation: number;
    groups: number;
  };

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    {
      stride = 1,
      padding = 0,
      dilation = 1,
      groups = 1,
      bias = true,
    }: {
      stride?: number;
      padding?: number | 'same' | 'valid';
      dilation?: number;
      groups?: number;
      bias?: boolean;
    } = {},
  ) {
    super();
    checkChannels(this.name, inChannels, outChannels, groups);
    [this.weight, this.bias] = convParameters(
      outChannels,
      [outChannels, inChannels / groups, kernelSize],
      bias,
    );
    this.options = { stride, padding, dilation, groups };
  }

  get name(): string {
    return `Conv1d(${this.inChannels}, ${this.outChannels}, ${this.kernelSize})`;
  }

  forward(x: Tensor): Tensor {
    checkInput(this.name, x, [3], this.inChannels, `[N, ${this.inChannels}, L]`);
    const { stride, padding, dilation, groups } = this.options;
    const y = conv2d(ops.unsqueeze(x, 2), ops.unsqueeze(this.weight, 2), this.bias, {
      stride: [1, stride],
      padding: typeof padding === 'number' ? [0, padding] : padding,
      dilation: [1, dilation],
      groups,
    });
    return ops.squeeze(y, 2);
  }
}

/** Max over windows of [N, C, H, W] (stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    private readonly options: Pool2dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    checkInput(`MaxPool2d(${String(this.kernelSize)})`, x, [4], null, '[N, C, H, W]');
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

/** Mean over windows of [N, C, H, W], padding counted (stride defaults to the kernel size). */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    private readonly options: Omit<Pool2dOptions, 'dilation'> = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    checkInput(`AvgPool2d(${String(this.kernelSize)})`, x, [4], null, '[N, C, H, W]');
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

/** Averages [N, C, H, W] to [N, C, ...outputSize]. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }
  forward(x: Tensor): Tensor {
    checkInput(`AdaptiveAvgPool2d(${String(this.outputSize)})`, x, [4], null, '[N, C, H, W]');
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

export interface BatchNormLayerOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Batch normalization over channel dimension 1, with running estimates as buffers. */
abstract class BatchNormBase extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly running_mean: Tensor | null;
  readonly running_var: Tensor | null;
  readonly num_batches_tracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    readonly numFeatures: number,
    {
      eps = 1e-5,
      momentum = 0.1,
      affine = true,
      trackRunningStats = true,
    }: BatchNormLayerOptions = {},
  ) {
    super();
    if (!(Number.isInteger(numFeatures) && numFeatures > 0))
      throw opError('BatchNorm', `numFeatures must be a positive whole number, got ${numFeatures}`);
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? parameter(ones([numFeatures])) : null;
    this.bias = affine ? parameter(zeros([numFeatures])) : null;
    this.running_mean = trackRunningStats ? buffer(zeros([numFeatures])) : null;
    this.running_var = trackRunningStats ? buffer(ones([numFeatures])) : null;
    this.num_batches_tracked = trackRunningStats ? buffer(zeros([], { dtype: 'int32' })) : null;
  }

  abstract get name(): string;
  protected abstract readonly ranks: readonly number[];
  protected abstract readonly form: string;

  forward(x: Tensor): Tensor {
    checkInput(this.name, x, this.ranks, this.numFeatures, this.form);
    const training = this.training;
    if (training && this.num_batches_tracked)
      noGrad(() => this.num_batches_tracked!.copy_(ops.add(this.num_batches_tracked!, 1)));
    return batchNorm(x, this.running_mean, this.running_var, this.weight, this.bias, {
      training: training || !this.running_mean,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

/** BatchNorm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];
  protected readonly form = `[N, ${this.numFeatures}] or [N, ${this.numFeatures}, L]`;
  get name(): string {
    return `BatchNorm1d(${this.numFeatures})`;
  }
}

/** BatchNorm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];
  protected readonly form = `[N, ${this.numFeatures}, H, W]`;
  get name(): string {
    return `BatchNorm2d(${this.numFeatures})`;
  }
}

/** Layer normalization over the last dimensions (`normalizedShape`), with weight and bias. */
export class LayerNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly normalizedShape: readonly number[];

  constructor(
    normalizedShape: number | readonly number[],
    { eps = 1e-5, elementwiseAffine = true }: { eps?: number; elementwiseAffine?: boolean } = {},
  ) {
    super();
    this.normalizedShape =
      typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = eps;
    this.weight = elementwiseAffine ? parameter(ones(this.normalizedShape)) : null;
    this.bias = elementwiseAffine ? parameter(zeros(this.normalizedShape)) : null;
  }
  readonly eps: number;

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}
