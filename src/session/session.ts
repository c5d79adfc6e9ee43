/**
 * TF1's Session: evaluates fetches of a graph with feeds. Per feed signature it caches a plan (the
 * pruned, ordered and optimised steps); each run executes the plan with the same op registry and
 * kernels as eager mode, frees intermediate values after their last use, then applies assignments.
 * Variables' values live here.
 */
import { displayShape, formatShape, opError } from '../core/errors.js';
import { leavesOf, mapLeaves } from '../core/structure.js';
import { noGrad } from '../engine/grad-mode.js';
import { getDefaultGraph, Graph } from '../graph/graph.js';
import { Operation, Variable } from '../graph/variable.js';
import { prune, stepOf, withLiveness, type ExecutablePlan } from '../compile/plan.js';
import { disposedLeaf, executePlan, Replay } from '../compile/replay.js';
import type { Shape } from '../core/shape.js';
import { optimize, type PassName } from '../compile/passes.js';
import { tensor, type TensorData } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

export type Fetch = Tensor | Operation;
export type Fetches = Fetch | readonly Fetches[] | { readonly [key: string]: Fetches };
/** What a fetch gives back: a tensor's value, null for an operation, or the same structure. */
export type FetchResult<F> = F extends Operation ? null : F extends Tensor ? Tensor : FetchValue;
export type FetchValue =
  Tensor | null | readonly FetchValue[] | { readonly [key: string]: FetchValue };
/** Results of an array of fetches, position by position. */
export type FetchResults<F extends readonly Fetch[]> = {
  [K in keyof F]: F[K] extends Operation ? null : Tensor;
};
export type FeedValue = Tensor | TensorData;
export type Feeds = Map<Tensor, FeedValue>;

export interface SessionOptions {
  /** Graph passes to apply (default: all). */
  passes?: readonly PassName[];
}

const isFetch = (v: unknown): v is Fetch => v instanceof Tensor || v instanceof Operation;

function flatten(fetches: Fetches): Fetch[] {
  return leavesOf(fetches, isFetch, (other) => {
    throw opError(
      'Session.run',
      `cannot fetch ${String(other)}: fetch tensors, operations, or arrays/objects of them`,
    );
  });
}

/** The assignments an operation performs, in order. */
function assignments(op: Operation, out: Operation[] = []): Operation[] {
  if (op.kind === 'assign') out.push(op);
  else for (const d of op.deps) assignments(d, out);
  return out;
}

/** A fed array as a tensor; a flat typed array takes the placeholder's shape (one unknown size). */
function feedTensor(raw: TensorData, placeholder: Tensor): Tensor {
  if (ArrayBuffer.isView(raw) && placeholder.ndim !== 1) {
    const known = placeholder.shape.filter((d) => d >= 0).reduce((a, b) => a * b, 1);
    const unknown = placeholder.shape.filter((d) => d < 0).length;
    if (unknown <= 1 && known > 0 && raw.length % known === 0) {
      const shape = placeholder.shape.map((d) => (d < 0 ? raw.length / known : d));
      return tensor(raw, { shape, dtype: placeholder.dtype, device: placeholder.device });
    }
  }
  return tensor(raw, { dtype: placeholder.dtype, device: placeholder.device });
}

/** Small numeric ids for tensors, to key cached plans cheaply. */
const ids = new WeakMap<Tensor, number>();
let nextId = 0;
const idOf = (t: Tensor): number => {
  let id = ids.get(t);
  if (id === undefined) ids.set(t, (id = nextId++));
  return id;
};

/**
 * Plans a Session keeps, one per set of fetches and feed shapes; past this the least recently used
 * goes, with its buffers (a loop over 400 batch sizes must not keep 400 plans' memory).
 */
const MAX_PLANS = 32;

export class Session {
  private readonly variables = new Map<Variable, Tensor>();
  private readonly plans = new Map<string, ExecutablePlan>();
  private readonly replays = new Map<ExecutablePlan, Replay>();
  private readonly copiedInto = new WeakMap<ExecutablePlan, ReadonlyMap<Tensor, Tensor>>();
  /** The graph version the cached plans were made for: a change to the graph retires them. */
  private plannedVersion = -1;
  /** The key of the plan used last (already at the end of `plans`). */
  private newestKey = '';
  private readonly passes: readonly PassName[] | undefined;

  readonly graph: Graph;

  /**
   * A session of `graph` (default: the default graph). TF1's keyword form reads the same:
   * `new Session({ graph, passes })`.
   */
  constructor(graph?: Graph | (SessionOptions & { graph?: Graph }), options: SessionOptions = {}) {
    const keywords = graph instanceof Graph || graph === undefined ? options : graph;
    const chosen = graph instanceof Graph ? graph : (graph?.graph ?? getDefaultGraph());
    if (!(chosen instanceof Graph))
      throw opError('Session', `expected a tf1.Graph, got ${String(chosen)}`);
    this.graph = chosen;
    this.passes = keywords.passes;
  }

