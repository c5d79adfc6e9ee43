/**
 * nabla/tf1 — TensorFlow-1.x-style graph mode on the same op registry as eager mode. Every nb op
 * function accepts symbolic tensors (and then only builds graph nodes); placeholders are fed and
 * Variables persist in a Session.
 *
 * @example
 * const X = tf1.placeholder('float32', [null, 2]);
 * const w = new tf1.Variable(tf1.randomNormal([2, 1]));
 * const loss = tf1.reduceMean(tf1.square(tf1.matmul(X, w)));
 * const trainOp = new tf1.train.GradientDescentOptimizer(0.1).minimize(loss);
 * const sess = new tf1.Session();
 * sess.run(tf1.globalVariablesInitializer());
 * sess.run([trainOp, loss], new Map([[X, [[1, 2]]]]));
 */
import type { DType } from './core/dtype.js';
import { isDType } from './core/dtype.js';
import { opError } from './core/errors.js';
import { UNKNOWN } from './core/shape.js';
import { getBackend } from './engine/devices.js';
import { getDefaultGraph, type Graph } from './graph/graph.js';
import * as F from './nn/functional.js';
import * as ops from './ops/index.js';
import * as create from './tensor/create.js';
import { Tensor, type NestedArray } from './tensor/tensor.js';

export * from './index.js';
export { Graph, getDefaultGraph, resetDefaultGraph } from './graph/graph.js';
export {
  Variable,
  Operation,
  assign,
  group,
  globalVariablesInitializer,
  trainableVariables,
  type VariableOptions,
} from './graph/variable.js';
export { gradients } from './graph/gradients.js';
export {
  Session,
  type Fetch,
  type Fetches,
  type Feeds,
  type FeedValue,
  type SessionOptions,
} from './session/session.js';
export { ALL_PASSES, type PassName } from './compile/passes.js';
export * as train from './graph/train-namespace.js';

/** An input of the graph, given a value in each Session.run; `null` dimensions are unknown. */
export function placeholder(
  dtype: DType,
  shape: readonly (number | null)[],
  name = 'Placeholder',
  graph: Graph = getDefaultGraph(),
): Tensor {
  if (!isDType(dtype)) throw opError('placeholder', `unknown dtype '${String(dtype)}'`);
  if (!Array.isArray(shape))
    throw opError(
      'placeholder',
      `needs a shape, e.g. tf1.placeholder('float32', [null, 784]) (null: a size known only when fed); got ${String(shape)}`,
    );
  const dims = shape.map((d) => {
    if (d === null) return UNKNOWN;
    if (!Number.isInteger(d) || d < 0)
      throw opError('placeholder', `invalid shape ${JSON.stringify(shape)}`);
    return d;
  });
  const t = Tensor.symbolic(dims, dtype, graph, getBackend());
  if (dtype === 'float32' || dtype === 'float64') t.requiresGrad_(true);
  graph.addLeaf(t, { kind: 'placeholder', name: graph.uniqueName(name) });
  return t;
}

/** A constant tensor (an eager tensor: ops capture it into the graph when they use it). */
export function constant(
  value: create.TensorData | NestedArray,
  dtype?: DType,
  shape?: readonly number[],
): Tensor {
  return create.tensor(value as create.TensorData, {
    ...(dtype && { dtype }),
    ...(shape && { shape }),
  });
}

/** Normal samples, drawn when called (seeded by nb.manualSeed) — typically a Variable's initial value. */
export function randomNormal(
  shape: readonly number[],
  mean = 0,
  stddev = 1,
  dtype: DType = 'float32',
): Tensor {
  return create.randn(shape, { dtype }).mul(stddev).add(mean);
}

/** Uniform samples in [minval, maxval), drawn when called. */
export function randomUniform(
  shape: readonly number[],
  minval = 0,
  maxval = 1,
  dtype: DType = 'float32',
): Tensor {
  return create
    .rand(shape, { dtype })
    .mul(maxval - minval)
    .add(minval);
}

export const zeros = (shape: readonly number[], dtype: DType = 'float32'): Tensor =>
  create.zeros(shape, { dtype });
export const ones = (shape: readonly number[], dtype: DType = 'float32'): Tensor =>
  create.ones(shape, { dtype });
export const subtract = ops.sub;
export const multiply = ops.mul;
export const divide = ops.div;
export const reduceSum = (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor =>
  ops.sum(x, axis, keepdims);
export const reduceMean = (
  x: Tensor,
  axis?: number | readonly number[],
  keepdims = false,
): Tensor => ops.mean(x, axis, keepdims);
export const reduceMax = (x: Tensor, axis?: number, keepdims = false): Tensor =>
  ops.max(x, axis, keepdims);

/** Per-example softmax cross-entropy of logits against label distributions (one-hot rows). */
export function softmaxCrossEntropyWithLogits({
  labels,
  logits,
}: {
  labels: Tensor;
  logits: Tensor;
}): Tensor {
  return F.crossEntropy(logits, labels, { reduction: 'none' });
}

/** Elementwise logistic loss of logits against 0/1 labels, computed stably. */
export function sigmoidCrossEntropyWithLogits({
  labels,
  logits,
}: {
  labels: Tensor;
  logits: Tensor;
}): Tensor {
  return F.bceWithLogits(logits, labels, { reduction: 'none' });
}
