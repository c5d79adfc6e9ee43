/**
 * Graph passes over a plan (dead code is already gone: plans are pruned to the fetches):
 * - inline: custom ops declared `inline` become the ops of their forward (compile/inline.ts);
 * - cse: a step with the same op, inputs and attributes as an earlier one reuses its value;
 * - fusion: chains of elementwise steps whose intermediate values have no other reader become one
 *   generated kernel (sigmoid(matmul(x, w) + b) → matmul + one kernel);
 * - bufferReuse (in Session.execute): each intermediate value is freed after its last reader.
 * Each pass keeps the plan's values equal to running every node as built (tested on the op table).
 * Constant folding needs no pass: an op whose inputs are all constants (eager tensors) runs when it
 * is built, so a constant subexpression enters the graph as one captured constant.
 */
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import type { FusedExpr } from '../backends/backend.js';
import type { TapeNode } from '../ops/define.js';
import { Tensor } from '../tensor/tensor.js';
import type { Plan, Step } from './plan.js';
import { inlineFunctionOps } from './inline.js';

export type PassName = 'inline' | 'cse' | 'fusion';
export const ALL_PASSES: readonly PassName[] = ['inline', 'cse', 'fusion'];

export function optimize(plan: Plan, passes: readonly PassName[] = ALL_PASSES): Plan {
  let result = plan;
  if (passes.includes('inline')) result = inlineFunctionOps(result);
  if (passes.includes('cse')) result = eliminateCommonSubexpressions(result);
  if (passes.includes('fusion')) result = fuseElementwise(result);
  return result;
}

function rewire(step: Step, replace: Map<Tensor, Tensor>): Step {
  if (!step.inputs.some((t) => replace.has(t))) return step;
  return { ...step, inputs: step.inputs.map((t) => replace.get(t) ?? t) };
}

export function eliminateCommonSubexpressions(plan: Plan): Plan {
  const seen = new Map<string, Tensor>();
  const replace = new Map<Tensor, Tensor>();
  const ids = new Map<Tensor, number>();
  const id = (t: Tensor): number => {
    if (!ids.has(t)) ids.set(t, ids.size);
    return ids.get(t)!;
  };
  const steps: Step[] = [];
  for (const original of plan.steps) {
    const step = rewire(original, replace);
    const key =
      step.node && !(step.node.op.kind === 'function' && step.node.op.random)
        ? `${step.label}(${step.inputs.map(id).join(',')})${JSON.stringify(step.node.attrs)}`
        : null;
    const earlier = key === null ? undefined : seen.get(key);
    // A fetched duplicate keeps its own step, so every fetched tensor has exactly one producer.
    if (earlier && !plan.keep.has(step.output)) {
      replace.set(step.output, earlier);
      continue;
    }
    if (key !== null) seen.set(key, step.output);
    steps.push(step);
  }
  return { ...plan, steps };
}

/** Ops the fuser may merge: elementwise, with float or bool results (integer ops round). */
function fusible(step: Step): step is Step & { node: TapeNode } {
  const node = step.node;
  if (!node || node.op.kind !== 'kernel') return false;
  return node.op.elementwise === true && step.output.dtype !== 'int32';
}

