/**
 * nb.jit: traces a function once per input signature (shapes and dtypes) into a graph — forward
 * pass, backward() and optimizer steps included — optimises it with the graph passes, and replays
 * the plan on later calls. Parameters and optimizer state are read and written in place, so eager
 * code and jitted code can be mixed.
 */
import { formatShape, opError } from '../core/errors.js';
import { fingerprintOf, firstChange, sameTrace, type Fingerprint } from './fingerprint.js';
import { warn } from '../engine/warn.js';
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

interface Traced {
  graph: Graph;
  inputs: Tensor[];
  /** The traced result, with symbolic tensors in place of values. */
  result: JitResult;
  assignments: [Tensor, Tensor][];
  /** Tensors whose .grad the traced function set, with the symbolic gradient. */
  grads: [Tensor, Tensor][];
  /** Module modes the function read: the plan holds while they stay as they were. */
  modes: [object, boolean][];
  fingerprint: Fingerprint;
}

interface Compiled extends Traced {
  signature: string;
  /** Outputs, then assigned values, then gradients, from the argument values. */
  run: (args: readonly Tensor[]) => Tensor[];
  outputs: Tensor[];
}

const isTensor = (v: unknown): v is Tensor => v instanceof Tensor;

function trace(fn: (...args: Tensor[]) => JitResult, args: readonly Tensor[]): Traced {
  const graph = new Graph();
  const inputs = args.map((a, i) => {
    const t = Tensor.symbolic(a.shape, a.dtype, graph, getBackend(a.device));
    graph.addLeaf(t, { kind: 'placeholder', name: `arg${i}` });
    return t;
  });
  const tracedFrom = Tensor.nextSerial;
  const record: Trace = { graph, assignments: [], modes: new Map() };
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
  const modes = [...record.modes];
  const { assignments } = record;
  const fingerprint = fingerprintOf(graph, tracedFrom);
  return { graph, inputs, result, assignments, grads, modes, fingerprint };
}

function compile(traced: Traced, args: readonly Tensor[], signature: string): Compiled {
  const { graph, inputs, result, assignments, grads } = traced;
  const outputs = leavesOf(result, isTensor);
  const fetches = [...outputs, ...assignments.map(([, v]) => v), ...grads.map(([, g]) => g)];
  // A value only copied into its target (an optimizer update) may be computed in the target.
  const handedOut = new Set([...outputs, ...grads.map(([, g]) => g)]);
  const targetCount = new Map<Tensor, number>();
  for (const [target] of assignments) targetCount.set(target, (targetCount.get(target) ?? 0) + 1);
  const copiedInto = new Map(
    assignments
      .filter(([target, value]) => targetCount.get(target) === 1 && !handedOut.has(value))
      .map(([target, value]) => [value, target]),
  );
  const run = new Session(graph).makeCallable(fetches, inputs, args, copiedInto);
  return { ...traced, signature, run, outputs };
}

const signatureOf = (args: readonly Tensor[]): string =>
  args.map((a) => `${a.dtype}${formatShape(a.shape)}`).join(',');

const modesHold = (c: Compiled): boolean =>
  c.modes.every(([owner, value]) => (owner as { training: boolean }).training === value);

/** Calls 2, 4, 8, 16, …: when a compiled step traces the function again to check what it froze. */
const isCheckCall = (n: number): boolean => n >= 2 && (n & (n - 1)) === 0;
/**
 * The share of a jitted function's time that checking may take: a check call is skipped while
 * the checks so far took more (a check traces the function: for a tiny step, 11 checks in 2,000
 * calls cost W4 a quarter of its speed; for larger steps the schedule alone decides).
 */
const CHECK_BUDGET = 0.02;

export interface JitOptions {
  /** How many compiled plans to keep (least recently used go first); default 16. */
  maxPlans?: number;
}

