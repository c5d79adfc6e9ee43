/**
 * What a trace read from JavaScript, as comparable entries: every node's op and attributes, and
 * every captured value. A tensor that existed before the trace (a parameter, a tensor the function
 * closes over) is known by identity: its contents are read at every run, but a variable rebound to
 * another tensor is not. A tensor the trace made itself (a JS number turned into an operand) is
 * known by its value when small, else by its shape. Two traces with matching fingerprints compute
 * the same thing; a difference means a JS value the compiled step froze has changed since.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Graph } from '../graph/graph.js';

export interface Fingerprint {
  readonly entries: readonly string[];
}

/** Tensors made by the trace are compared by value up to this many elements. */
const BY_VALUE_MAX = 16;
const FRESH = 'made while tracing: ';

const identities = new WeakMap<Tensor, number>();
let nextIdentity = 0;

function identity(t: Tensor): number {
  let id = identities.get(t);
  if (id === undefined) identities.set(t, (id = nextIdentity++));
  return id;
}

function attrsText(attrs: unknown): string {
  try {
    return JSON.stringify(attrs) ?? '';
  } catch {
    return '(attributes)';
  }
}

function capturedEntry(value: Tensor, tracedFrom: number): string {
  const shape = `[${value.shape.join(', ')}]`;
  if (value.serial < tracedFrom) return `a tensor #${identity(value)} of shape ${shape}`;
  const data =
    value.backend.readSync(value.buffer) === null ? Tensor.uploadedValues(value) : value.dataSync();
  if (value.size > BY_VALUE_MAX || !data) return `${FRESH}a tensor of shape ${shape}`;
  const values = Array.from(data).join(', ');
  return value.ndim === 0 ? `${FRESH}the number ${values}` : `${FRESH}the values [${values}]`;
}

/** The fingerprint of `graph`, traced when tensors from serial `tracedFrom` on were new. */
export function fingerprintOf(graph: Graph, tracedFrom: number): Fingerprint {
  const entries: string[] = [];
  for (const [t, leaf] of graph.leaves)
    entries.push(
      leaf.kind === 'constant' ? capturedEntry(leaf.value, tracedFrom) : `${leaf.kind} ${t.dtype}`,
    );
  for (const node of graph.nodes) entries.push(`${node.name}${attrsText(node.attrs)}`);
  return { entries };
}

/**
 * Whether a later trace computes what an earlier one did. A tensor the earlier trace made and kept
 * (an optimizer's state, created at its first step) is met again as an existing tensor: that is
 * no change.
 */
export function sameTrace(earlier: Fingerprint, later: Fingerprint): boolean {
  return firstChange(earlier, later) === null;
}

/** The first difference between two fingerprints, for a warning; null when they match. */
export function firstChange(earlier: Fingerprint, later: Fingerprint): string | null {
  const n = Math.max(earlier.entries.length, later.entries.length);
  for (let i = 0; i < n; i++) {
    const [a, b] = [earlier.entries[i], later.entries[i]];
    if (a === b) continue;
    if (a?.startsWith(FRESH) && b?.startsWith('a tensor #')) continue;
    if (a?.startsWith('a tensor #') && b?.startsWith('a tensor #'))
      return `a tensor it closes over was replaced by another (${a} → ${b})`;
    return `${a ?? 'nothing'} became ${b ?? 'nothing'}`;
  }
  return null;
}
