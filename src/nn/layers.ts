/** Layers: Linear, Sequential, activations, Dropout, Flatten. */
import { releaseInternal } from '../engine/scope.js';
import { opError } from '../core/errors.js';
import * as ops from '../ops/index.js';
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { kaimingUniform, uniform, fans } from './init.js';
import { dropout } from './conv.js';
import { Module, parameter } from './module.js';

/** y = x·Wᵀ + b, with W of shape [outFeatures, inFeatures] and PyTorch's default initialisation. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true }: { bias?: boolean } = {},
  ) {
    super();
    if (!(inFeatures > 0 && outFeatures > 0)) {
      throw opError(
        'Linear',
        `feature counts must be positive, got ${inFeatures} → ${outFeatures}`,
      );
    }
    this.weight = parameter(zeros([outFeatures, inFeatures]));
    // PyTorch: kaiming_uniform(a=√5), i.e. U(±1/√fanIn), and the bias U(±1/√fanIn).
    kaimingUniform(this.weight, { a: Math.sqrt(5) });
    this.bias = bias ? parameter(zeros([outFeatures])) : null;
    if (this.bias) {
      const bound = 1 / Math.sqrt(fans(this.weight)[0]);
      uniform(this.bias, -bound, bound);
    }
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures) {
      throw opError(
        'Linear',
        `expected inputs with ${this.inFeatures} features (last dimension), got shape ${JSON.stringify(x.shape)}`,
      );
    }
    const y = ops.matmul(x, ops.transpose(this.weight, 0, 1));
    if (!this.bias) return y;
    const out = ops.add(y, this.bias);
    releaseInternal(y);
    return out;
  }
}

/** Applies its layers in order. Parameters are named by position: `0.weight`, `2.bias`. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }

  override *namedChildren(): Generator<[string, Module]> {
    for (const [i, layer] of this.layers.entries()) yield [String(i), layer];
  }

  /**
   * The activations between layers are invisible outside this method, so their memory is given
   * back as soon as nothing can read them: at once without a graph, else when backward frees it.
   */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h);
      if (h !== x && next !== h) releaseInternal(h);
      h = next;
    }
    return h;
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return ops.relu(x);
  }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return ops.sigmoid(x);
  }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return ops.tanh(x);
  }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.leakyRelu(x, this.negativeSlope);
  }
}
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.softmax(x, this.dim);
  }
}
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
/** Flattens all dimensions after the first (the batch), as `nn.Flatten()`. */
export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return ops.flatten(x, 1);
  }
}

/** Splits dimension `dim` into `sizes`, as `nn.Unflatten` (e.g. rows of 784 into [1, 28, 28] images). */
export class Unflatten extends Module {
  constructor(
    readonly dim: number,
    readonly sizes: readonly number[],
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    const d = this.dim < 0 ? this.dim + x.ndim : this.dim;
    const size = this.sizes.reduce((a, b) => a * b, 1);
    if (x.shape[d] !== size)
      throw opError(
        `Unflatten(${this.dim}, [${this.sizes.join(', ')}])`,
        `dimension ${this.dim} of ${JSON.stringify(x.shape)} is not ${size}`,
      );
    return ops.reshape(x, [...x.shape.slice(0, d), ...this.sizes, ...x.shape.slice(d + 1)]);
  }
}

/** Zeroes each element with probability p while training, scaling the rest by 1/(1−p). */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw opError('Dropout', `p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}
