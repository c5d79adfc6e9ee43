/**
 * Running a plan. The first run of a plan goes step by step through the op dispatch (shapes
 * inferred, outputs allocated, intermediates freed after their last reader); it also shows every
 * value's shape, and from then on the plan is replayed:
 * - each kernel step computes into a buffer allocated once, when the replay is prepared; values
 *   whose lifetimes do not overlap share a buffer (same dtype and size);
 * - views of those buffers (and of constants) are made once;
 * - a run only calls kernels. Values handed out (fetched or assigned) are the exception: the caller
 *   keeps them, so each run computes them into fresh tensors, and views of fed values are remade;
 *   an update nb.jit only copies into a parameter is computed in the parameter, where that is safe.
 * Steps that are not one kernel (custom ops, views that must copy) run through dispatch as before.
 */
import { contiguousStrides, shapesEqual, type Shape } from '../core/shape.js';
import { opError, type NablaError } from '../core/errors.js';
import type { DType } from '../core/dtype.js';
import { pin } from '../engine/scope.js';
import { Tensor } from '../tensor/tensor.js';
import type { Backend } from '../backends/backend.js';
import type { ExecutablePlan, Step } from './plan.js';

/**
 * Runs every step through dispatch, freeing each intermediate after its last reader. Returns the
 * leaves' and kept values; `observe` sees every step's value as it is made.
 */
export function executePlan(
  plan: ExecutablePlan,
  leafValues: ReadonlyMap<Tensor, Tensor>,
  observe?: (step: Step, value: Tensor) => void,
): Map<Tensor, Tensor> {
  const values = new Map(leafValues);
  const { steps, frees } = plan;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const value = step.run(step.inputs.map((t) => values.get(t)!));
    observe?.(step, value);
    values.set(step.output, value);
    // Buffer reuse: an intermediate value dies after its last reader (views keep their storage).
    for (const t of frees[i]!) {
      values.get(t)!.dispose();
      values.delete(t);
    }
  }
  return values;
}

/** The error for a leaf whose value was disposed before a run. */
export function disposedLeaf(name: string): NablaError {
  return opError('Session.run', `the value of '${name}' was disposed and can no longer be used`);
}

/**
 * How a replay computes a step: `into` its own buffer, into a `fresh` tensor (handed out), into
 * the tensor its value is assigned to (`target`), through `dispatch`, or not at all (a `view` made
 * when the replay was prepared).
 */
type Mode = 'into' | 'fresh' | 'target' | 'dispatch' | 'view';

interface ReplayStep {
  readonly step: Step;
  mode: Mode;
  /** Slots of the inputs, and the array handed to the kernel (refilled each run). */
  readonly inputs: readonly number[];
  readonly args: Tensor[];
  readonly output: number;
  /** The output's shape, dtype and device, as the first run showed them. */
  readonly shape: Shape;
  readonly dtype: DType;
  readonly backend: Backend;
  /** Slots of values made this run that die after this step. */
  frees: number[];
  /** For a `target` step: the tensor it writes into. */
  target?: Tensor;
}

export class Replay {
  /** Each value's slot: leaves first, then step outputs. */
  private readonly slots = new Map<Tensor, number>();
  /** Slot contents: fixed values (constants, buffers, views) stay; values of a run are cleared. */
  private readonly values: (Tensor | undefined)[] = [];
  private readonly steps: ReplayStep[] = [];
  /** Leaves with a new value every run (placeholders, variables), with the shape prepared for. */
  private readonly fedLeaves: { tensor: Tensor; slot: number; shape: Shape; dtype: DType }[] = [];
  /** Constants the plan reads, by name: a run checks that none was disposed. */
  private readonly constants: [Tensor, string][] = [];
  /** Leaves whose values the caller gives each run (placeholders, variables). */
  readonly fed: readonly Tensor[];
  /** Slots of the values a run returns. */
  private readonly kept: [Tensor, number][] = [];
  /** Slots a run fills (fed leaves and values made per run), cleared after it. */
  private readonly perRun: number[] = [];
  /** Buffers allocated for this replay, freed by dispose(). */
  private readonly owned: Tensor[] = [];
  private running = false;

