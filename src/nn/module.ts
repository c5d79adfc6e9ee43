/**
 * The base of every model, like `torch.nn.Module`: parameters and child modules are found in the
 * instance's own fields (in declaration order), so a model only assigns them.
 */
import { zeroGrads } from '../autograd/zero-grad.js';
import { formatShape, opError } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import type { Device } from '../backends/backend.js';
import { noGrad } from '../engine/grad-mode.js';
import { Tensor } from '../tensor/tensor.js';

export type StateDict = Record<string, Tensor>;

/** Marks a tensor as a trainable parameter (a leaf that requires grad). */
export function parameter(t: Tensor): Tensor {
  return t.detach().requiresGrad_(true);
}

export abstract class Module {
  /** True in training mode (the default); Dropout and similar layers read it. */
  training = true;

  abstract forward(...inputs: Tensor[]): Tensor;

  /** Child modules by field name; arrays of modules are named field.0, field.1, ... */
  *namedChildren(): Generator<[string, Module]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) yield [key, value];
      else if (Array.isArray(value)) {
        for (const [i, item] of value.entries())
          if (item instanceof Module) yield [`${key}.${i}`, item];
      }
    }
  }

  /** Every parameter with its dotted path (`0.weight`, `encoder.bias`), children included. */
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Tensor && value.requiresGrad && value.isLeaf)
        yield [prefix + key, value];
    }
    for (const [name, child] of this.namedChildren())
      yield* child.namedParameters(`${prefix}${name}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  /** Sets training mode here and in every child. */
  train(on = true): this {
    this.training = on;
    for (const [, child] of this.namedChildren()) child.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops the gradients (sets them to null) and frees their memory: clone one to keep it. */
  zeroGrad(): void {
    zeroGrads(this.parameters());
  }

  /** The parameters by name, detached (they share memory with the model). */
  stateDict(): StateDict {
    return Object.fromEntries([...this.namedParameters()].map(([name, p]) => [name, p.detach()]));
  }

  /**
   * Copies values into the parameters. With `strict` (the default), missing or unexpected names are
   * an error; a shape mismatch always is. Nothing is copied unless everything fits.
   */
  loadStateDict(state: StateDict, { strict = true }: { strict?: boolean } = {}): void {
    const own = new Map(this.namedParameters());
    const missing = [...own.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    for (const [name, p] of own) {
      const value = state[name];
      if (value && !shapesEqual(value.shape, p.shape)) {
        problems.push(
          `${name}: shape ${formatShape(value.shape)} in the state dict, ${formatShape(p.shape)} in the model`,
        );
      }
    }
    if (problems.length) throw opError('loadStateDict', problems.join('; '));
    noGrad(() => {
      for (const [name, p] of own) if (state[name]) p.copy_(state[name]!);
    });
  }

  /** Moves every parameter to `device`. */
  to(device: Device): this {
    for (const p of this.parameters()) {
      if (p.device !== device)
        throw opError('to', `moving parameters to '${device}' is not supported yet`);
    }
    return this;
  }
}
