/**
 * float32 matrix product with WebAssembly SIMD. A's rows are packed in panels of 4 ([k][4]) and B's
 * columns in panels of 8 ([k][8]) into the kernel's memory; the generated micro-kernel keeps a 4×8
 * tile of C in 8 f32x4 registers (+ 2 for B, 1 for the splatted A value: 11 of the 15 vector
 * registers V8 gives WebAssembly; bigger tiles spill), so each k step is 2 vector loads, 4 splat
 * loads and 8 multiply-adds — fused ones where the runtime has relaxed SIMD. Packing reads any
 * strides, so Aᵀ·B and A·Bᵀ cost the same as A·B. An A already laid out as the kernel can read it
 * (row-major, or a short Aᵀ: a small batch's weight gradient) is read in place, unpacked; in a
 * product shared between threads each thread packs the panels it multiplies.
 */
import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView } from '../primitives.js';
import { matmulLayout, packPanels, type MatmulLayout } from '../cpu/pack.js';
import { buildModule, FunctionBuilder, ValType } from './emitter.js';
import { copyRowsFunction, type RowsFunction } from './rows.js';
import type { Arena } from './arena.js';
import { cutInto, MAX_CHUNKS, mayShare, WorkerPool } from './threads.js';

const MR = 4;
const NR = 8;
/**
 * Multiply-adds from which a product is shared between threads (~0.2 ms of work): W2's 6.4 M
 * products ran 10–17% faster split in five of six alternating runs (bench/RESULTS.md).
 */
const PARALLEL_WORK = 1 << 22;
/**
 * The most bytes an Aᵀ read in place may span (its K rows, lda apart): 32 KiB (W2's gradient, 512
 * bytes apart) ran 6–8% faster than packed; 64 KiB no faster, and 256 KiB at 4 KiB apart 1.6×
 * slower (rows a page apart share L1 sets). A row-major B read in place was no faster than packed
 * where it fit L2 and up to 1.55× slower at such strides, so B is always packed.
 */
const IN_PLACE_SPAN = 32 * 1024;
/** Floats of an operand from which its packing before a shared product is shared too. */
const SHARED_PACK = 1 << 16;
/** The most floats of an operand outside the arena copied in before packing (stagedFloats). */
const STAGED_MAX = 1 << 16;
/** Output rows outside the arena shorter than this are copied out element by element. */
const SHORT_ROW = 32;

/**
 * gemm(a, aRow, aK, aPanel, b, c, mPanels, nPanels, K, ldc): C panels = A · packed B, A's strides
 * in bytes: element (i, k) of an A panel at a + i·aRow + k·aK, panels aPanel apart. Packed A is
 * (4, 16, 16·K); a row-major A (lda·4, 4, 16·lda) and an Aᵀ stored row-major (4, lda·4, 16) are
 * read in place, at the same speed (bench/RESULTS.md). `fused`: each multiply-add is relaxed SIMD's
 * f32x4.relaxed_madd (one FMA instruction where the CPU has it, rounded once) instead of a
 * multiply and an add.
 */
function gemmFunction(fused: boolean): FunctionBuilder {
  const f = new FunctionBuilder('gemm', Array<ValType>(10).fill(ValType.i32));
  const [aPtr, aRow, aK, aPanel, bPtr, cPtr, mPanels, nPanels, K, ldc] = f.paramTuple(10);
  const [p, q, k, pb, c, cRow] = f.localTuple(ValType.i32, 6);
  // One pointer per row of the A panel: three more adds a k step than one, free beside its 16
  // vector ops (the same speed on packed panels).
  const pa = f.localTuple(ValType.i32, MR);
  const acc = Array.from({ length: MR * 2 }, () => f.local(ValType.v128));
  const [b0, b1, a] = [f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128)];

  f.get(mPanels).set(p);
  f.get(cPtr).set(cRow);
  f.countDown(p, () => {
    f.get(nPanels).set(q);
    f.get(bPtr).set(pb);
    f.get(cRow).set(c);
    f.countDown(q, () => {
      for (const r of acc) f.v128Zero().set(r);
      f.get(K).set(k);
      f.get(aPtr).set(pa[0]);
      for (let r = 1; r < MR; r++)
        f.get(pa[r - 1]!)
          .get(aRow)
          .add()
          .set(pa[r]!);
      // pb walks this B panel and so ends where the next one starts (panels are contiguous).
      f.countDown(k, () => {
        f.get(pb).v128Load(0).set(b0);
        f.get(pb).v128Load(16).set(b1);
        for (let r = 0; r < MR; r++) {
          f.get(pa[r]!).load32Splat(0).set(a);
          for (const [half, b] of [b0, b1].entries()) {
            const sum = acc[2 * r + half]!;
            if (fused) f.get(a).get(b).get(sum).f32x4RelaxedMadd().set(sum);
            else f.get(sum).get(a).get(b).f32x4Mul().f32x4Add().set(sum);
          }
        }
        for (const row of pa) f.incrementBy(row, aK);
        f.increment(pb, NR * 4);
      });
      // Store the 4×8 tile: row r at c + r·ldc.
      for (let r = 0; r < MR; r++) {
        f.get(c)
          .get(ldc)
          .i32(r)
          .mul()
          .add()
          .get(acc[2 * r]!)
          .v128Store(0);
        f.get(c)
          .get(ldc)
          .i32(r)
          .mul()
          .add()
          .get(acc[2 * r + 1]!)
          .v128Store(16);
      }
      f.increment(c, NR * 4);
    });
    f.incrementBy(aPtr, aPanel);
    f.get(cRow).get(ldc).i32(MR).mul().add().set(cRow);
  });
  return f;
}

