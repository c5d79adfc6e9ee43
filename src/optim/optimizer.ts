/** Optimizers: hold parameters and per-parameter state, apply an update rule in place. */
import { opError } from '../core/errors.js';
import { noGrad } from '../engine/grad-mode.js';
import { activeTrace } from '../engine/trace.js';
import { scoped } from '../engine/scope.js';
import { zeroGrads } from '../autograd/zero-grad.js';
import * as ops from '../ops/index.js';
import { tensor, zeros } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { jit } from '../compile/jit.js';
import { formatShape } from '../core/errors.js';
import { adamRule, sgdRule, type RuleState } from './rules.js';

export interface OptimizerStateDict {
  lr: number;
  /** Per parameter (by position): its step count and state tensors. */
  state: { step: number; tensors: RuleState }[];
}

const cloneAll = (tensors: RuleState): RuleState =>
  Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, noGrad(() => t.clone())]));

interface Slot {
  /** Steps taken, as a 0-d float64 tensor: exact as a number eagerly, a graph value in nb.jit. */
  step: Tensor;
  tensors: RuleState;
}

/**
 * Hyperparameters as PyTorch checks them: finite numbers ≥ 0 (an lr of 0 freezes the parameters,
 * and PyTorch accepts it).
 */
function checkedNonNegative(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0) || value === Infinity)
    throw opError(op, `${name} must be a number >= 0, got ${String(value)}`);
  return value;
}

export abstract class Optimizer {
  readonly params: Tensor[];
  private learningRate: number;
  /** The learning rate as compiled steps read it (made at the first trace). */
  private learningRateTensor: Tensor | null = null;
  protected readonly state: Slot[];
  /** The rule's state tensors per parameter, created as zeros before the first step. */
  protected abstract readonly stateNames: readonly string[];
  /** Whether the rule reads the step count (Adam's bias corrections, SGD's dampened first step). */
  protected abstract readonly countsSteps: boolean;
  /**
   * Parameters from this size up are updated by compiled, fused kernels (see fusedStep): a rule of
   * a couple of ops gains only on large ones (plain SGD compiled for XOR's parameters: 0.96–1.00×
   * the speed of op by op, alternating in one process).
   */
  protected readonly fusedMinSize: number = 4096;

