/**
 * nb.jit: traces a function once per input signature (shapes and dtypes) into a graph — forward
 * pass, backward() and optimizer steps included — optimises it with the graph passes, and replays
 * the plan on later calls. Parameters and optimizer state are read and written in place, so eager
 * code and jitted code can be mixed.
 */
import { formatShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { leavesOf, mapLeaves } from '../core/structure.js';
import { Graph } from '../graph/graph.js';
import { tracing, type Trace } from '../engine/trace.js';
import { noGrad } from '../engine/grad-mode.js';
import { getBackend } from '../engine/devices.js';
import { Session } from '../session/session.js';
import { Tensor } from '../tensor/tensor.js';
import { setEngineGrad } from '../autograd/zero-grad.js';
import type { TensorMeta } from '../ops/define.js';

/** What a jitted function may return: tensors, nothing, or arrays/objects of tensors. */
// `void` is deliberate: a training step that returns nothing has type void, not undefined.
export type JitResult =
  | Tensor
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  | void
  | undefined
  | readonly JitResult[]
  | { readonly [key: string]: JitResult };

interface Compiled {
  /** Outputs, then assigned values, then gradients, from the argument values. */
  run: (args: readonly Tensor[]) => Tensor[];
  /** The traced result, with symbolic tensors in place of values. */
  result: JitResult;
  outputs: Tensor[];
  assignments: [Tensor, Tensor][];
  /** Tensors whose .grad the traced function set, with the symbolic gradient. */
  grads: [Tensor, Tensor][];
}

const isTensor = (v: unknown): v is Tensor => v instanceof Tensor;

function trace(fn: (...args: Tensor[]) => JitResult, args: readonly Tensor[]): Compiled {
  const graph = new Graph();
  const inputs = args.map((a, i) => {
    const t = Tensor.symbolic(a.shape, a.dtype, graph, getBackend(a.device));
    graph.addLeaf(t, { kind: 'placeholder', name: `arg${i}` });
    return t;
  });
  const record: Trace = { graph, assignments: [] };
  const result = tracing(record, () => fn(...inputs));
  // Parameters got symbolic gradients while tracing; each run sets their values instead.
  const grads: [Tensor, Tensor][] = [];
  for (const leaf of graph.leaves.keys()) {
    const original = graph.originalOf(leaf);
    if (original?.grad?.isSymbolic) {
      grads.push([original, original.grad]);
      original.grad = null;
    }
  }
  const outputs = leavesOf(result, isTensor);
  const fetches = [...outputs, ...record.assignments.map(([, v]) => v), ...grads.map(([, g]) => g)];
  // A value only copied into its target (an optimizer update) may be computed in the target.
  const handedOut = new Set([...outputs, ...grads.map(([, g]) => g)]);
  const targetCount = new Map<Tensor, number>();
  for (const [target] of record.assignments)
    targetCount.set(target, (targetCount.get(target) ?? 0) + 1);
  const copiedInto = new Map(
    record.assignments
      .filter(([target, value]) => targetCount.get(target) === 1 && !handedOut.has(value))
      .map(([target, value]) => [value, target]),
  );
  const run = new Session(graph).makeCallable(fetches, inputs, args, copiedInto);
  return { run, result, outputs, assignments: record.assignments, grads };
}

/**
 * Compiles `fn` for speed: the first call with each input signature traces it into a graph; every
 * call runs the optimised graph. `fn` must compute with nabla ops only (reading values with
 * item()/dataSync() inside it is an error) and should clear gradients itself (optimizer.zeroGrad())
 * when it calls backward(). Random numbers drawn inside `fn` are drawn once, when it is traced.
 *
 * @example
 * const step = nb.jit((x, y) => {
 *   const loss = lossFn.forward(model.forward(x), y);
 *   opt.zeroGrad(); loss.backward(); opt.step();
 *   return loss;
 * });
 * for (const [x, y] of loader) step(x!, y!);
 */
export function jit<R extends JitResult>(fn: (...args: Tensor[]) => R): (...args: Tensor[]) => R {
  const compiled = new Map<string, Compiled>();
  // The last signature and its plan: a training loop calls with one signature, checked cheaply.
  let last: { metas: TensorMeta[]; c: Compiled } | null = null;
  const sameSignature = (args: readonly Tensor[]): boolean =>
    last !== null &&
    args.length === last.metas.length &&
    args.every(
      (a, i) => a.dtype === last!.metas[i]!.dtype && shapesEqual(a.shape, last!.metas[i]!.shape),
    );
  return (...args: Tensor[]): R => {
    let c = sameSignature(args) ? last!.c : undefined;
    if (!c) {
      const signature = args.map((a) => `${a.dtype}${formatShape(a.shape)}`).join(',');
      c = compiled.get(signature);
      if (!c) compiled.set(signature, (c = trace(fn as (...a: Tensor[]) => JitResult, args)));
      last = { metas: args.map(({ shape, dtype }) => ({ shape, dtype })), c };
    }
    const values = c.run(args);
    const [outputs, assigned] = [c.outputs.length, c.outputs.length + c.assignments.length];
    let handedOut: Set<Tensor> | undefined;
    noGrad(() =>
      c.assignments.forEach(([target], i) => {
        const value = values[outputs + i]!;
        if (value === target) return; // computed in place
        target.copy_(value);
        handedOut ??= new Set([...values.slice(0, outputs), ...values.slice(assigned)]);
        if (!handedOut.has(value)) value.dispose(); // copied in: its memory can go back now
      }),
    );
    // As zeroGrad() in the traced step would: the gradient each one replaces is freed.
    c.grads.forEach(([param], i) => setEngineGrad(param, values[assigned + i]!));
    const valueOf = new Map(c.outputs.map((t, i) => [t, values[i]!]));
    return mapLeaves(c.result, isTensor, (t) => valueOf.get(t) ?? t) as R;
  };
}