/**
 * packAdjacent(src, kStride, K, dst, dstK): four rows of a matrix whose rows are adjacent in memory
 * (one vector per k, at src + k·kStride) into dst + k·dstK. Byte strides.
 */
function packAdjacentFunction(): FunctionBuilder {
  const f = new FunctionBuilder('packAdjacent', Array<ValType>(5).fill(ValType.i32));
  const [src, kStride, K, dst, dstK] = f.paramTuple(5);
  f.countDown(K, () => {
    f.get(dst).get(src).v128Load().v128Store();
    f.incrementBy(src, kStride).incrementBy(dst, dstK);
  });
  return f;
}

/**
 * packTransposed(src, rowStride, K, dst, dstK): four rows of a matrix whose rows are contiguous
 * along k: 4×4 blocks are loaded a row per vector, transposed in registers (eight shuffles) and
 * stored a k per vector; the last K mod 4 columns one element at a time.
 */
function packTransposedFunction(): FunctionBuilder {
  const f = new FunctionBuilder('packTransposed', Array<ValType>(5).fill(ValType.i32));
  const [src, rowStride, K, dst, dstK] = f.paramTuple(5);
  const count = f.local(ValType.i32);
  const rows = [
    f.local(ValType.v128),
    f.local(ValType.v128),
    f.local(ValType.v128),
    f.local(ValType.v128),
  ];
  const pairs = [
    f.local(ValType.v128),
    f.local(ValType.v128),
    f.local(ValType.v128),
    f.local(ValType.v128),
  ];
  /** Pushes the address of row r at the current column: src + r·rowStride. */
  const rowAt = (r: number): void => void f.get(src).get(rowStride).i32(r).mul().add();
  f.get(K).i32(2).shrU().set(count);
  f.countDown(count, () => {
    rows.forEach((row, r) => {
      rowAt(r);
      f.v128Load().set(row);
    });
    // [a0 b0 a1 b1], [a2 b2 a3 b3], [c0 d0 c1 d1], [c2 d2 c3 d3] ...
    for (const [i, [x, y, lanes]] of (
      [
        [0, 1, [0, 4, 1, 5]],
        [0, 1, [2, 6, 3, 7]],
        [2, 3, [0, 4, 1, 5]],
        [2, 3, [2, 6, 3, 7]],
      ] as const
    ).entries()) {
      f.get(rows[x]!).get(rows[y]!).f32x4Shuffle(lanes).set(pairs[i]!);
    }
    // ... then [a0 b0 c0 d0] ... [a3 b3 c3 d3], one k per vector.
    for (const [j, [x, y, lanes]] of (
      [
        [0, 2, [0, 1, 4, 5]],
        [0, 2, [2, 3, 6, 7]],
        [1, 3, [0, 1, 4, 5]],
        [1, 3, [2, 3, 6, 7]],
      ] as const
    ).entries()) {
      f.get(dst).get(dstK).i32(j).mul().add();
      f.get(pairs[x]!).get(pairs[y]!).f32x4Shuffle(lanes).v128Store();
    }
    f.increment(src, 16);
    f.get(dst).get(dstK).i32(4).mul().add().set(dst);
  });
  f.get(K).i32(3).and().set(count);
  f.countDown(count, () => {
    for (let r = 0; r < 4; r++) {
      f.get(dst);
      rowAt(r);
      f.f32Load().f32Store(4 * r);
    }
    f.increment(src, 4).incrementBy(dst, dstK);
  });
  return f;
}

