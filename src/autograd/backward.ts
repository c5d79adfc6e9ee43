/**
 * The reverse-mode walker shared by `t.backward()` and `nb.grad()`: an iterative topological sort
 * of the recorded graph (no recursion, so a chain of 100,000 ops is fine), then each node's vjp in
 * reverse order. Broadcast gradients are summed back to each input's shape here, in one place.
 */
import { formatShape, opError } from '../core/errors.js';
import { shapesEqual, type Shape } from '../core/shape.js';
import { withGradMode } from '../engine/grad-mode.js';
import { isInternal, scoped } from '../engine/scope.js';
import { activeTrace } from '../engine/trace.js';
import { markEngineGrad } from './zero-grad.js';
import type { TapeNode, Vjp } from '../ops/define.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';

export interface BackwardOptions {
  /** Keep the graph so that backward can run through it again. Defaults to createGraph. */
  retainGraph?: boolean;
  /** Record the backward pass itself, so gradients can be differentiated again. */
  createGraph?: boolean;
}

/**
 * Sums a gradient of a broadcast shape back to `shape` (the reduction broadcasting implies): the
 * extra leading dimensions, and the dimensions where `shape` has size 1. It needs only ranks and
 * size-1 dimensions, so it works on shapes with sizes unknown until a graph runs.
 */
export function sumTo(grad: Tensor, shape: Shape): Tensor {
  if (shapesEqual(grad.shape, shape)) return grad;
  const lead = grad.ndim - shape.length;
  const leading = Array.from({ length: lead }, (_, i) => i);
  let g = leading.length > 0 ? ops.sum(grad, leading) : grad;
  const ones = shape.flatMap((d, i) => (d === 1 && g.shape[i] !== 1 ? [i] : []));
  if (ones.length > 0) g = ops.sum(g, ones, true);
  return g;
}

/** Nodes reachable from `roots`, ordered so that every node comes before the nodes it consumes. */
export function topologicalOrder(roots: readonly TapeNode[]): TapeNode[] {
  const postOrder: TapeNode[] = [];
  const visited = new Set<TapeNode>();
  const stack: [TapeNode, number][] = roots.map((r) => [r, 0]);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [node, next] = top;
    if (next === 0) {
      if (visited.has(node)) {
        stack.pop();
        continue;
      }
      visited.add(node);
    }
    const inputs = node.inputs;
    let i = next;
    while (i < inputs.length && !(inputs[i]!.gradFn && !visited.has(inputs[i]!.gradFn!))) i++;
    if (i < inputs.length) {
      top[1] = i + 1;
      stack.push([inputs[i]!.gradFn!, 0]);
    } else {
      stack.pop();
      postOrder.push(node);
    }
  }
  return postOrder.reverse();
}

/** Gradients from this many elements up are made contiguous before they reach `.grad`. */
const DENSE_GRAD_MIN_SIZE = 1024;

function accumulate<K>(map: Map<K, Tensor>, key: K, grad: Tensor): void {
  const previous = map.get(key);
  map.set(key, previous ? ops.add(previous, grad) : grad);
}

/**
 * Runs the chain rule from `roots` (seeded with `rootGrads`). Returns the gradient that reached each
 * tensor in `wanted` (leaf or not); when `wanted` is absent, accumulates into leaves' `.grad` instead.
 */
