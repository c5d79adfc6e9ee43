/**
 * TF1's optimizers: minimize(loss) = symbolic gradients + assignments built from the same update
 * rules as nb.optim's step() (src/optim/rules.ts), with the rules' state kept in slot Variables.
 */
import { opError } from '../core/errors.js';
import * as ops from '../ops/index.js';
import { adamRule, sgdRule, type RuleResult, type RuleState } from '../optim/rules.js';
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { gradients } from './gradients.js';
import { assign, group, trainableVariables, Variable, type Operation } from './variable.js';

abstract class Optimizer {
  protected abstract readonly slotNames: readonly string[];
  protected abstract rule(param: Tensor, grad: Tensor, state: RuleState, step: Tensor): RuleResult;

  /**
   * An operation that applies one update to `varList` (default: the graph's trainable variables)
   * from the gradients of `loss`. Run globalVariablesInitializer() after building it: its slot
   * variables need initial values too.
   */
  minimize(loss: Tensor, varList?: readonly Variable[]): Operation {
    if (!loss.graph) throw opError('minimize', 'the loss must be a symbolic tensor of a graph');
    const vars = varList ?? trainableVariables(loss.graph);
    if (vars.length === 0)
      throw opError('minimize', 'there are no trainable variables to minimize over');
    const grads = gradients(loss, vars);
    const counter = new Variable(zeros([]), { trainable: false, name: 'step', graph: loss.graph });
    const step = ops.add(counter, 1);
    const updates: Operation[] = [assign(counter, step)];
    vars.forEach((v, i) => {
      const g = grads[i];
      if (!g) return;
      const slots = Object.fromEntries(
        this.slotNames.map((name) => [
          name,
          new Variable(zeros(v.shape, { dtype: v.dtype }), {
            trainable: false,
            name: `${v.name}/${name}`,
            graph: loss.graph!,
          }),
        ]),
      ) as Record<string, Variable>;
      const { param, state } = this.rule(v, g, slots, step);
      updates.push(assign(v, param));
      for (const [name, value] of Object.entries(state)) updates.push(assign(slots[name]!, value));
    });
    return group(updates, 'train');
  }
}

/** Plain gradient descent: var −= lr · grad. */
export class GradientDescentOptimizer extends Optimizer {
  protected readonly slotNames = [];
  constructor(readonly learningRate: number) {
    super();
  }
  protected rule(param: Tensor, grad: Tensor, state: RuleState): RuleResult {
    return sgdRule(param, grad, state, {
      lr: this.learningRate,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
    });
  }
}

/** Momentum: accum = momentum·accum + grad; var −= lr · accum (Nesterov optional). */
export class MomentumOptimizer extends Optimizer {
  protected readonly slotNames = ['momentumBuffer'];
  constructor(
    readonly learningRate: number,
    readonly momentum: number,
    readonly useNesterov = false,
  ) {
    super();
  }
  protected rule(param: Tensor, grad: Tensor, state: RuleState): RuleResult {
    return sgdRule(param, grad, state, {
      lr: this.learningRate,
      momentum: this.momentum,
      dampening: 0,
      weightDecay: 0,
      nesterov: this.useNesterov,
    });
  }
}

/** Adam, with PyTorch's formulation (the same rule as nb.optim.Adam). */
export class AdamOptimizer extends Optimizer {
  protected readonly slotNames = ['expAvg', 'expAvgSq'];
  constructor(
    readonly learningRate = 0.001,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-8,
  ) {
    super();
  }
  protected rule(param: Tensor, grad: Tensor, state: RuleState, step: Tensor): RuleResult {
    const h = {
      lr: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.epsilon,
      weightDecay: 0,
      decoupled: false,
    };
    return adamRule(param, grad, state, h, step);
  }
}