/**
 * packPanels(src, rowBytes, stride, K, dst, rows, panels, transposed): `panels` whole panels of
 * `rows` rows (a multiple of 4; rows rowBytes apart from src) into dst, four rows at a time with
 * packTransposed (`transposed` ≠ 0: rows contiguous along k, `stride` between rows) or
 * packAdjacent (`stride` between k). One call packs what a worker's chunk of an operand needs.
 */
function packPanelsFunction(): FunctionBuilder {
  const f = new FunctionBuilder('packPanels', Array<ValType>(8).fill(ValType.i32));
  const [src, rowBytes, stride, K, dst, rows, panels, transposed] = f.paramTuple(8);
  const [groups, from, to] = f.localTuple(ValType.i32, 3);
  f.countDown(panels, () => {
    f.get(rows).i32(2).shrU().set(groups);
    f.get(src).set(from);
    f.get(dst).set(to);
    f.countDown(groups, () => {
      const pack = (index: number) => (): void =>
        void f.get(from).get(stride).get(K).get(to).get(rows).i32(4).mul().call(index);
      f.get(transposed).ifElse(pack(PACK_TRANSPOSED_INDEX), pack(PACK_ADJACENT_INDEX));
      f.get(from).get(rowBytes).i32(4).mul().add().set(from);
      f.increment(to, 16);
    });
    f.get(src).get(rowBytes).get(rows).mul().add().set(src);
    f.get(dst).get(K).get(rows).mul().i32(4).mul().add().set(dst);
  });
  return f;
}

/**
 * gemmBatch(a, aStride, b, bStride, c, cStride, count, mPanels, nPanels, K, ldc): `count` products
 * of packed panels, each operand's address moving on by its stride (0: the same operand for all),
 * so that a worker can take a range of a batch's small products as one chunk.
 */
function gemmBatchFunction(): FunctionBuilder {
  const f = new FunctionBuilder('gemmBatch', Array<ValType>(11).fill(ValType.i32));
  const [a, aStride, b, bStride, c, cStride, count, mPanels, nPanels, K, ldc] = f.paramTuple(11);
  f.countDown(count, () => {
    f.get(a)
      .i32(4)
      .i32(MR * 4)
      .get(K)
      .i32(MR * 4)
      .mul();
    f.get(b).get(c).get(mPanels).get(nPanels).get(K).get(ldc).call(GEMM_INDEX);
    f.incrementBy(a, aStride).incrementBy(b, bStride).incrementBy(c, cStride);
  });
  return f;
}

/**
 * packGemm(packPanels' 8 arguments, gemm's 10): packs panels of an operand, then runs gemm, so
 * that each thread of a shared product packs the panels it multiplies: they are in its own
 * cache, and the packing is shared.
 */
function packGemmFunction(): FunctionBuilder {
  const f = new FunctionBuilder('packGemm', Array<ValType>(18).fill(ValType.i32));
  const params = f.paramTuple(18);
  for (const x of params.slice(0, 8)) f.get(x);
  f.call(PACK_PANELS_INDEX);
  for (const x of params.slice(8)) f.get(x);
  f.call(GEMM_INDEX);
  return f;
}

/**
 * packPartial(src, rowStride, kStride, K, dst, rows, real): a panel of `real` rows (an operand's
 * last, or any of one with no stride 1), each row copied an element at a time from any strides
 * (bytes), the rest zero-filled: the products of padding are dropped, but stale floats there
 * could be subnormals, which x86 multiplies slowly. Plain TS writing the same into the shared
 * memory made W3's [256, 1024]·[1024, 10] take 219 µs instead of 205.
 */
function packPartialFunction(): FunctionBuilder {
  const f = new FunctionBuilder('packPartial', Array<ValType>(7).fill(ValType.i32));
  const [src, rowStride, kStride, K, dst, rows, real] = f.paramTuple(7);
  const [k, from, to, step] = f.localTuple(ValType.i32, 4);
  f.get(rows).i32(4).mul().set(step);
  f.get(dst).i32(0).get(K).get(step).mul().memoryFill();
  f.countDown(real, () => {
    f.get(src).set(from);
    f.get(dst).set(to);
    f.get(K).set(k);
    f.countDown(k, () => {
      f.get(to).get(from).f32Load().f32Store();
      f.incrementBy(from, kStride).incrementBy(to, step);
    });
    f.incrementBy(src, rowStride);
    f.increment(dst, 4);
  });
  return f;
}

type PackFunction = (src: number, stride: number, K: number, dst: number, dstK: number) => void;

type PackPartialFunction = (
  src: number,
  rowStride: number,
  kStride: number,
  K: number,
  dst: number,
  rows: number,
  real: number,
) => void;

