/**
 * Deterministic freeing of temporaries the engine owns (optimizer-step and backward-pass
 * intermediates): every tensor created inside `scoped` is disposed when it returns, except those
 * `keep` names. Disposed CPU buffers go back to the pool, so the next step reuses warm memory
 * instead of faulting in fresh pages. Views are safe: storage is reference-counted.
 */
import type { Tensor } from '../tensor/tensor.js';

const stack: Tensor[][] = [];
/** Tensors something longer-lived holds (a graph captured them): scopes never free these. */
const pinned = new WeakSet<Tensor>();

export function pin(t: Tensor): void {
  pinned.add(t);
}

/**
 * Tensors no user code can see (the activations between the layers of nn.Sequential): a backward
 * pass that frees the graph frees these too, since nothing else will read them.
 */
const internal = new WeakSet<Tensor>();

/**
 * Gives back an intermediate no user code can see, once its consumer has run: at once when no
 * graph recorded it, else when a backward pass frees the graph.
 */
export function releaseInternal(t: Tensor): void {
  if (t.isSymbolic) return;
  if (t.gradFn) internal.add(t);
  else t.dispose();
}

export function isInternal(t: Tensor): boolean {
  return internal.has(t);
}

/** Called for every tensor with storage as it is created. */
export function track(t: Tensor): void {
  stack[stack.length - 1]?.push(t);
}

/** fn's result and the tensors it made. */
function recording<T>(fn: () => T): [T, Tensor[]] {
  const created: Tensor[] = [];
  stack.push(created);
  try {
    return [fn(), created];
  } finally {
    stack.pop();
  }
}

export function scoped<T>(
  fn: () => T,
  keep: (result: T) => Iterable<Tensor | null | undefined>,
): T {
  const [result, created] = recording(fn);
  const kept = new Set(keep(result));
  for (const t of created) if (!kept.has(t) && !pinned.has(t)) t.dispose();
  // Tensors kept here may belong to an enclosing scope's responsibility.
  const outer = stack[stack.length - 1];
  if (outer) for (const t of kept) if (t) outer.push(t);
  return result;
}

/**
 * Runs a function built from ops (conv2d, batchNorm, ...) and gives back every tensor it made but
 * its result, since the caller never sees them: tensors a graph made or saved (a pooling's indices)
 * when a backward pass frees that graph, the others at once. A convolution's windows are the
 * largest tensors of a CNN step; left to the garbage collector, they filled the arena.
 */
export function releasingIntermediates(fn: () => Tensor): Tensor {
  const [result, created] = recording(fn);
  // What the graph saved: the inputs of the nodes that made these tensors.
  const saved = new Set(created.flatMap((t) => t.gradFn?.inputs ?? []));
  for (const t of created) {
    if (t === result || pinned.has(t) || t.isSymbolic) continue;
    if (t.gradFn || saved.has(t)) internal.add(t);
    else t.dispose(); // views of it keep its memory as long as they need it
  }
  // An enclosing scope frees what it would have freed without this one.
  stack[stack.length - 1]?.push(...created);
  return result;
}