  /**
   * Evaluates `fetches` (a tensor, an operation, or arrays/objects of them) with `feeds` for the
   * placeholders. Tensors come back as eager nb.Tensors, operations as null.
   *
   * @example const [, loss] = sess.run([trainOp, lossOp], new Map([[X, xb], [Y, yb]]));
   */
  run<const F extends readonly Fetch[]>(fetches: F, feeds?: Feeds): FetchResults<F>;
  run<F extends Fetch>(fetches: F, feeds?: Feeds): FetchResult<F>;
  run(fetches: Fetches, feeds?: Feeds): FetchValue;
  run(fetches: Fetches, feeds: Feeds = new Map()): FetchValue {
    const flat = flatten(fetches);
    const feedValues = this.checkFeeds(feeds);
    const tensors = flat.filter((f): f is Tensor => f instanceof Tensor);
    const assigns = flat
      .filter((f): f is Operation => f instanceof Operation)
      .flatMap((op) => assignments(op));
    for (const t of tensors) {
      if (t.isSymbolic && t.graph !== this.graph)
        throw opError('Session.run', 'a fetched tensor belongs to another graph');
    }
    // Eager tensors (e.g. a variable's initial value) are their own value.
    const targets = [...tensors, ...assigns.map((a) => a.value!)].filter((t) => t.isSymbolic);
    const plan = this.plan(targets, feedValues);
    const values = noGrad(() => this.execute(plan, feedValues));
    const valueOf = (t: Tensor): Tensor => (t.isSymbolic ? values.get(t)! : t);
    // Assignments apply after every fetched value was computed from the variables' old values.
    for (const a of assigns)
      this.variables.set(a.variable!, valueOf(a.value!).contiguous().cast(a.variable!.dtype));
    return mapLeaves(fetches, isFetch, (f) =>
      f instanceof Tensor ? valueOf(f) : null,
    ) as FetchValue;
  }

  /** The same as run(), for devices whose values are read asynchronously. */
  runAsync<const F extends readonly Fetch[]>(fetches: F, feeds?: Feeds): Promise<FetchResults<F>>;
  runAsync<F extends Fetch>(fetches: F, feeds?: Feeds): Promise<FetchResult<F>>;
  runAsync(fetches: Fetches, feeds?: Feeds): Promise<FetchValue>;
  runAsync(fetches: Fetches, feeds: Feeds = new Map()): Promise<FetchValue> {
    return Promise.resolve().then(() => this.run(fetches, feeds));
  }

  /**
   * A function evaluating `fetches` from values for `placeholders`, planned once for the shapes of
   * `sample` (TF1's make_callable): no per-call flattening, feed checks or plan lookup. Callers
   * guarantee later values have the same shapes and dtypes. `copiedInto` names fetches the caller
   * only copies into an eager tensor: runs may compute them there and return that tensor.
   */
  makeCallable(
    fetches: readonly Tensor[],
    placeholders: readonly Tensor[],
    sample: readonly Tensor[],
    copiedInto?: ReadonlyMap<Tensor, Tensor>,
  ): (values: readonly Tensor[]) => Tensor[] {
    const feeds = this.checkFeeds(new Map(placeholders.map((p, i) => [p, sample[i]!])));
    const targets = fetches.filter((t) => t.isSymbolic);
    const plan = this.plan(targets, feeds);
    if (copiedInto) this.copiedInto.set(plan, copiedInto);
    return (values) => {
      const run = noGrad(() =>
        this.execute(plan, new Map(placeholders.map((p, i) => [p, values[i]!]))),
      );
      return fetches.map((t) => (t.isSymbolic ? run.get(t)! : t));
    };
  }

  /** The current value of a variable (after initialisation). */
  valueOf(variable: Variable): Tensor {
    return this.variableValue(variable);
  }

  private variableValue(v: Variable): Tensor {
    const value = this.variables.get(v);
    if (!value) {
      throw opError(
        'Session.run',
        `variable '${v.name}' is not initialized: run globalVariablesInitializer() (or its initializer) first`,
      );
    }
    return value;
  }

