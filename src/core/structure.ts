/**
 * Nested arrays and plain objects of "leaves" (fetches of Session.run, results of nb.jit): their
 * leaves in order, and the same structure with each leaf replaced.
 */
export function leavesOf<L>(
  value: unknown,
  isLeaf: (v: unknown) => v is L,
  onOther: (v: unknown) => void = () => undefined,
  out: L[] = [],
): L[] {
  if (isLeaf(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) leavesOf(v, isLeaf, onOther, out);
  else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) leavesOf(v, isLeaf, onOther, out);
  } else onOther(value);
  return out;
}

/** `value` with every leaf replaced by `fn(leaf)`; other non-container values are kept. */
export function mapLeaves<L>(
  value: unknown,
  isLeaf: (v: unknown) => v is L,
  fn: (leaf: L) => unknown,
): unknown {
  if (isLeaf(value)) return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapLeaves(v, isLeaf, fn));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapLeaves(v, isLeaf, fn)]));
  }
  return value;
}