type PackPanelsFunction = (
  src: number,
  rowBytes: number,
  stride: number,
  K: number,
  dst: number,
  rows: number,
  panels: number,
  transposed: number,
) => void;

/** A matrix to pack: M rows of K from X at `base` (strides sRow, sK), panels of `rows` at `at`. */
interface Operand {
  X: TypedArray;
  base: number;
  sRow: number;
  sK: number;
  M: number;
  rows: number;
  at: number;
}

/** A packPanels call over an operand's whole panels: `args(from, to)` packs panels [from, to). */
interface PackCall {
  panels: number;
  args: (from: number, to: number) => number[];
}

type GemmBatchFunction = (
  a: number,
  aStride: number,
  b: number,
  bStride: number,
  c: number,
  cStride: number,
  count: number,
  mPanels: number,
  nPanels: number,
  k: number,
  ldc: number,
) => void;

type GemmFunction = (
  a: number,
  aRow: number,
  aK: number,
  aPanel: number,
  b: number,
  c: number,
  mPanels: number,
  nPanels: number,
  k: number,
  ldc: number,
) => void;

/** A as gemm reads it: its address, then the byte strides of a panel's rows, of k, of panels. */
type AStrides = readonly [address: number, row: number, k: number, panel: number];

type PackPanelsArgs = Parameters<PackPanelsFunction>;
type GemmArgs = Parameters<GemmFunction>;
type PackGemmArgs = [...PackPanelsArgs, ...GemmArgs];

/** The GEMM module's bytes, importing a shared or a private memory. */
export function gemmModuleBytes(shared = false, fused = false): Uint8Array<ArrayBuffer> {
  const functions = [gemmFunction(fused), packAdjacentFunction(), packTransposedFunction()];
  const more = [copyRowsFunction(), gemmBatchFunction(), packPanelsFunction(), packGemmFunction()];
  return buildModule([...functions, ...more, packPartialFunction()], shared);
}
/** Places in the module's functions, for the calls between them. */
const [GEMM_INDEX, PACK_ADJACENT_INDEX, PACK_TRANSPOSED_INDEX, PACK_PANELS_INDEX] = [0, 1, 2, 5];

type View = ArrayView<TypedArray>;

/** Packing A's rows (panels of MR) and B's columns (panels of NR) at a batch entry's offset. */
function operandsOf(a: View, b: View, { M, N, sam, sak, sbk, sbn }: MatmulLayout) {
  return {
    a: (offset: number, at: number): Operand => {
      return { X: a.buffer, base: a.offset + offset, sRow: sam, sK: sak, M, rows: MR, at };
    },
    b: (offset: number, at: number): Operand => {
      return { X: b.buffer, base: b.offset + offset, sRow: sbn, sK: sbk, M: N, rows: NR, at };
    },
  };
}

/**
 * The SIMD matmul, bound to one memory: the arena's when there is one (its packing scratch is an
 * arena block for the duration of a call), else a private memory grown to the largest call.
 */
export class WasmGemm {
  private readonly memory: WebAssembly.Memory;
  private readonly module: WebAssembly.Module;
  private readonly gemm: GemmFunction;
  private readonly packTransposed: PackFunction;
  private readonly packPanels: PackPanelsFunction;
  private readonly packGemm: (...args: PackGemmArgs) => void;
  private readonly packPartial: PackPartialFunction;
  private readonly copyRows: RowsFunction;
  private readonly gemmBatch: GemmBatchFunction;
  /** Started at the first product big enough to share; null when there are no other threads. */
  private pool: WorkerPool | null | undefined;
  /** Whether the kernel multiplies and adds with relaxed SIMD's fused multiply-add. */
  readonly fused: boolean;

  /**
   * `threads`: how many threads share a big product (worker threads need the shared arena).
   * `multiplyAdd` false keeps the separate multiply and add where relaxed SIMD is there (the
   * bench times the two kernels against each other in one process).
   */
  constructor(
    private readonly arena: Arena | null,
    private readonly threads = 1,
    multiplyAdd = true,
  ) {
    this.memory = arena?.memory ?? new WebAssembly.Memory({ initial: 1 });
    // Relaxed SIMD where the runtime validates it (browsers; Node 20 behind a V8 flag).
    const fusedBytes = gemmModuleBytes(arena !== null, true);
    this.fused = multiplyAdd && WebAssembly.validate(fusedBytes);
    this.module = new WebAssembly.Module(this.fused ? fusedBytes : gemmModuleBytes(arena !== null));
    const instance = new WebAssembly.Instance(this.module, { env: { memory: this.memory } });
    this.gemm = instance.exports['gemm'] as GemmFunction;
    this.packTransposed = instance.exports['packTransposed'] as PackFunction;
    this.packPanels = instance.exports['packPanels'] as PackPanelsFunction;
    this.packGemm = instance.exports['packGemm'] as (...args: PackGemmArgs) => void;
    this.packPartial = instance.exports['packPartial'] as PackPartialFunction;
    this.copyRows = instance.exports['copyRows'] as RowsFunction;
    this.gemmBatch = instance.exports['gemmBatch'] as GemmBatchFunction;
  }