export function fuseElementwise(plan: Plan): Plan {
  const readers = new Map<Tensor, number>();
  for (const step of plan.steps)
    for (const t of new Set(step.inputs)) readers.set(t, (readers.get(t) ?? 0) + 1);
  const producer = new Map<Tensor, Step>();
  for (const step of plan.steps) producer.set(step.output, step);
  // A fusible step is absorbed into its only reader when that reader is fusible too.
  const absorbed = new Set<Step>();
  // Only same-shape producers: a smaller (broadcast) one, like a bias correction on a scalar, would
  // be recomputed for every element of the fused output instead of once.
  const absorbable = (t: Tensor, into: Tensor): Step | undefined => {
    const p = producer.get(t);
    const sameShape = shapesEqual(t.shape, into.shape);
    return p && fusible(p) && sameShape && readers.get(t) === 1 && !plan.keep.has(t)
      ? p
      : undefined;
  };
  // A matrix product read only by a fusible chain of its shape: the chain may become its epilogue.
  const loneProduct = (t: Tensor, into: Tensor): Step | undefined => {
    const p = producer.get(t);
    const sameShape = shapesEqual(t.shape, into.shape);
    return p?.node?.op.name === 'MatMul' && sameShape && readers.get(t) === 1 && !plan.keep.has(t)
      ? p
      : undefined;
  };
  const steps: Step[] = [];
  for (const step of [...plan.steps].reverse()) {
    if (absorbed.has(step)) continue;
    const backend = step.output.backend;
    const withProduct =
      backend.fuseMatmul !== undefined && step.inputs.some((t) => loneProduct(t, step.output));
    if (!fusible(step) || (!withProduct && !step.inputs.some((t) => absorbable(t, step.output)))) {
      steps.push(step);
      continue;
    }
    const inputs: Tensor[] = [];
    const labels: string[] = [];
    const local = new Map<Step, FusedExpr>();
    const build = (s: Step): FusedExpr => {
      labels.push(s.label);
      const expr: FusedExpr = {
        op: s.label,
        args: s.inputs.map((t): FusedExpr => {
          const inner = absorbable(t, step.output);
          if (inner) {
            // A value read twice by one step (x * x) is built once.
            const built = local.get(inner) ?? build(inner);
            absorbed.add(inner);
            local.set(inner, built);
            return built;
          }
          if (!inputs.includes(t)) inputs.push(t);
          return { input: inputs.indexOf(t) };
        }),
      };
      return expr;
    };
    const expr = build(step);
    const fused =
      fuseWithProduct(step, expr, inputs, labels) ?? fuseAlone(step, expr, inputs, labels);
    if (!fused) {
      // The backend cannot fuse these ops: keep the original steps.
      for (const s of local.keys()) absorbed.delete(s);
      steps.push(step);
      continue;
    }
    steps.push(fused);
  }

  /** The chain as the epilogue of the product it reads, in one kernel; null if it reads none. */
  function fuseWithProduct(
    step: Step,
    expr: FusedExpr,
    inputs: readonly Tensor[],
    labels: readonly string[],
  ): Step | null {
    const product = inputs.findIndex((t) => loneProduct(t, step.output));
    const matmul = product >= 0 ? producer.get(inputs[product]!)! : null;
    const kernel = matmul && step.output.backend.fuseMatmul?.(expr, inputs.length, product);
    if (!matmul || !kernel) return null;
    absorbed.add(matmul);
    const others = inputs.filter((_, k) => k !== product);
    const dtype = step.output.dtype;
    return {
      inputs: [...matmul.inputs, ...others],
      output: step.output,
      label: `Fused(MatMul, ${[...labels].reverse().join(', ')})`,
      run: ([a, b, ...rest]) => {
        const batch = broadcastShapes('Fused', [a!.shape.slice(0, -2), b!.shape.slice(0, -2)]);
        const shape = broadcastShapes('Fused', [
          [...batch, a!.shape.at(-2)!, b!.shape.at(-1)!],
          ...rest.map((v) => v.shape),
        ]);
        const out = Tensor.empty(shape, dtype, step.output.backend);
        kernel(out, [a!, b!, ...rest]);
        return out;
      },
      fill: kernel,
    };
  }

  /** The chain as one elementwise kernel, or null where the backend cannot fuse its ops. */
  function fuseAlone(
    step: Step,
    expr: FusedExpr,
    inputs: readonly Tensor[],
    labels: readonly string[],
  ): Step | null {
    if (labels.length === 1) return null; // nothing was absorbed: the step stays as it is
    const backend = step.output.backend;
    const kernel = backend.fuse?.(expr, inputs.length);
    if (!kernel) return null;
    const dtype = step.output.dtype;
    return {
      inputs,
      output: step.output,
      label: `Fused(${[...labels].reverse().join(', ')})`,
      run: (values) => {
        const shape = broadcastShapes(
          'Fused',
          values.map((v) => v.shape),
        );
        const out = Tensor.empty(shape, dtype, backend);
        kernel(out, values);
        return out;
      },
      fill: kernel,
      elementwise: true,
    };
  }
  return { ...plan, steps: steps.reverse() };
}