  constructor(params: Iterable<Tensor>, lr: number) {
    this.params = [...params];
    if (this.params.length === 0) throw opError('optimizer', 'got an empty parameter list');
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor) || !p.requiresGrad) {
        throw opError('optimizer', `parameter ${i} is not a tensor that requires grad`);
      }
    });
    this.learningRate = checkedNonNegative(this.constructor.name, 'lr', lr);
    // Counts and the learning rate stay on the CPU, as 0-d tensors that every device reads.
    this.state = this.params.map(() => ({
      step: zeros([], { dtype: 'float64', device: 'cpu' }),
      tensors: {},
    }));
  }

  /** The learning rate; schedulers change it between steps, and nb.jit steps read it each run. */
  get lr(): number {
    return this.learningRate;
  }
  set lr(value: number) {
    this.learningRate = checkedNonNegative(this.constructor.name, 'lr', value);
    this.learningRateTensor?.dataSync().fill(value);
  }

  /**
   * The learning rate as an update rule takes it: the number eagerly; while nb.jit traces, a 0-d
   * float64 tensor the compiled step reads at every run (an input of the step, not a constant).
   */
  protected lrOperand(): number | Tensor {
    if (!activeTrace()) return this.learningRate;
    return (this.learningRateTensor ??= tensor(this.learningRate, {
      dtype: 'float64',
      device: 'cpu',
    }));
  }

  /** Drops the gradients (sets them to null) and frees their memory: clone one to keep it. */
  zeroGrad(): void {
    zeroGrads(this.params);
  }

  /**
   * Applies one update to every parameter that has a gradient. Inside nb.jit the gradients are
   * symbolic: then the new values are recorded as assignments to the parameters, the state and
   * the step count, which is why those are tensors updated in place.
   */
  step(): void {
    noGrad(() => {
      this.params.forEach((p, i) => {
        const grad = p.grad;
        if (!grad) return;
        const slot = this.state[i]!;
        for (const name of this.stateNames)
          slot.tensors[name] ??= zeros(p.shape, { dtype: p.dtype, device: p.device });
        let step: number | Tensor = 0;
        if (this.countsSteps) {
          const count = ops.add(slot.step, 1);
          slot.step.copy_(count);
          step = count.isSymbolic ? count : count.item();
        }
        const previous = { ...slot.tensors };
        const state =
          this.fusedStep(p, grad, slot) ??
          // Everything the rule creates is freed on return, except the new state it hands back.
          scoped(
            () => {
              const result = this.update(p, grad, slot.tensors, step);
              p.copy_(result.param);
              return result;
            },
            (result) => Object.values(result.state).filter((t) => !t.isSymbolic),
          ).state;
        for (const [name, value] of Object.entries(state)) {
          if (value.isSymbolic)
            previous[name]!.copy_(value); // replayed by nb.jit
          else {
            slot.tensors[name] = value;
            if (previous[name] !== value) previous[name]?.dispose();
          }
        }
      });
    });
  }

  /** Compiled updates by parameter signature. */
  private fused = new Map<string, (...args: Tensor[]) => Tensor[]>();

  /**
   * The update of a parameter of fusedMinSize elements or more as one compiled graph (nb.jit of
   * the same rule), whose fused elementwise chains read and write each tensor once instead of once
   * per op: Adam's dozen ops become three kernels. Updates `p` and returns the new state, or
   * returns null where the op-by-op update runs instead.
   */
  private fusedStep(p: Tensor, grad: Tensor, slot: Slot): RuleState | null {
    // While nb.jit traces (a whole step, or only opt.step()) the op-by-op update goes into that
    // trace, which fuses it too: a compiled update run here would hand the trace values it frees.
    if (p.size < this.fusedMinSize || activeTrace()) return null;
    const names = this.stateNames;
    const key = `${p.dtype}${formatShape(p.shape)} ${grad.dtype}${formatShape(grad.shape)}`;
    let update = this.fused.get(key);
    if (!update) {
      update = jit((param: Tensor, g: Tensor, step: Tensor, ...state: Tensor[]) => {
        const tensors = Object.fromEntries(names.map((name, i) => [name, state[i]!]));
        const result = this.update(param, g, tensors, this.countsSteps ? step : 0);
        return [result.param, ...names.map((name) => result.state[name] ?? tensors[name]!)];
      });
      this.fused.set(key, update);
    }
    const [param, ...state] = update(p, grad, slot.step, ...names.map((n) => slot.tensors[n]!));
    p.copy_(param!);
    if (param !== p) param!.dispose();
    return Object.fromEntries(names.map((name, i) => [name, state[i]!]));
  }

  protected abstract update(
    param: Tensor,
    grad: Tensor,
    state: RuleState,
    step: number | Tensor,
  ): ReturnType<typeof sgdRule>;

  /** A copy of the optimizer's state (the live state is freed as steps replace it). */
  stateDict(): OptimizerStateDict {
    return {
      lr: this.lr,
      state: this.state.map((s) => ({ step: s.step.item(), tensors: cloneAll(s.tensors) })),
    };
  }

  loadStateDict(dict: OptimizerStateDict): void {
    if (dict.state.length !== this.params.length) {
      throw opError(
        'loadStateDict',
        `state for ${dict.state.length} parameters, this optimizer has ${this.params.length}`,
      );
    }
    this.lr = dict.lr;
    dict.state.forEach((s, i) => {
      this.state[i] = { step: tensor(s.step, { dtype: 'float64' }), tensors: cloneAll(s.tensors) };
    });
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent, with optional momentum (and Nesterov) and L2 weight decay. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    if (typeof options !== 'object' || options === null)
      throw opError(
        'SGD',
        'needs options with a learning rate: new nb.optim.SGD(params, { lr: 0.1 })',
      );
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
    super(params, lr);
    checkedNonNegative('SGD', 'momentum', momentum);
    checkedNonNegative('SGD', 'weightDecay', weightDecay);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw opError('SGD', 'Nesterov momentum needs momentum > 0 and zero dampening');
    }
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
  }
  protected get stateNames(): readonly string[] {
    return this.momentum !== 0 ? ['momentumBuffer'] : [];
  }
  protected get countsSteps(): boolean {
    return this.momentum !== 0 && this.dampening !== 0;
  }
  protected update(param: Tensor, grad: Tensor, state: RuleState, step: number | Tensor) {
    const { momentum, dampening, weightDecay, nesterov } = this;
    const h = { lr: this.lrOperand(), momentum, dampening, weightDecay, nesterov };
    return sgdRule(param, grad, state, h, step);
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Adam (weight decay as L2 on the gradient). */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean = false;
  constructor(
    params: Iterable<Tensor>,
    { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0 }: AdamOptions = {},
  ) {
    super(params, lr);
    const name = this.constructor.name;
    if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => b >= 0 && b < 1))
      throw opError(name, `betas must be two numbers in [0, 1), got ${JSON.stringify(betas)}`);
    [this.beta1, this.beta2] = betas;
    this.eps = checkedNonNegative(name, 'eps', eps);
    this.weightDecay = checkedNonNegative(name, 'weightDecay', weightDecay);
  }
  protected readonly stateNames: readonly string[] = ['expAvg', 'expAvgSq'];
  protected readonly countsSteps = true;
  /**
   * Adam's dozen ops are compiled at every size: XOR's eager steps ran 1.22–1.29× faster, W2's
   * (whose biases and small weight went op by op) 1.05–1.09×, A2's 1.04×.
   */
  protected override readonly fusedMinSize: number = 1;
  protected update(param: Tensor, grad: Tensor, state: RuleState, step: number | Tensor) {
    const { beta1, beta2, eps, weightDecay, decoupled } = this;
    const h = { lr: this.lrOperand(), beta1, beta2, eps, weightDecay, decoupled };
    return adamRule(param, grad, state, h, step);
  }
}

/** Adam with decoupled weight decay (default 0.01, as in PyTorch). */
export class AdamW extends Adam {
  override readonly decoupled: boolean = true;
  constructor(params: Iterable<Tensor>, { weightDecay = 1e-2, ...rest }: AdamOptions = {}) {
    super(params, { weightDecay, ...rest });
  }
}