  /**
   * Packs operands into panels as packPanels does: the whole panels of a float32 matrix in the
   * arena whose panel rows are adjacent (stride 1) or contiguous along k with the SIMD packers,
   * in chunks shared with the ready workers (packing on this thread alone took 2.6 of a
   * convolution's 10 ms); the rest here (packCall).
   */
  private packAll(operands: readonly Operand[], K: number, heap: Float32Array): void {
    this.packShared(operands.flatMap((operand) => this.packCall(operand, K, heap) ?? []));
  }

  /** packPanels calls shared with the ready workers, in about four chunks a thread. */
  private packShared(calls: readonly PackCall[]): void {
    const here = (args: readonly number[]): void => this.packPanels(...(args as PackPanelsArgs));
    const ready = this.pool?.ready ?? 0;
    if (ready === 0 || !this.pool) {
      for (const call of calls) this.packHere(call);
      return;
    }
    // About four chunks a thread in all: big operands are cut, a batch's many small ones are not.
    const pieces = Math.ceil((4 * (ready + 1)) / calls.length);
    const chunks = calls.flatMap(({ panels, args }) =>
      cutInto(panels, Math.min(pieces, panels)).map(([from, to]) => args(from, to)),
    );
    const id = this.pool.kernelId(this.module, 'packPanels');
    for (let i = 0; i < chunks.length; i += MAX_CHUNKS)
      this.pool.run(id, chunks.slice(i, i + MAX_CHUNKS), here);
  }

  /**
   * Packs what of `operand` the SIMD packers cannot here (its last, partial panel, and other
   * layouts, element by element; an operand outside the arena, or K = 0, in plain TS), and
   * returns the packPanels call for the rest, or null if there is none.
   */
  private packCall(
    { X, base, sRow, sK, M, rows, at }: Operand,
    K: number,
    heap: Float32Array,
  ): PackCall | null {
    const simd = this.floatsInArena(X) && K > 0;
    const full = simd && (sRow === 1 || sK === 1) ? Math.floor(M / rows) : 0;
    if (!simd) {
      packPanels(X, base, sRow, sK, M, K, rows, heap, at);
      return null;
    }
    for (let panel = full; panel * rows < M; panel++) {
      const [from, to] = [base + panel * rows * sRow, at + panel * K * rows];
      const real = Math.min(rows, M - panel * rows);
      this.packPartial(X.byteOffset + 4 * from, 4 * sRow, 4 * sK, K, 4 * to, rows, real);
    }
    if (full === 0) return null;
    const [src, rowBytes] = [X.byteOffset + 4 * base, 4 * sRow];
    const [stride, transposed] = [4 * (sRow === 1 ? sK : sRow), sRow === 1 ? 0 : 1];
    return {
      panels: full,
      args: (from, to) => [
        ...[src + from * rows * rowBytes, rowBytes, stride, K],
        ...[4 * (at + from * K * rows), rows, to - from, transposed],
      ],
    };
  }

  /**
   * Floats to copy a float32 operand outside the arena (a small one: the JS heap's) into it before
   * packing — its span, from its offset — or 0 where it is not copied. One TypedArray.set and the
   * WebAssembly packers: W2's [64, 128]·[128, 10] took 12.0 µs with its 10 × 128 weight packed
   * element by element in TS, 9.4 copied first.
   */
  private stagedFloats(x: View, rows: number, sRow: number, sK: number, K: number): number {
    if (!this.arena || !(x.buffer instanceof Float32Array) || this.floatsInArena(x.buffer))
      return 0;
    if (sRow < 0 || sK < 0 || rows === 0 || K === 0) return 0;
    const span = (rows - 1) * sRow + (K - 1) * sK + 1;
    return span <= STAGED_MAX && span <= 2 * rows * K ? span : 0;
  }

  /** `operand`, copied to float `at` of the arena first when `floats` says so (stagedFloats). */
  private stage(operand: Operand, floats: number, heap: Float32Array, at: number): Operand {
    if (floats === 0) return operand;
    heap.set(operand.X.subarray(operand.base, operand.base + floats), at);
    return { ...operand, X: heap, base: at };
  }