export function runBackward(
  roots: readonly Tensor[],
  rootGrads: readonly Tensor[],
  options: BackwardOptions & {
    /**
     * Walk nodes an earlier backward() released too (nb.explain after backward): a node keeps
     * its inputs and output, so only tensors the engine freed since are missing (checked first).
     */
    revisit?: boolean;
  },
  wanted?: readonly Tensor[],
): Map<Tensor, Tensor> {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;
  const nodeGrads = new Map<TapeNode, Tensor>();
  const leafGrads = new Map<Tensor, Tensor>();
  const wantedSet = new Set(wanted);
  const results = new Map<Tensor, Tensor>();

  const deliver = (t: Tensor, g: Tensor): void => {
    if (t.gradFn) accumulate(nodeGrads, t.gradFn, g);
    else accumulate(leafGrads, t, g);
  };

  // What the walk hands out; without createGraph every other tensor it made is freed at the end.
  const handedOut: Tensor[] = [];
  /** Activations only the freed graph could read. */
  const freed: Tensor[] = [];
  const walk = (): void => {
    roots.forEach((root, i) => deliver(root, rootGrads[i]!));
    const order = topologicalOrder(roots.flatMap((r) => (r.gradFn ? [r.gradFn] : [])));
    for (const node of order) {
      const dy = nodeGrads.get(node);
      if (!dy) continue;
      if (node.released && !options.revisit) {
        throw opError(
          'backward',
          `tried to backward through the graph a second time (node ${node.name}); its saved values were freed after the first backward — pass { retainGraph: true } to the first call`,
        );
      }
      const out = node.output;
      if (wantedSet.has(out)) results.set(out, dy);
      else if (!wanted && out.retainsGrad)
        handedOut.push((out.grad = out.grad ? ops.add(out.grad, dy) : dy));
      const vjp = node.op.vjp as Vjp;
      const needsGrad = node.inputs.map((input) => input.requiresGrad);
      const grads = vjp(
        { name: node.name, inputs: node.inputs, output: out, attrs: node.attrs, needsGrad },
        dy,
      );
      node.inputs.forEach((input, i) => {
        const g = grads[i];
        if (!g || !input.requiresGrad) return;
        deliver(input, ops.cast(sumTo(g, input.shape), input.dtype));
      });
      if (!retainGraph) {
        node.released = true;
        if (isInternal(out)) freed.push(out);
        // Internal tensors no graph made (indices, constants) go with the nodes that saved them.
        for (const input of node.inputs) if (!input.gradFn && isInternal(input)) freed.push(input);
      }
    }
    for (const [leaf, g] of leafGrads) {
      if (wantedSet.has(leaf)) results.set(leaf, g);
      else if (!wanted && leaf.requiresGrad) {
        // Like PyTorch's AccumulateGrad, a large leaf's gradient is laid out densely (a weight used
        // transposed would otherwise get a transposed view, and every optimizer pass would stride);
        // for small ones the copy would cost more than the strided passes.
        // A symbolic gradient's layout is only known when the graph runs, unless a kernel made it
        // (kernels write dense outputs): other symbolic gradients are always copied.
        const known = g.isSymbolic ? g.gradFn?.op.kind === 'kernel' : g.isContiguous;
        const dense = g.size < DENSE_GRAD_MIN_SIZE || known ? g : ops.contiguous(g);
        const grad = createGraph ? dense : dense.detach();
        // In a trace, a captured parameter's gradient goes to the parameter itself (nb.jit).
        const target = leaf.graph?.originalOf(leaf) ?? leaf;
        // The gradient it adds to is not freed: it may be the user's, or still in use.
        const total = target.grad ? ops.add(target.grad, grad) : grad;
        handedOut.push((target.grad = markEngineGrad(total)));
      }
    }
  };
  withGradMode(createGraph, () => {
    if (createGraph) walk();
    else scoped(walk, () => [...handedOut, ...results.values()]);
  });
  for (const t of freed) t.dispose();
  return results;
}

function seedGrads(op: string, outputs: readonly Tensor[], given?: readonly Tensor[]): Tensor[] {
  return outputs.map((out, i) => {
    const g = given?.[i];
    if (g) {
      if (!shapesEqual(g.shape, out.shape)) {
        throw opError(
          op,
          `gradient of shape ${formatShape(g.shape)} does not match output of shape ${formatShape(out.shape)}`,
        );
      }
      return g;
    }
    if (out.size !== 1) {
      throw opError(
        op,
        `a gradient can only be implied for a one-element output, this one has shape ${formatShape(out.shape)}; pass gradOutput (∂L/∂output)`,
      );
    }
    return ops.filledAs(1, out);
  });
}

export function backward(
  outputs: readonly Tensor[],
  gradOutputs: readonly Tensor[] | undefined,
  options: BackwardOptions,
): void {
  for (const out of outputs) {
    if (out.isSymbolic && !activeTrace()) {
      // Outside nb.jit a graph's gradients are graph nodes too; backward() has nowhere to put them.
      throw opError(
        'backward',
        'this is a symbolic tensor of a tf1 graph: build its gradients with tf1.gradients(loss, variables) or optimizer.minimize(loss), then run them in a Session',
      );
    }
    if (!out.requiresGrad) {
      throw opError(
        'backward',
        'this tensor does not require grad and has no gradFn: no input of the computation had requiresGrad set',
      );
    }
  }
  runBackward(outputs, seedGrads('backward', outputs, gradOutputs), options);
}

export interface GradOptions extends BackwardOptions {
  /** ∂L/∂output for each output; needed for outputs with more than one element. */
  gradOutputs?: readonly Tensor[];
  /** Return a zero gradient (instead of throwing) for inputs the outputs do not depend on. */
  allowUnused?: boolean;
}

/**
 * Gradients of `outputs` w.r.t. `inputs`, returned rather than accumulated in `.grad`, like
 * `torch.autograd.grad`. With `createGraph`, the results can be differentiated again.
 *
 * @example const [dx] = nb.grad([x.pow(3)], [x], { createGraph: true }); // 3x², differentiable
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  options: GradOptions = {},
): Tensor[] {
  const outs = Array.isArray(outputs) ? (outputs as readonly Tensor[]) : [outputs as Tensor];
  const ins = Array.isArray(inputs) ? (inputs as readonly Tensor[]) : [inputs as Tensor];
  for (const t of ins) {
    if (!t.requiresGrad)
      throw opError('grad', `input of shape ${formatShape(t.shape)} does not require grad`);
  }
  const live = outs.filter((o) => o.requiresGrad);
  const seeds = seedGrads('grad', outs, options.gradOutputs).filter(
    (_, i) => outs[i]!.requiresGrad,
  );
  const results = runBackward(live, seeds, options, ins);
  return ins.map((t) => {
    const g = results.get(t);
    if (g) return g;
    if (options.allowUnused) return ops.filledAs(0, t);
    throw opError(
      'grad',
      `an input of shape ${formatShape(t.shape)} was not used to compute the outputs; pass allowUnused: true`,
    );
  });
}