  /**
   * Prepares `plan` for the shapes of a first run: `leafValues` are that run's leaf values and
   * `shapes` the shape of every step's value. `targets` maps kept values to the tensors the caller
   * will copy them into (nb.jit's parameter updates): where that is safe, a run computes them
   * there directly and returns the target itself.
   */
  constructor(
    private readonly plan: ExecutablePlan,
    leafValues: ReadonlyMap<Tensor, Tensor>,
    shapes: ReadonlyMap<Tensor, Shape>,
    targets: ReadonlyMap<Tensor, Tensor> = new Map(),
  ) {
    const slotOf = (t: Tensor): number => {
      let slot = this.slots.get(t);
      if (slot === undefined) this.slots.set(t, (slot = this.slots.size));
      return slot;
    };
    for (const [t, leaf] of plan.leaves) {
      const value = leafValues.get(t)!;
      if (leaf.kind === 'constant') {
        this.values[slotOf(t)] = value;
        this.constants.push([value, leaf.name]);
      } else
        this.fedLeaves.push({ tensor: t, slot: slotOf(t), shape: value.shape, dtype: t.dtype });
    }
    const fresh = this.handedOut();
    for (const step of plan.steps) {
      this.steps.push({
        step,
        mode: step.fill ? (fresh.has(step.output) ? 'fresh' : 'into') : 'dispatch',
        inputs: step.inputs.map(slotOf),
        args: step.inputs.map(() => undefined as unknown as Tensor),
        output: slotOf(step.output),
        shape: shapes.get(step.output)!,
        dtype: step.output.dtype,
        backend: step.output.backend,
        frees: [],
      });
    }
    this.allocate(fresh);
    for (const [value, target] of targets) this.writeInPlace(value, target);
    this.planFrees();
    for (const t of plan.keep) this.kept.push([t, this.slots.get(t)!]);
    this.fed = this.fedLeaves.map((l) => l.tensor);
    this.perRun.push(...this.fedLeaves.map((l) => l.slot));
    for (const s of this.steps)
      if (s.mode !== 'into' && s.mode !== 'view') this.perRun.push(s.output);
  }

  /**
   * Makes the step computing `value` write into `target` when nothing can tell: it is one
   * elementwise kernel, `target` is dense with the value's shape and dtype, and no later step
   * reads the target's old value (the step itself may, at the same positions).
   */
  private writeInPlace(value: Tensor, target: Tensor): void {
    const at = this.steps.findIndex((s) => s.step.output === value);
    const s = this.steps[at];
    if (!s || s.mode !== 'fresh' || !s.step.elementwise || target.dtype !== s.dtype) return;
    if (!target.isContiguous || !shapesEqual(target.shape, s.shape)) return;
    // The target's slot, if the plan reads it, and the slots of views of it.
    const old = new Set<number>();
    for (const [t, leaf] of this.plan.leaves) {
      if (leaf.kind === 'constant' && leaf.value === target) old.add(this.slots.get(t)!);
    }
    const direct = new Set(old);
    for (const r of this.steps) {
      if (r.step.node?.op.kind === 'view' && old.has(r.inputs[0]!)) old.add(r.output);
    }
    const safe = this.steps.every(
      (r, i) =>
        i < at || r.inputs.every((slot) => !old.has(slot) || (i === at && direct.has(slot))),
    );
    if (!safe) return;
    s.mode = 'target';
    s.target = target;
  }

  /**
   * Values that leave the run, and what they are views of: those must be fresh tensors every run,
   * never this replay's reused buffers.
   */
  private handedOut(): Set<Tensor> {
    const fresh = new Set(this.plan.keep);
    for (const step of [...this.plan.steps].reverse()) {
      if (step.node?.op.kind === 'view' && fresh.has(step.output)) fresh.add(step.inputs[0]!);
    }
    return fresh;
  }