  /** Makes a packPanels call (all its panels) on this thread; null: nothing to pack. */
  private packHere(call: PackCall | null | undefined): void {
    if (call) this.packPanels(...(call.args(0, call.panels) as PackPanelsArgs));
  }

  /** Worker threads ready to share products (0 until the first big product starts them). */
  get workersReady(): number {
    return this.pool?.ready ?? 0;
  }

  /**
   * gemm of A (its address and byte strides, as the kernel takes them) by packed B at `b`
   * into C, after the packing calls `aPack` and `bPack` (null: read in place, or packed already).
   * Shared between this thread and the ready workers in chunks of whole panels when the product
   * is worth it (≥ ~100 µs: dispatch costs microseconds); then each chunk packs the panels of the
   * split operand it multiplies.
   */
  private run(
    [a, aRow, aK, aPanel]: AStrides,
    b: number,
    [aPack, bPack]: readonly (PackCall | null)[],
    c: number,
    mPanels: number,
    nPanels: number,
    K: number,
  ): void {
    const ldc = nPanels * NR * 4;
    const work = mPanels * nPanels * K * MR * NR;
    const args = (m0: number, m1: number, n0: number, n1: number): number[] => [
      ...[a + m0 * aPanel, aRow, aK, aPanel, b + n0 * NR * K * 4],
      ...[c + m0 * MR * ldc + n0 * NR * 4, m1 - m0, n1 - n0, K, ldc],
    ];
    if (work >= PARALLEL_WORK && mayShare(this.threads) && this.arena) {
      this.pool ??= WorkerPool.forMemory(this.memory, this.threads - 1);
      // Each thread streams its share of the larger operand and all of the smaller one, so the
      // split runs along the larger: W2's x·Wᵀ (16 panels of A, 400 KB of packed B) split by A
      // panels had both threads read all of B, and ran 1.2× one.
      const byColumns = nPanels * NR > mPanels * MR;
      const [split, other] = byColumns ? [bPack, aPack] : [aPack, bPack];
      if (this.pool?.ready) {
        // The operand every chunk reads whole, packed first: by all threads when it is large
        // (W1's 4 MB B took 1 ms of a 25 ms product on one thread).
        if (other && other.panels * K * (byColumns ? MR : NR) >= SHARED_PACK)
          this.packShared([other]);
        else this.packHere(other);
        const panels = (x: number): number => Math.min(x, split?.panels ?? 0);
        const chunk = (from: number, to: number): number[] => [
          ...(split ? split.args(panels(from), panels(to)) : []),
          ...(byColumns ? args(0, mPanels, from, to) : args(from, to, 0, nPanels)),
        ];
        const [kernel, here] = split
          ? ['packGemm', (x: readonly number[]) => this.packGemm(...(x as PackGemmArgs))]
          : ['gemm', (x: readonly number[]) => this.gemm(...(x as GemmArgs))];
        const units = byColumns ? nPanels : mPanels;
        if (this.pool.share(this.module, kernel, { units, perThread: 4 }, chunk, here)) return;
      }
    }
    this.packHere(aPack);
    this.packHere(bPack);
    this.gemm(...(args(0, mPanels, 0, nPanels) as GemmArgs));
  }

  /** Scratch of `bytes` bytes: its address and how to give it back, or null if there is no room. */
  private scratch(bytes: number): [number, () => void] | null {
    if (this.arena) {
      const address = this.arena.alloc(bytes, true);
      return address === null ? null : [address, () => this.arena!.release(address, bytes)];
    }
    const missing = bytes - this.memory.buffer.byteLength;
    try {
      if (missing > 0) this.memory.grow(Math.ceil(missing / 65536));
    } catch {
      return null; // past WebAssembly's 4 GiB, or refused by the system
    }
    return [0, () => {}];
  }

  /**
   * out = x for a float32 matrix x that is the transpose of a dense one (strides [1, rows]), both
   * in the arena: four columns at a time through the packing transposer. Returns false for
   * anything else. (Weight gradients arrive like this: the gradient of Wᵀ, transposed back.)
   */
  transposeInto(out: View, x: View): boolean {
    if (x.shape.length !== 2 || out.dtype !== 'float32' || x.dtype !== 'float32') return false;
    const [R, C] = x.shape as [number, number];
    if (x.strides[0] !== 1 || x.strides[1] !== R || R < 4 || C < 4) return false;
    if (out.shape[0] !== R || out.shape[1] !== C || out.strides[0] !== C || out.strides[1] !== 1)
      return false;
    if (!this.arena?.owns(out.buffer) || !this.arena.owns(x.buffer)) return false;
    const [src, dst] = [x.buffer.byteOffset + 4 * x.offset, out.buffer.byteOffset + 4 * out.offset];
    const strips = Math.floor(C / 4);
    for (let s = 0; s < strips; s++)
      this.packTransposed(src + 16 * s * R, 4 * R, R, dst + 16 * s, 4 * C);
    const [X, O] = [x.buffer, out.buffer];
    for (let c = 4 * strips; c < C; c++) {
      for (let r = 0; r < R; r++) O[out.offset + r * C + c] = X[x.offset + c * R + r]!;
    }
    return true;
  }

