/**
 * Column sums of a dense float32 matrix (a bias gradient: the sum over a batch's rows) with SIMD:
 * each column accumulates down the rows, in row order, in float64 — as the plain-TS sum does — so
 * the floats are the same. Four columns per f32x4 load, each pair promoted to an f64x2; sixteen
 * columns (a cache line of a row) per pass over the rows. Large sums share their columns with the
 * worker threads.
 */
import type { Arena } from './arena.js';
import { buildModule, FunctionBuilder, ValType } from './emitter.js';
import { mayShare, WorkerPool } from './threads.js';

/** Elements from which a sum is shared between threads, as the elementwise kernels' outputs are. */
const PARALLEL_ELEMENTS = 1 << 16;

type SumsFunction = (
  src: number,
  rowBytes: number,
  rows: number,
  dst: number,
  blocks: number,
) => void;

/**
 * name(src, rowBytes, rows, dst, blocks): `blocks` blocks of 4·vectors columns from src (rows
 * rowBytes apart), each block's sums stored as float32 at dst. Byte addresses.
 */
function columnSumsFunction(name: string, vectors: number): FunctionBuilder {
  const f = new FunctionBuilder(name, Array<ValType>(5).fill(ValType.i32));
  const [src, rowBytes, rows, dst, blocks] = f.paramTuple(5);
  const [p, r] = f.localTuple(ValType.i32, 2);
  const sums = Array.from({ length: 2 * vectors }, () => f.local(ValType.v128));
  const v = f.local(ValType.v128);
  f.countDown(blocks, () => {
    for (const s of sums) f.v128Zero().set(s);
    f.get(src).set(p);
    f.get(rows).set(r);
    f.countDown(r, () => {
      for (let k = 0; k < vectors; k++) {
        const [low, high] = [sums[2 * k]!, sums[2 * k + 1]!];
        f.get(p)
          .v128Load(16 * k)
          .set(v);
        f.get(low).get(v).f64x2PromoteLowF32x4().f64x2Add().set(low);
        f.get(high).get(v).get(v).f32x4Shuffle([2, 3, 2, 3]).f64x2PromoteLowF32x4();
        f.f64x2Add().set(high);
      }
      f.incrementBy(p, rowBytes);
    });
    for (let k = 0; k < vectors; k++) {
      f.get(dst)
        .get(sums[2 * k]!)
        .f32x4DemoteF64x2Zero();
      f.get(sums[2 * k + 1]!)
        .f32x4DemoteF64x2Zero()
        .f32x4Shuffle([0, 1, 4, 5])
        .v128Store(16 * k);
    }
    f.increment(src, 16 * vectors).increment(dst, 16 * vectors);
  });
  return f;
}

/** Column sums bound to the arena's memory. */
export class WasmSums {
  private readonly module: WebAssembly.Module;
  private readonly sum16: SumsFunction;
  private readonly sum4: SumsFunction;
  /** Started by the first sum big enough to share; null when there are no other threads. */
  private pool: WorkerPool | null | undefined;

  /** `threads`: how many threads share a large sum. */
  constructor(
    private readonly arena: Arena,
    private readonly threads = 1,
  ) {
    const functions = [columnSumsFunction('sum16', 4), columnSumsFunction('sum4', 1)];
    this.module = new WebAssembly.Module(buildModule(functions, true));
    const exports = new WebAssembly.Instance(this.module, { env: { memory: arena.memory } })
      .exports;
    this.sum16 = exports['sum16'] as SumsFunction;
    this.sum4 = exports['sum4'] as SumsFunction;
  }

  /** sum16 over `blocks` blocks of 16 columns, shared with the workers when the sum is large. */
  private wide(src: number, rowBytes: number, rows: number, dst: number, blocks: number): void {
    const args = (from: number, to: number): number[] => [
      src + 64 * from,
      rowBytes,
      rows,
      dst + 64 * from,
      to - from,
    ];
    if (rows * 16 * blocks >= PARALLEL_ELEMENTS && mayShare(this.threads)) {
      this.pool ??= WorkerPool.forMemory(this.arena.memory, this.threads - 1);
      const here = (chunk: readonly number[]): void =>
        this.sum16(...(chunk as Parameters<SumsFunction>));
      const split = { units: blocks, perThread: 1 };
      if (this.pool?.share(this.module, 'sum16', split, args, here)) return;
    }
    this.sum16(...(args(0, blocks) as Parameters<SumsFunction>));
  }

  /**
   * o[at + j] = Σ over r of x[offset + r·cols + j] for the columns j < cols − cols mod 4, where x
   * is in the arena; returns how many columns it summed (0 where it cannot: the caller sums them).
   */
  columns(
    x: Float32Array,
    offset: number,
    rows: number,
    cols: number,
    o: Float32Array,
    at: number,
  ): number {
    const done = cols - (cols % 4);
    if (done === 0 || !this.arena.owns(x)) return 0;
    const direct = this.arena.owns(o);
    const scratch = direct ? null : this.arena.alloc(4 * done, true);
    if (!direct && scratch === null) return 0;
    const dst = direct ? o.byteOffset + 4 * at : scratch!;
    const src = x.byteOffset + 4 * offset;
    const wide = Math.floor(done / 16);
    this.wide(src, 4 * cols, rows, dst, wide);
    this.sum4(src + 64 * wide, 4 * cols, rows, dst + 64 * wide, (done - 16 * wide) / 4);
    if (scratch !== null) {
      o.set(new Float32Array(this.arena.buffer, scratch, done), at);
      this.arena.release(scratch, 4 * done);
    }
    return done;
  }
}
