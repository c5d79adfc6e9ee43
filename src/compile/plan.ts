/**
 * An execution plan: the steps a Session runs for one set of fetches and feed signature. Built from
 * the graph by pruning to what the fetches need (dead-code removal), then rewritten by the passes.
 */
import type { Leaf, Graph } from '../graph/graph.js';
import { kernelOf, runOp, type TapeNode } from '../ops/define.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Step {
  /** The graph tensors this step reads (leaves or outputs of earlier steps). */
  readonly inputs: readonly Tensor[];
  /** The graph tensor it produces. */
  readonly output: Tensor;
  /** Computes the output's value from the inputs' values. */
  readonly run: (inputs: readonly Tensor[]) => Tensor;
  /**
   * For steps that are one kernel: computes the output's value into `out` (contiguous, of the
   * output's shape and dtype), so that a replay can give it a buffer once. Absent for views and
   * custom ops.
   */
  readonly fill?: (out: Tensor, inputs: readonly Tensor[]) => void;
  /** Each output element reads only the inputs' elements at its own (broadcast) position. */
  readonly elementwise?: boolean;
  /** For dumps: the op, or the ops a fused step stands for. */
  readonly label: string;
  /** The graph node it came from (absent for fused steps). */
  readonly node?: TapeNode;
}

export interface Plan {
  readonly graph: Graph;
  /** Leaves the steps read, with their kind (fed, variable, constant). */
  readonly leaves: Map<Tensor, Leaf>;
  readonly steps: Step[];
  /** Graph tensors whose values must survive the run (fetched or assigned). */
  readonly keep: Set<Tensor>;
}

/** A plan with, for each step, the intermediate values that die after it (buffer reuse). */
export interface ExecutablePlan extends Plan {
  readonly frees: readonly (readonly Tensor[])[];
}

/** Liveness: each intermediate value is freed right after its last reader. */
export function withLiveness(plan: Plan): ExecutablePlan {
  const lastUse = new Map<Tensor, number>();
  plan.steps.forEach((step, i) => step.inputs.forEach((t) => lastUse.set(t, i)));
  const frees: Tensor[][] = plan.steps.map(() => []);
  for (const [t, i] of lastUse) if (!plan.leaves.has(t) && !plan.keep.has(t)) frees[i]!.push(t);
  return { ...plan, frees };
}

/** The nodes and leaves `targets` depend on, in build (topological) order. */
export function prune(
  graph: Graph,
  targets: readonly Tensor[],
): { nodes: TapeNode[]; leaves: Map<Tensor, Leaf> } {
  const needed = new Set<TapeNode>();
  const leaves = new Map<Tensor, Leaf>();
  const stack = [...targets];
  while (stack.length > 0) {
    const t = stack.pop()!;
    const leaf = graph.leaves.get(t);
    if (leaf) {
      leaves.set(t, leaf);
      continue;
    }
    const node = t.gradFn;
    if (!node || needed.has(node)) continue;
    needed.add(node);
    stack.push(...node.inputs);
  }
  return { nodes: graph.nodes.filter((n) => needed.has(n)), leaves };
}

/** The step that runs `node`; `output` replaces the node's own output (inlining renames it). */
export function stepOf(node: TapeNode, inputs = node.inputs, output = node.output): Step {
  const { op, attrs } = node;
  const kernel = op.kind === 'kernel' ? kernelOf(op, node.output.backend) : null;
  return {
    inputs,
    output,
    node,
    label: node.name,
    run: (xs) => runOp(op, xs, attrs),
    ...(kernel && { fill: (out, xs) => kernel(out, xs, attrs) }),
    ...(op.kind === 'kernel' && op.elementwise === true && { elementwise: true }),
  };
}