/**
 * Compiles `fn` for speed: the first call with each input signature traces it into a graph; every
 * call runs the optimised graph. `fn` must compute with nabla ops only (reading values with
 * item()/dataSync() inside it is an error) and should clear gradients itself (optimizer.zeroGrad())
 * when it calls backward().
 *
 * What the compiled step follows, like eager code: the tensors it reads (parameters, optimizer
 * state, any tensor changed in place), optimizer hyperparameters (`opt.lr`, schedulers), each
 * module's train()/eval() mode (a plan per mode), and random draws (new values every call: dropout
 * masks). JS numbers and tensor variables it closes over are read when it traces: nb.jit traces
 * again on calls 2, 4, 8, … (as far as 2% of its time allows) to check them, and where one changed
 * it warns, naming it, and from then on traces every call (plans stay cached per distinct trace).
 * Pass values that change as tensor arguments, or update a tensor in place, to keep the fast path.
 *
 * @example
 * const step = nb.jit((x, y) => {
 *   const loss = lossFn.forward(model.forward(x), y);
 *   opt.zeroGrad(); loss.backward(); opt.step();
 *   return loss;
 * });
 * for (const [x, y] of loader) step(x!, y!);
 */
export function jit<R extends JitResult>(
  fn: (...args: Tensor[]) => R,
  { maxPlans = 16 }: JitOptions = {},
): (...args: Tensor[]) => R {
  if (!(Number.isInteger(maxPlans) && maxPlans >= 1))
    throw opError('jit', `maxPlans must be a whole number >= 1, got ${maxPlans}`);
  const traceFn = fn as (...a: Tensor[]) => JitResult;
  /** Plans in least-recently-used order (the last is the newest). */
  const plans: Compiled[] = [];
  let calls = 0;
  /** When the first call began, and the milliseconds spent in check traces since. */
  let started = 0;
  let checking = 0;
  /** Set once a JS value the function reads was seen to change: every call traces. */
  let traceEveryCall = false;
  // The last plan: a training loop calls with one signature, checked cheaply.
  let last: { metas: TensorMeta[]; c: Compiled } | null = null;
  const sameSignature = (args: readonly Tensor[]): boolean =>
    last !== null &&
    args.length === last.metas.length &&
    args.every(
      (a, i) => a.dtype === last!.metas[i]!.dtype && shapesEqual(a.shape, last!.metas[i]!.shape),
    );

  const use = (c: Compiled): Compiled => {
    plans.splice(plans.indexOf(c), 1);
    plans.push(c);
    return c;
  };
  const add = (traced: Traced, args: readonly Tensor[], signature: string): Compiled => {
    const c = compile(traced, args, signature);
    plans.push(c);
    if (plans.length > maxPlans) plans.shift(); // its buffers go with it
    return c;
  };
  const find = (test: (c: Compiled) => boolean): Compiled | undefined => {
    const found = plans.find(test);
    return found && use(found);
  };

  const planFor = (args: readonly Tensor[]): Compiled => {
    if (calls++ === 0) started = performance.now();
    if (traceEveryCall) {
      const traced = trace(traceFn, args);
      const signature = signatureOf(args);
      return (
        find((c) => c.signature === signature && sameTrace(c.fingerprint, traced.fingerprint)) ??
        add(traced, args, signature)
      );
    }
    let c = sameSignature(args) && modesHold(last!.c) ? last!.c : undefined;
    const signature = c?.signature ?? signatureOf(args);
    c ??= find((p) => p.signature === signature && modesHold(p));
    if (!c) return add(trace(traceFn, args), args, signature);
    if (!isCheckCall(calls)) return c;
    const checkStart = performance.now();
    if (checking > CHECK_BUDGET * (checkStart - started)) return c;
    const again = trace(traceFn, args);
    checking += performance.now() - checkStart;
    const change = firstChange(c.fingerprint, again.fingerprint);
    if (change === null) return c;
    traceEveryCall = true;
    warn(
      `nb.jit: a value the function reads from JavaScript changed after it was compiled: ${change}. It is traced on every call from now on; pass values that change as tensor arguments (or update a tensor in place) to keep the fast path.`,
    );
    return add(again, args, signature);
  };

  return (...args: Tensor[]): R => {
    const c = planFor(args);
    if (last?.c !== c) last = { metas: args.map(({ shape, dtype }) => ({ shape, dtype })), c };
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