  /**
   * The byte strides [row, k, panel] with which the kernel reads A where it is, or null where A
   * must be packed: whole panels of a float32 matrix in the arena whose rows run along k (read as
   * four row streams), or whose panel rows are adjacent, K rows within IN_PLACE_SPAN (an Aᵀ: a
   * small batch's gradient in a weight gradient).
   */
  private aInPlace(a: View, { M, K, sam, sak }: MatmulLayout): [number, number, number] | null {
    if (M % MR !== 0 || !this.floatsInArena(a.buffer)) return null;
    if (sak === 1) return [4 * sam, 4, 4 * MR * sam];
    if (sam === 1 && 4 * K * sak <= IN_PLACE_SPAN) return [4, 4 * sak, 4 * MR];
    return null;
  }

  /** Whether the kernels can read `X` where it is: float32, in the arena. */
  private floatsInArena(X: TypedArray): X is Float32Array {
    return X instanceof Float32Array && (this.arena?.owns(X) ?? false);
  }

  /**
   * C[..., M, N] = A[..., M, K] · B[..., K, N] (float32, broadcast batch dimensions). Returns false,
   * having done nothing, when WebAssembly memory has no room for the packed panels: the caller
   * then runs the plain-TS kernel, which gives the same floats.
   */
  matmul(out: View, [a, b]: readonly View[]): boolean {
    const layout = matmulLayout(out, a!, b!);
    const { M, N, K, aBatch, bBatch } = layout;
    if (M === 0 || N === 0) return true;
    const [mPanels, nPanels] = [Math.ceil(M / MR), Math.ceil(N / NR)];
    if (this.shareBatch(out, a!, b!, layout, mPanels, nPanels)) return true;
    const aInPlace = this.aInPlace(a!, layout);
    const aFloats = aInPlace ? 0 : mPanels * MR * K;
    const bFloats = nPanels * NR * K;
    const ldc = nPanels * NR;
    const C = out.buffer;
    // Whole tiles in a (fresh, dense) output in the arena: the kernel writes C in place.
    const direct = (this.arena?.owns(C) ?? false) && M % MR === 0 && N % NR === 0;
    const single = aBatch.length === 1;
    const aStage = aInPlace || !single ? 0 : this.stagedFloats(a!, M, layout.sam, layout.sak, K);
    const bStage = single ? this.stagedFloats(b!, N, layout.sbn, layout.sbk, K) : 0;
    const cFloats = direct ? 0 : mPanels * MR * ldc;
    const scratch = this.scratch(4 * (aFloats + bFloats + cFloats + aStage + bStage));
    if (!scratch) return false;
    const [base, done] = scratch;
    const heap = new Float32Array(this.memory.buffer);
    const aAt = base / 4;
    const [bAt, cAt] = [aAt + aFloats, aAt + aFloats + bFloats];
    const [aStageAt, bStageAt] = [cAt + cFloats, cAt + cFloats + aStage];
    const operand = operandsOf(a!, b!, layout);
    const address = (x: View, offset: number): number =>
      x.buffer.byteOffset + 4 * (x.offset + offset);
    for (let batch = 0; batch < aBatch.length; batch++) {
      // A broadcast operand (a convolution's weights against each sample) is packed once.
      const packs = [
        !aInPlace && (batch === 0 || aBatch[batch] !== aBatch[batch - 1])
          ? this.packCall(
              this.stage(operand.a(aBatch[batch]!, aAt), aStage, heap, aStageAt),
              K,
              heap,
            )
          : null,
        batch === 0 || bBatch[batch] !== bBatch[batch - 1]
          ? this.packCall(
              this.stage(operand.b(bBatch[batch]!, bAt), bStage, heap, bStageAt),
              K,
              heap,
            )
          : null,
      ];
      const aArgs: AStrides = aInPlace
        ? [address(a!, aBatch[batch]!), ...aInPlace]
        : [4 * aAt, 4, 4 * MR, 4 * MR * K];
      const at = out.offset + batch * M * N;
      if (direct) {
        this.run(aArgs, 4 * bAt, packs, C.byteOffset + 4 * at, mPanels, nPanels, K);
        continue;
      }
      this.run(aArgs, 4 * bAt, packs, 4 * cAt, mPanels, nPanels, K);
      this.copyOut(heap, cAt, ldc, C, at, M, N);
    }
    done();
    return true;
  }

