/**
 * Bind groups made once per distinct set of buffers: a replayed step (and a training loop whose
 * pool hands back the same buffers) binds the same ones again. Found through a tree of maps keyed
 * by the buffers themselves (the parameter block's, then each storage buffer's), so a dispatch
 * builds and hashes no key string, and a lookup costs the same however many groups are kept.
 */
type Level = Map<GPUBuffer, Level | Entry>;

interface Entry {
  readonly group: GPUBindGroup;
  /** The buffers, parameter block first, and the maps along their path (for removal). */
  readonly buffers: readonly GPUBuffer[];
  readonly path: readonly Level[];
}

export class BindGroupCache {
  /** By the number of buffers, then one level per buffer. */
  private readonly roots = new Map<number, Level>();
  /** Every entry, oldest first: past the limit, the oldest go. */
  private readonly entries = new Set<Entry>();
  /** The entries each buffer appears in, forgotten with it. */
  private readonly entriesOf = new WeakMap<GPUBuffer, Set<Entry>>();

  constructor(
    private readonly make: (params: GPUBuffer, buffers: readonly GPUBuffer[]) => GPUBindGroup,
    private readonly max: number,
  ) {}

  get(params: GPUBuffer, storage: readonly GPUBuffer[]): GPUBindGroup {
    const buffers = [params, ...storage];
    let level = this.roots.get(buffers.length);
    if (!level) this.roots.set(buffers.length, (level = new Map()));
    const path: Level[] = [];
    for (let k = 0; k < buffers.length - 1; k++) {
      path.push(level);
      let next = level.get(buffers[k]!) as Level | undefined;
      if (!next) level.set(buffers[k]!, (next = new Map()));
      level = next;
    }
    path.push(level);
    const found = level.get(buffers.at(-1)!) as Entry | undefined;
    if (found) return found.group;
    if (this.entries.size >= this.max) this.remove(this.entries.values().next().value!);
    const entry: Entry = { group: this.make(params, storage), buffers, path };
    level.set(buffers.at(-1)!, entry);
    this.entries.add(entry);
    for (const buffer of buffers) {
      let of = this.entriesOf.get(buffer);
      if (!of) this.entriesOf.set(buffer, (of = new Set()));
      of.add(entry);
    }
    return entry.group;
  }

  /** Forgets every bind group that uses `buffer` (which is about to be destroyed). */
  forget(buffer: GPUBuffer): void {
    for (const entry of this.entriesOf.get(buffer) ?? []) this.remove(entry);
    this.entriesOf.delete(buffer);
  }

  private remove(entry: Entry): void {
    if (!this.entries.delete(entry)) return;
    // Delete the leaf, then each map left empty, from the bottom up.
    for (let k = entry.buffers.length - 1; k >= 0; k--) {
      const level = entry.path[k]!;
      level.delete(entry.buffers[k]!);
      if (level.size > 0) break;
      if (k === 0) this.roots.delete(entry.buffers.length);
    }
    for (const buffer of entry.buffers) this.entriesOf.get(buffer)?.delete(entry);
  }
}