  /**
   * Gives each `into` step a buffer and makes the views of fixed values, in step order; a buffer is
   * free for a later value once the last reader of its value (or of a view of it) has run.
   */
  private allocate(fresh: ReadonlySet<Tensor>): void {
    const lastUse = new Map<number, number>();
    this.steps.forEach((s, i) => s.inputs.forEach((slot) => lastUse.set(slot, i)));
    /** The buffer each fixed value lives in (absent for constants: those are never reused). */
    const rootOf = new Map<number, Tensor>();
    const live = new Map<Tensor, number>();
    const spare = new Map<string, Tensor[]>();
    this.steps.forEach((s, i) => {
      if (s.mode === 'into') {
        const key = `${s.backend.device}:${s.dtype}:${s.shape.reduce((a, b) => a * b, 1)}`;
        let buffer = spare.get(key)?.pop();
        if (!buffer) {
          buffer = Tensor.empty(s.shape, s.dtype, s.backend);
          pin(buffer); // it outlives any scope the first run happens in
          this.owned.push(buffer);
        }
        this.values[s.output] = this.fixed(
          buffer.restride(s.shape, contiguousStrides(s.shape), 0, s.dtype),
        );
        rootOf.set(s.output, buffer);
        live.set(buffer, Math.max(live.get(buffer) ?? i, lastUse.get(s.output) ?? i));
      } else if (this.isFixedView(s, fresh)) {
        s.mode = 'view';
        this.values[s.output] = this.fixed(s.step.run(s.inputs.map((slot) => this.values[slot]!)));
        const root = rootOf.get(s.inputs[0]!);
        if (root) {
          rootOf.set(s.output, root);
          live.set(root, Math.max(live.get(root)!, lastUse.get(s.output) ?? i));
        }
      }
      for (const [buffer, until] of live) {
        if (until > i) continue;
        live.delete(buffer);
        const key = `${buffer.device}:${buffer.dtype}:${buffer.size}`;
        spare.set(key, [...(spare.get(key) ?? []), buffer]);
      }
    });
  }

  /** A view step over values that are the same every run, that needs no copy: made once. */
  private isFixedView(s: ReplayStep, fresh: ReadonlySet<Tensor>): boolean {
    const op = s.step.node?.op;
    if (op?.kind !== 'view' || fresh.has(s.step.output)) return false;
    if (!s.inputs.every((slot) => this.values[slot])) return false;
    const input = this.values[s.inputs[0]!]!;
    return op.layout(input, s.step.node!.attrs, { shape: s.shape, dtype: s.dtype }) !== null;
  }

  private fixed(t: Tensor): Tensor {
    pin(t);
    this.owned.push(t);
    return t;
  }

  /** Values a run makes (fresh or dispatched, not kept) are disposed after their last reader. */
  private planFrees(): void {
    const lastUse = new Map<number, ReplayStep>();
    for (const s of this.steps) for (const slot of s.inputs) lastUse.set(slot, s);
    const kept = new Set([...this.plan.keep].map((t) => this.slots.get(t)));
    for (const s of this.steps) {
      const made = s.mode === 'fresh' || s.mode === 'dispatch';
      if (made && !kept.has(s.output)) lastUse.get(s.output)?.frees.push(s.output);
    }
  }

  /** Whether fed values have the shapes this replay was prepared for. */
  fits(leafValues: ReadonlyMap<Tensor, Tensor>): boolean {
    return this.fedLeaves.every((l) => {
      const value = leafValues.get(l.tensor)!;
      return value.dtype === l.dtype && shapesEqual(value.shape, l.shape);
    });
  }

  /** False while a run is under way (a custom op's forward running the same plan again). */
  get available(): boolean {
    return !this.running;
  }

  /** Runs the plan with the `fed` leaves' values; returns the kept values. */
  run(leafValues: ReadonlyMap<Tensor, Tensor>): Map<Tensor, Tensor> {
    for (const [t, name] of this.constants) if (t.isDisposed) throw disposedLeaf(name);
    const values = this.values;
    for (const l of this.fedLeaves) values[l.slot] = leafValues.get(l.tensor)!;
    this.running = true;
    try {
      for (const s of this.steps) {
        const args = s.args;
        for (let j = 0; j < args.length; j++) args[j] = values[s.inputs[j]!]!;
        switch (s.mode) {
          case 'into':
            s.step.fill!(values[s.output]!, args);
            break;
          case 'fresh': {
            const out = Tensor.empty(s.shape, s.dtype, s.backend);
            s.step.fill!(out, args);
            values[s.output] = out;
            break;
          }
          case 'target':
            s.step.fill!(s.target!, args);
            values[s.output] = s.target;
            break;
          case 'dispatch':
            values[s.output] = s.step.run(args.slice());
            break;
          case 'view':
            break;
        }
        for (const slot of s.frees) {
          values[slot]!.dispose();
          values[slot] = undefined;
        }
      }
      const result = new Map<Tensor, Tensor>();
      for (const [t, slot] of this.kept) result.set(t, values[slot]!);
      return result;
    } finally {
      this.running = false;
      // A run's values belong to the caller now (or were freed): hold none of them.
      for (const slot of this.perRun) values[slot] = undefined;
      for (const s of this.steps) s.args.fill(undefined as unknown as Tensor);
    }
  }

  /** Frees the buffers and views this replay holds. */
  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}