  /** M rows of N from the padded product at float `from` (row length `ldc`) to C at `at`. */
  private copyOut(
    heap: Float32Array,
    from: number,
    ldc: number,
    C: TypedArray,
    at: number,
    M: number,
    N: number,
  ): void {
    if (this.arena?.owns(C)) {
      this.copyRows(4 * from, 4 * ldc, C.byteOffset + 4 * at, 4 * N, 4 * N, M);
      return;
    }
    // Short rows element by element: a subarray costs more than copying a few floats (W2's
    // [64, 10] logits: 6.0 µs by subarrays, 1.8 by elements; [10, 128]: 1.3 and 2.1).
    for (let i = 0; i < M; i++) {
      const [row, to] = [from + i * ldc, at + i * N];
      if (N >= SHORT_ROW) C.set(heap.subarray(row, row + N), to);
      else for (let j = 0; j < N; j++) C[to + j] = heap[row + j]!;
    }
  }

  /**
   * A batch of products each too small to share (a convolution's per-sample products) but worth
   * sharing together: every operand is packed first, then one job runs gemmBatch over ranges of
   * the batch. Returns false, having done nothing, where that does not apply (one thread, a big
   * or lone product) or the arena has no room for the whole batch's panels.
   */
  private shareBatch(
    out: View,
    a: View,
    b: View,
    layout: MatmulLayout,
    mPanels: number,
    nPanels: number,
  ): boolean {
    const { M, N, K, aBatch, bBatch } = layout;
    const count = aBatch.length;
    const work = mPanels * nPanels * K * MR * NR;
    if (count < 2 || work >= PARALLEL_WORK || work * count < PARALLEL_WORK) return false;
    if (!mayShare(this.threads) || !this.arena) return false;
    this.pool ??= WorkerPool.forMemory(this.memory, this.threads - 1);
    if (!this.pool) return false;
    // A broadcast operand (the weights against every sample) is packed once, read with stride 0.
    const once = (offsets: Int32Array): boolean => offsets.every((o) => o === offsets[0]);
    const [aCount, bCount] = [once(aBatch) ? 1 : count, once(bBatch) ? 1 : count];
    const [aFloats, bFloats, ldc] = [mPanels * MR * K, nPanels * NR * K, nPanels * NR];
    const C = out.buffer;
    const direct = this.arena.owns(C) && M % MR === 0 && N % NR === 0;
    const cFloats = direct ? 0 : mPanels * MR * ldc;
    const scratch = this.scratch(4 * (aCount * aFloats + bCount * bFloats + count * cFloats));
    if (!scratch) return false;
    const [base, done] = scratch;
    const heap = new Float32Array(this.memory.buffer);
    const aAt = base / 4;
    const bAt = aAt + aCount * aFloats;
    const cAt = bAt + bCount * bFloats;
    const operand = operandsOf(a, b, layout);
    const operands = [
      ...Array.from({ length: aCount }, (_, i) => operand.a(aBatch[i]!, aAt + i * aFloats)),
      ...Array.from({ length: bCount }, (_, i) => operand.b(bBatch[i]!, bAt + i * bFloats)),
    ];
    this.packAll(operands, K, heap);
    const aStride = aCount > 1 ? 4 * aFloats : 0;
    const bStride = bCount > 1 ? 4 * bFloats : 0;
    const [c, cStride] = direct
      ? [C.byteOffset + 4 * out.offset, 4 * M * N]
      : [4 * cAt, 4 * cFloats];
    const args = (from: number, to: number): number[] => [
      ...[4 * aAt + from * aStride, aStride, 4 * bAt + from * bStride, bStride],
      ...[c + from * cStride, cStride, to - from, mPanels, nPanels, K, 4 * ldc],
    ];
    const here = (chunk: readonly number[]): void =>
      this.gemmBatch(...(chunk as Parameters<GemmBatchFunction>));
    const split = { units: count, perThread: 4 };
    if (!this.pool.share(this.module, 'gemmBatch', split, args, here)) here(args(0, count));
    if (!direct)
      for (let i = 0; i < count; i++)
        this.copyOut(heap, cAt + i * cFloats, ldc, C, out.offset + i * M * N, M, N);
    done();
    return true;
  }
}
