/**
 * The trace nb.jit records into. While a function is being traced every op becomes a node of the
 * trace's graph (eager tensors the function touches — parameters, optimizer state — are captured by
 * reference), and in-place copies of symbolic values into eager tensors are recorded as assignments
 * to apply after each replay.
 */
import type { Graph } from '../graph/graph.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Trace {
  readonly graph: Graph;
  /** [eager target, symbolic new value], in the order the function made them. */
  readonly assignments: [Tensor, Tensor][];
  /** Modes the function read (a module's `training`), by owner: the trace holds only for these. */
  readonly modes: Map<object, boolean>;
}

/** Records that the active trace (if any) read `owner`'s mode as `value`. */
export function noteMode(owner: object, value: boolean): void {
  active?.modes.set(owner, value);
}

let active: Trace | null = null;

export function activeTrace(): Trace | null {
  return active;
}

/** Runs `fn` with `trace` recording; returns fn's result. */
export function tracing<T>(trace: Trace, fn: () => T): T {
  const previous = active;
  active = trace;
  try {
    return fn();
  } finally {
    active = previous;
  }
}
