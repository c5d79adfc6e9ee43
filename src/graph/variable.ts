/** TF1's Variables and graph-level operations (assign, group), as plain data of a Graph. */
import { opError, formatShape } from '../core/errors.js';
import { contiguousStrides, isFullyKnown, shapesEqual } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { getDefaultGraph, type Graph } from './graph.js';

export interface VariableOptions {
  /** Whether optimizers' minimize() updates it by default. */
  trainable?: boolean;
  name?: string;
  graph?: Graph;
}

/**
 * A tensor of the graph whose value persists between Session.run calls (it lives in the Session).
 * It starts with `initialValue` once `globalVariablesInitializer()` (or `v.initializer`) has run.
 */
export class Variable extends Tensor {
  readonly name: string;
  readonly trainable: boolean;
  /** Sets the variable to its initial value. */
  readonly initializer: Operation;

  constructor(
    readonly initialValue: Tensor,
    { trainable = true, name = 'Variable', graph }: VariableOptions = {},
  ) {
    if (!(initialValue instanceof Tensor))
      throw opError('Variable', 'the initial value must be a Tensor');
    if (!isFullyKnown(initialValue.shape)) {
      throw opError(
        'Variable',
        `the initial value needs a fully known shape, got ${formatShape(initialValue.shape)}`,
      );
    }
    const g = graph ?? initialValue.graph ?? getDefaultGraph();
    super(
      null,
      initialValue.shape,
      contiguousStrides(initialValue.shape),
      0,
      initialValue.dtype,
      g,
      initialValue.backend,
    );
    this.name = g.uniqueName(name);
    this.trainable = trainable;
    if (initialValue.dtype === 'float32' || initialValue.dtype === 'float64')
      this.requiresGrad_(true);
    g.addLeaf(this, { kind: 'variable', name: this.name, trainable, initialValue });
    this.initializer = new Operation('assign', g, `${this.name}/Assign`, [], this, initialValue);
  }
}

/** A graph action with no value of its own: assigning a variable, or a group of actions. */
export class Operation {
  constructor(
    readonly kind: 'assign' | 'group',
    readonly graph: Graph,
    readonly name: string,
    /** For a group: the operations it runs. */
    readonly deps: readonly Operation[] = [],
    /** For an assign: the variable and its new value. */
    readonly variable: Variable | null = null,
    readonly value: Tensor | null = null,
  ) {}
}

/** An operation that sets `variable` to `value` when run (TF1's tf.assign). */
export function assign(variable: Variable, value: Tensor): Operation {
  if (!(variable instanceof Variable)) throw opError('assign', 'the target must be a Variable');
  if (!shapesEqual(variable.shape, value.shape) && isFullyKnown(value.shape)) {
    throw opError(
      'assign',
      `value of shape ${formatShape(value.shape)} does not fit variable ${variable.name} of shape ${formatShape(variable.shape)}`,
    );
  }
  return new Operation(
    'assign',
    variable.graph!,
    variable.graph!.uniqueName(`${variable.name}/Assign`),
    [],
    variable,
    value,
  );
}

/** An operation that runs all of `ops` (TF1's tf.group). */
export function group(ops: readonly Operation[], name = 'group'): Operation {
  const graph = ops[0]?.graph ?? getDefaultGraph();
  return new Operation('group', graph, graph.uniqueName(name), ops);
}

/** Initialises every variable of the graph. */
export function globalVariablesInitializer(graph: Graph = getDefaultGraph()): Operation {
  const inits: Operation[] = [];
  for (const t of graph.leaves.keys()) if (t instanceof Variable) inits.push(t.initializer);
  return group(inits, 'init');
}

/** The graph's variables that optimizers train by default. */
export function trainableVariables(graph: Graph = getDefaultGraph()): Variable[] {
  return [...graph.leaves.keys()].filter(
    (t): t is Variable => t instanceof Variable && t.trainable,
  );
}
