/**
 * Inlining (a graph pass, like Grappler's function inlining): a custom op declared `inline` (its
 * forward only composes nabla ops) runs as those ops instead of as one opaque step that dispatches
 * each of them on every run — so fusion can merge them with their neighbours. Its gradient is
 * untouched: the graph's gradient nodes were built from the op's own backward.
 */
import { opError } from '../core/errors.js';
import { Graph, type Leaf } from '../graph/graph.js';
import type { FunctionOp, TapeNode } from '../ops/define.js';
import { Tensor } from '../tensor/tensor.js';
import { prune, stepOf, type Plan, type Step } from './plan.js';

export function inlineFunctionOps(plan: Plan): Plan {
  const leaves = new Map(plan.leaves);
  const steps = plan.steps.flatMap((step) => {
    const op = step.node?.op;
    if (op?.kind !== 'function' || !op.inline) return [step];
    return bodyOf(step.node!, op, leaves) ?? [step];
  });
  return { ...plan, leaves, steps };
}

/**
 * The forward of `node` traced into steps over the node's own inputs, ending in its output; the
 * constants it uses join `leaves`. Null when the forward computes nothing (returns an input).
 */
function bodyOf(node: TapeNode, op: FunctionOp<unknown>, leaves: Map<Tensor, Leaf>): Step[] | null {
  const scratch = new Graph();
  const backend = node.output.backend;
  const args = node.inputs.map((t) => {
    const arg = Tensor.symbolic(t.shape, t.dtype, scratch, backend);
    scratch.addLeaf(arg, { kind: 'placeholder', name: 'arg' });
    return arg;
  });
  let result: Tensor;
  try {
    result = op.forward(args, node.attrs);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw opError(
      op.name,
      `is declared inline, but its forward cannot run as graph ops (it must only compose nabla ops): ${reason}`,
    );
  }
  if (!result.gradFn || result.graph !== scratch) return null;
  const rename = new Map<Tensor, Tensor>(args.map((a, i) => [a, node.inputs[i]!]));
  rename.set(result, node.output);
  const body = prune(scratch, [result]);
  for (const [t, leaf] of body.leaves) if (leaf.kind === 'constant') leaves.set(t, leaf);
  const renamed = (t: Tensor): Tensor => rename.get(t) ?? t;
  return body.nodes.map((n) => stepOf(n, n.inputs.map(renamed), renamed(n.output)));
}