  private checkFeeds(feeds: Feeds): Map<Tensor, Tensor> {
    if (!(feeds instanceof Map))
      throw opError('Session.run', 'feeds must be a Map from placeholder to value');
    const out = new Map<Tensor, Tensor>();
    for (const [placeholder, raw] of feeds) {
      const leaf = placeholder instanceof Tensor ? this.graph.leaves.get(placeholder) : undefined;
      if (!leaf || leaf.kind !== 'placeholder')
        throw opError('Session.run', "feeds must be keyed by placeholders of this session's graph");
      let value = raw instanceof Tensor ? raw : feedTensor(raw as TensorData, placeholder);
      if (value.isSymbolic)
        throw opError('Session.run', `the feed for '${leaf.name}' is symbolic: feed values`);
      const where = `placeholder '${leaf.name}' (${placeholder.dtype} ${displayShape(placeholder.shape)})`;
      if (value.device !== placeholder.device) {
        // Host values go to the placeholder's device, as TF1 feeds do; GPU values are not read back.
        if (value.device !== 'cpu')
          throw opError(
            'Session.run',
            `${where} is on ${placeholder.device} and was fed a ${value.device} tensor: build the graph after await nb.useDevice('${value.device}')`,
          );
        value = value.to(placeholder.device);
      }
      if (value.dtype !== placeholder.dtype)
        throw opError('Session.run', `${where} was fed ${value.dtype} values`);
      const fits =
        value.ndim === placeholder.ndim &&
        placeholder.shape.every((d, i) => d < 0 || d === value.shape[i]);
      if (!fits)
        throw opError(
          'Session.run',
          `${where} was fed a value of shape ${formatShape(value.shape)}`,
        );
      out.set(placeholder, value);
    }
    return out;
  }

  private plan(targets: readonly Tensor[], feeds: Map<Tensor, Tensor>): ExecutablePlan {
    if (this.graph.version !== this.plannedVersion) {
      this.dropPlans();
      this.plannedVersion = this.graph.version;
    }
    let key = '';
    for (const t of targets) key += `${idOf(t)},`;
    for (const [p, v] of feeds) key += `|${idOf(p)}:${v.shape.join('x')}`;
    let plan = this.plans.get(key);
    if (plan && key !== this.newestKey) {
      this.plans.delete(key); // to the end: the plans map runs from least to most recently used
      this.plans.set(key, plan);
      this.newestKey = key;
    }
    if (!plan) {
      const { nodes, leaves } = prune(this.graph, targets);
      for (const [t, leaf] of leaves) {
        if (leaf.kind === 'placeholder' && !feeds.has(t)) {
          throw opError(
            'Session.run',
            `placeholder '${leaf.name}' (${t.dtype} ${displayShape(t.shape)}) needs a value: add it to the feeds`,
          );
        }
      }
      const steps = nodes.map((node) => stepOf(node));
      plan = withLiveness(
        optimize({ graph: this.graph, leaves, steps, keep: new Set(targets) }, this.passes),
      );
      this.plans.set(key, plan);
      this.newestKey = key;
      if (this.plans.size > MAX_PLANS) this.dropPlan(this.plans.keys().next().value!);
    }
    return plan;
  }

  /** Forgets a plan and frees the buffers its replay holds. */
  private dropPlan(key: string): void {
    const plan = this.plans.get(key)!;
    this.plans.delete(key);
    this.replays.get(plan)?.dispose();
    this.replays.delete(plan);
  }

  /** Runs a plan: replayed once a first run has shown its shapes (see compile/replay.ts). */
  private execute(plan: ExecutablePlan, feeds: Map<Tensor, Tensor>): Map<Tensor, Tensor> {
    const replay = this.replays.get(plan);
    if (replay?.available) {
      const fed = new Map<Tensor, Tensor>();
      for (const t of replay.fed) fed.set(t, this.leafValue(plan, t, feeds));
      if (replay.fits(fed)) return replay.run(fed);
    }
    const leafValues = new Map<Tensor, Tensor>();
    for (const t of plan.leaves.keys()) leafValues.set(t, this.leafValue(plan, t, feeds));
    // A custom op's forward running this plan again, inside its own run: no shared buffers.
    if (replay && !replay.available) return executePlan(plan, leafValues);
    const shapes = new Map<Tensor, Shape>();
    const values = executePlan(plan, leafValues, (step, value) =>
      shapes.set(step.output, value.shape),
    );
    replay?.dispose();
    this.replays.set(plan, new Replay(plan, leafValues, shapes, this.copiedInto.get(plan)));
    return values;
  }

  private leafValue(plan: ExecutablePlan, t: Tensor, feeds: Map<Tensor, Tensor>): Tensor {
    const leaf = plan.leaves.get(t)!;
    const value =
      leaf.kind === 'placeholder'
        ? feeds.get(t)!
        : leaf.kind === 'constant'
          ? leaf.value
          : this.variableValue(t as Variable);
    if (value.isDisposed) throw disposedLeaf(leaf.name);
    return value;
  }

  /** Drops the session's variable values and the buffers its plans hold. */
  close(): void {
    this.variables.clear();
    this.dropPlans();
  }

  private dropPlans(): void {
    this.plans.clear();
    for (const replay of this.replays.values()) replay.dispose();
    this.replays.clear();
  }
}
