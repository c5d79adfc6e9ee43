/**
 * The base of every model, like `torch.nn.Module`: parameters and child modules are found in the
 * instance's own fields (in declaration order), so a model only assigns them.
 */
import { zeroGrads } from '../autograd/zero-grad.js';
import { isFloat } from '../core/dtype.js';
import { formatShape, opError } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import type { Device } from '../backends/backend.js';
import { noGrad } from '../engine/grad-mode.js';
import { noteMode } from '../engine/trace.js';
import { Tensor } from '../tensor/tensor.js';

export type StateDict = Record<string, Tensor>;

/** Marks a tensor as a trainable parameter (a leaf that requires grad). */
export function parameter(t: Tensor): Tensor {
  return t.detach().requiresGrad_(true);
}

const buffers = new WeakSet<Tensor>();

/**
 * Marks a tensor as a buffer: state that is not trained but belongs to the model (BatchNorm's
 * running estimates), so it is in `stateDict()`, loaded, saved and moved with the parameters.
 */
export function buffer(t: Tensor): Tensor {
  buffers.add(t);
  return t;
}

export abstract class Module {
  #training = true;

  /** True in training mode (the default); Dropout and similar layers read it. */
  get training(): boolean {
    noteMode(this, this.#training); // a step nb.jit compiles holds for this mode only
    return this.#training;
  }
  set training(on: boolean) {
    this.#training = on;
  }

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

  /** Every buffer with its dotted path (`0.running_mean`), children included. */
  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [key, value] of Object.entries(this))
      if (value instanceof Tensor && buffers.has(value)) yield [prefix + key, value];
    for (const [name, child] of this.namedChildren())
      yield* child.namedBuffers(`${prefix}${name}.`);
  }

  /** Parameters and buffers by name, each module's own before its children's, as PyTorch orders them. */
  private *namedState(prefix = ''): Generator<[string, Tensor]> {
    for (const [key, value] of Object.entries(this)) {
      const isParameter = value instanceof Tensor && value.requiresGrad && value.isLeaf;
      if (isParameter || (value instanceof Tensor && buffers.has(value)))
        yield [prefix + key, value];
    }
    for (const [name, child] of this.namedChildren()) yield* child.namedState(`${prefix}${name}.`);
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

  /** The parameters and buffers by name, detached (they share memory with the model). */
  stateDict(): StateDict {
    return Object.fromEntries([...this.namedState()].map(([name, p]) => [name, p.detach()]));
  }

  /**
   * Copies values into the parameters. With `strict` (the default), missing or unexpected names are
   * an error; a shape mismatch always is. Nothing is copied unless everything fits.
   */
  loadStateDict(state: StateDict, { strict = true }: { strict?: boolean } = {}): void {
    const own = new Map(this.namedState());
    const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(state, k);
    const missing = [...own.keys()].filter((k) => !has(k));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    // Every value is checked before any is copied, so a refused state dict changes nothing.
    for (const [name, p] of own) {
      if (!has(name)) continue;
      const value: unknown = state[name];
      if (!(value instanceof Tensor)) problems.push(`${name}: ${String(value)} is not a tensor`);
      else if (value.isDisposed) problems.push(`${name}: the tensor was disposed`);
      else if (!shapesEqual(value.shape, p.shape))
        problems.push(
          `${name}: shape ${formatShape(value.shape)} in the state dict, ${formatShape(p.shape)} in the model`,
        );
      else if (value.device !== p.device)
        problems.push(`${name}: on ${value.device} in the state dict, ${p.device} in the model`);
      else if (value.dtype !== p.dtype && !(isFloat(value.dtype) && isFloat(p.dtype)))
        problems.push(`${name}: ${value.dtype} in the state dict, ${p.dtype} in the model`);
    }
    if (problems.length) throw opError('loadStateDict', problems.join('; '));
    noGrad(() => {
      for (const [name, p] of own) if (has(name)) p.copy_(state[name]!);
    });
  }

  /**
   * Moves every parameter (and tensor field) to `device`, like `model.to(device)`: the fields get
   * new tensors, so make the optimizer after moving. From an asynchronous device use `toAsync`.
   */
  to(device: Device): this {
    for (const [owner, key, t] of this.tensorFields()) owner.replaceField(key, t, t.to(device));
    return this;
  }

  /** `to()` for every device pair: `await model.toAsync('cpu')` reads a GPU model back. */
  async toAsync(device: Device): Promise<this> {
    await Promise.all(
      [...this.tensorFields()].map(async ([owner, key, t]) =>
        owner.replaceField(key, t, await t.toAsync(device)),
      ),
    );
    return this;
  }

  /** Tensor fields of this module and its children, with the module that holds each. */
  private *tensorFields(): Generator<[Module, string, Tensor]> {
    for (const [key, value] of Object.entries(this))
      if (value instanceof Tensor) yield [this, key, value];
    for (const [, child] of this.namedChildren()) yield* child.tensorFields();
  }

  /** Puts `moved` in place of field `key` (a parameter stays a parameter). */
  private replaceField(key: string, old: Tensor, moved: Tensor): void {
    if (moved === old) return;
    const isParameter = old.requiresGrad && old.isLeaf;
    (this as Record<string, unknown>)[key] = isParameter
      ? parameter(moved)
      : buffers.has(old)
        ? buffer(moved)
        : moved;
  }
}
