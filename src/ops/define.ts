/**
 * The op registry and the one dispatch point. An op is defined once: a name, a shape/dtype rule
 * (`infer`), a gradient written with public ops (`vjp`), and either a kernel (every backend's table
 * has one per primitive) or a `view` rule that re-strides its input without copying.
 */
import { registry } from './registry.js';
import { isFloat, type DType } from '../core/dtype.js';
import { opError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { PrimitiveAttrs, PrimitiveName } from '../backends/primitives.js';
import type { Backend } from '../backends/backend.js';
import { isGradEnabled, withGradMode } from '../engine/grad-mode.js';
import { activeTrace } from '../engine/trace.js';
import { Tensor } from '../tensor/tensor.js';
import { graphOf, type Graph } from '../graph/graph.js';

/** What `infer` sees of an input and returns for the output: enough to check and plan, no data. */
export interface TensorMeta {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** What a gradient function receives about the op it differentiates (TF1's `op`). */
export interface OpContext<Attrs = unknown> {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: Attrs;
  /**
   * Which inputs a gradient is wanted for (PyTorch's needs_input_grad); absent means all. A vjp
   * may return null for the others instead of computing what would be thrown away.
   */
  readonly needsGrad?: readonly boolean[];
}

/**
 * A vector-Jacobian product: given the op and ∂L/∂output, returns ∂L/∂input for each input (null
 * where no gradient flows). Results may have the output's broadcast shape; the walker sums them
 * back to each input's shape.
 */
export type Vjp<Attrs = unknown> = (
  op: OpContext<Attrs>,
  dy: Tensor,
) => readonly (Tensor | null | undefined)[];

export interface StridedLayout {
  readonly strides: readonly number[];
  readonly offset: number;
}

interface OpBase<Attrs> {
  readonly name: string;
  /** Absent for ops whose outputs carry no gradient (comparisons, argmax). */
  vjp?: Vjp<Attrs>;
}

interface InferredOp<Attrs> extends OpBase<Attrs> {
  /** Checks the inputs and gives the output's shape and dtype, before anything runs. */
  infer(inputs: readonly TensorMeta[], attrs: Attrs): TensorMeta;
}

/** An op run by a backend kernel of the same name. */
export interface KernelOp<N extends PrimitiveName> extends InferredOp<PrimitiveAttrs[N]> {
  readonly name: N;
  readonly kind: 'kernel';
  /** Elementwise over broadcast inputs: graph fusion may merge chains of such ops. */
  readonly elementwise?: boolean;
}

/** An op that only re-strides its input (reshape, permute, expand, slice). */
export interface ViewOp<Attrs> extends InferredOp<Attrs> {
  readonly kind: 'view';
  /** The output layout over the input's storage, or null when a contiguous copy is needed first. */
  layout(input: Tensor, attrs: Attrs, out: TensorMeta): StridedLayout | null;
}

/** An op whose forward is a user function, run eagerly without recording (customOp). */
export interface FunctionOp<Attrs> extends OpBase<Attrs> {
  readonly kind: 'function';
  forward(inputs: readonly Tensor[], attrs: Attrs): Tensor;
  /** Its shape rule, if it has one: then it can be a node of a graph too. */
  infer?(inputs: readonly TensorMeta[], attrs: Attrs): TensorMeta;
  /** `forward` only composes nabla ops, with no side effects: a graph may run it as those ops. */
  readonly inline?: boolean;
  /** Each run draws new values: two applications to the same inputs are not the same value. */
  readonly random?: boolean;
}

// The registry stores ops of every attrs type; each op's own functions keep their precise types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOp = KernelOp<PrimitiveName> | ViewOp<any> | FunctionOp<any>;

export function defineOp<N extends PrimitiveName>(op: Omit<KernelOp<N>, 'kind'>): KernelOp<N>;
export function defineOp<Attrs>(
  op: Omit<ViewOp<Attrs>, 'kind'> & { layout: ViewOp<Attrs>['layout'] },
): ViewOp<Attrs>;
export function defineOp(
  op: Omit<AnyOp, 'kind'> & Partial<Pick<ViewOp<unknown>, 'layout'>>,
): AnyOp {
  const defined = { ...op, kind: op.layout ? 'view' : 'kernel' } as AnyOp;
  if (registry.has(op.name)) throw new Error(`op ${op.name} is defined twice`);
  registry.set(op.name, defined);
  return defined;
}

export function defineFunctionOp<Attrs>(op: Omit<FunctionOp<Attrs>, 'kind'>): FunctionOp<Attrs> {
  const defined: FunctionOp<Attrs> = { ...op, kind: 'function' };
  registry.set(op.name, defined as AnyOp);
  return defined;
}

/**
 * Replaces the gradient of the op named `name`, for every later backward pass (eager) and every
 * later symbolic gradient (graph mode), like TF1's `RegisterGradient`.
 *
 * @example nb.registerGradient('Relu', (op, dy) => [dy.mul(op.inputs[0]!.gt(0))]);
 */
export function registerGradient(name: string, vjp: Vjp<never>): void {
  const op = registry.get(name);
  if (!op) {
    const known = [...registry.keys()].sort().join(', ');
    throw opError('registerGradient', `no op named '${name}'; ops are: ${known}`);
  }
  op.vjp = vjp as Vjp<unknown>;
}

/** A recorded application of an op: the edge list autograd walks backwards. */
export class TapeNode {
  /** Set once a backward pass without retainGraph has used this node. */
  released = false;
  constructor(
    readonly op: AnyOp,
    readonly inputs: readonly Tensor[],
    readonly attrs: unknown,
    readonly output: Tensor,
  ) {}

  get name(): string {
    return this.op.name;
  }
}

/**
 * A 0-d CPU tensor: like PyTorch, an operand on any device (a step count, a learning rate). The
 * other device's kernels read its one value.
 */
function isHostScalar(t: Tensor): boolean {
  return t.ndim === 0 && t.device === 'cpu';
}

/** The backend an op on `inputs` runs on: that of its first input that is not a host scalar. */
export function executionBackend(inputs: readonly Tensor[]): Backend {
  return (inputs.find((t) => !isHostScalar(t)) ?? inputs[0]!).backend;
}

function checkInputs(op: AnyOp, inputs: readonly Tensor[]): void {
  const device = inputs.length ? executionBackend(inputs).device : undefined;
  for (const t of inputs) {
    if (t.isSymbolic) continue;
    if (t.isDisposed)
      throw opError(op.name, 'an input tensor was disposed and can no longer be used');
    if (t.device !== device && !isHostScalar(t)) {
      throw opError(
        op.name,
        `inputs are on different devices (${device} and ${t.device}); move one with t.to('${device}')`,
      );
    }
  }
}

type BoundKernel = (out: Tensor, inputs: readonly Tensor[], attrs: unknown) => void;

/** The kernel `backend` runs for `op`. */
export function kernelOf(op: KernelOp<PrimitiveName>, backend: Backend): BoundKernel {
  return backend.kernels[op.name] as BoundKernel;
}

function execute(op: AnyOp, inputs: readonly Tensor[], attrs: unknown): Tensor {
  switch (op.kind) {
    case 'kernel': {
      const meta = op.infer(inputs, attrs as never);
      const out = Tensor.empty(meta.shape, meta.dtype, executionBackend(inputs), op.name);
      kernelOf(op, out.backend)(out, inputs, attrs);
      return out;
    }
    case 'view': {
      const meta = op.infer(inputs, attrs);
      let input = inputs[0]!;
      let layout = op.layout(input, attrs, meta);
      if (!layout) {
        input = contiguousCopy(input);
        layout = op.layout(input, attrs, meta)!;
      }
      return input.restride(meta.shape, layout.strides, layout.offset, meta.dtype);
    }
    case 'function':
      // A fresh view, so that attaching a gradFn never touches a tensor the user holds.
      return withGradMode(false, () => op.forward(inputs, attrs)).detach();
  }
}

function contiguousCopy(input: Tensor): Tensor {
  const out = Tensor.empty(input.shape, input.dtype, input.backend, 'contiguous');
  out.backend.kernels.Contiguous(out, [input], {});
  return out;
}

/**
 * Lazy mode: checks and infers the output now (so shape errors point at the line that built the
 * node), and adds a node; eager tensors among the inputs are captured as constants.
 */
function addToGraph(graph: Graph, op: AnyOp, inputs: readonly Tensor[], attrs: unknown): Tensor {
  if (!op.infer) {
    throw opError(op.name, 'this custom op has no shape rule (infer), so it can only run eagerly');
  }
  const backend = executionBackend(inputs);
  const symbolic = (shape: Shape, dtype: DType): Tensor =>
    Tensor.symbolic(shape, dtype, graph, backend);
  const graphInputs = inputs.map((t) => (t.isSymbolic ? t : graph.capture(t, symbolic)));
  const meta = op.infer(graphInputs, attrs as never);
  const out = symbolic(meta.shape, meta.dtype);
  const node = new TapeNode(op, graphInputs, attrs, out);
  out.attachGradFn(node, isFloat(meta.dtype) && op.vjp !== undefined);
  graph.addNode(node);
  return out;
}

/**
 * The one dispatch point. With a symbolic input it adds a graph node (lazy mode); otherwise it
 * checks and infers the output, runs the op now on the inputs' device, and records a tape node when
 * grad mode is on and an input requires grad (eager mode).
 */
export function bind<N extends PrimitiveName>(
  op: KernelOp<N>,
  inputs: readonly Tensor[],
  attrs: PrimitiveAttrs[N],
): Tensor;
export function bind<Attrs>(
  op: ViewOp<Attrs> | FunctionOp<Attrs>,
  inputs: readonly Tensor[],
  attrs: Attrs,
): Tensor;
export function bind(op: AnyOp, inputs: readonly Tensor[], attrs: unknown): Tensor {
  const graph = graphOf(op.name, inputs) ?? activeTrace()?.graph;
  if (graph) return addToGraph(graph, op, inputs, attrs);
  checkInputs(op, inputs);
  const out = execute(op, inputs, attrs);
  // Integer and bool results never carry gradients (as in PyTorch), whatever the op.
  if (op.vjp && isGradEnabled() && isFloat(out.dtype) && inputs.some((t) => t.requiresGrad)) {
    out.attachGradFn(new TapeNode(op, inputs, attrs, out));
  }
  return out;
}

/** Runs any registered op on concrete (or symbolic) inputs: how a Session executes graph nodes. */
export function runOp(op: AnyOp, inputs: readonly Tensor[], attrs: unknown): Tensor {
  return bind(op as KernelOp<PrimitiveName>, inputs, attrs as never);
}
