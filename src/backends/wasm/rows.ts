/**
 * Strided blocks of rows in WebAssembly memory: copied (the GEMM's output tiles, im2col's windows,
 * arena-to-arena copies), added into place (col2im), or zeroed (outputs that kernels add into).
 * Convolution windows move as short rows — 11 to 26 floats in W7 — so one call handles a window's
 * rows and the per-element work is SIMD.
 */
import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView } from '../primitives.js';
import { buildModule, FunctionBuilder, ValType } from './emitter.js';
import type { Arena } from './arena.js';

/** fn(src, srcStride, dst, dstStride, rowBytes, rows): byte addresses and strides. */
export type RowsFunction = (
  src: number,
  srcStride: number,
  dst: number,
  dstStride: number,
  rowBytes: number,
  rows: number,
) => void;

/** copyRows: each row copied with memory.copy. */
export function copyRowsFunction(): FunctionBuilder {
  const f = new FunctionBuilder('copyRows', Array<ValType>(6).fill(ValType.i32));
  const [src, srcStride, dst, dstStride, rowBytes, rows] = f.paramTuple(6);
  f.countDown(rows, () => {
    f.get(dst).get(src).get(rowBytes).memoryCopy();
    f.incrementBy(src, srcStride).incrementBy(dst, dstStride);
  });
  return f;
}

/** addRows: dst row += src row (float32), four lanes at a time, then the last rowBytes mod 16. */
function addRowsFunction(): FunctionBuilder {
  const f = new FunctionBuilder('addRows', Array<ValType>(6).fill(ValType.i32));
  const [src, srcStride, dst, dstStride, rowBytes, rows] = f.paramTuple(6);
  const [p, q, n] = [f.local(ValType.i32), f.local(ValType.i32), f.local(ValType.i32)];
  f.countDown(rows, () => {
    f.get(src).set(p).get(dst).set(q);
    f.get(rowBytes).i32(4).shrU().set(n);
    f.countDown(n, () => {
      f.get(q).get(q).v128Load().get(p).v128Load().f32Arith('add', 4).v128Store();
      f.increment(p, 16).increment(q, 16);
    });
    f.get(rowBytes).i32(2).shrU().i32(3).and().set(n);
    f.countDown(n, () => {
      f.get(q).get(q).f32Load().get(p).f32Load().f32Arith('add', 1).f32Store();
      f.increment(p, 4).increment(q, 4);
    });
    f.incrementBy(src, srcStride).incrementBy(dst, dstStride);
  });
  return f;
}

/**
 * A convolution's windows between planes and their columns: windows(win, winPlane, planes, table,
 * taps, winRow, cols, rowBytes, rows, pad), byte addresses and strides. The columns hold, plane
 * after plane, one block of `rows` rows of rowBytes per tap; the table holds per tap five i32s:
 * the byte offset in the plane of the first element inside it, where that element goes in the
 * tap's block, the bytes and the number of the rows inside, and 1 where the whole block is inside.
 * `toColumns` copies those rows of each plane (winRow apart) into the blocks, filling the rest of
 * a block with the float32 whose bits are `pad` (im2col); otherwise the blocks' rows are added
 * into the planes (col2im), in the order of a call of addRows per tap. One call for a batch: a
 * call per tap from JS cost W7 ~2.5 ms a step.
 */
function windowsFunction(toColumns: boolean): FunctionBuilder {
  const name = toColumns ? 'im2colRows' : 'col2imRows';
  const f = new FunctionBuilder(name, Array<ValType>(10).fill(ValType.i32));
  const [win, winPlane, planes, table, taps, winRow, cols, rowBytes, rows, pad] = f.paramTuple(10);
  const [tap, entry, tapBytes, n, at] = f.localTuple(ValType.i32, 5);
  const padding = f.local(ValType.v128);
  const field = (k: number): void => void f.get(entry).i32Load(4 * k);
  f.get(rowBytes).get(rows).mul().set(tapBytes);
  f.get(pad).i32x4Splat().set(padding);
  f.countDown(planes, () => {
    f.get(table).set(entry);
    f.get(taps).set(tap);
    f.countDown(tap, () => {
      if (toColumns) {
        // A block not wholly inside: padding first, 16 bytes at a time, then the last floats.
        field(4);
        f.eqz().ifThen(() => {
          f.get(cols).set(at);
          f.get(tapBytes).i32(4).shrU().set(n);
          f.countDown(n, () => void f.get(at).get(padding).v128Store().increment(at, 16));
          f.get(tapBytes).i32(2).shrU().i32(3).and().set(n);
          f.countDown(n, () => void f.get(at).get(pad).i32Store().increment(at, 4));
        });
        f.get(win);
        field(0);
        f.add().get(winRow).get(cols);
        field(1);
        f.add().get(rowBytes);
      } else {
        f.get(cols);
        field(1);
        f.add().get(rowBytes).get(win);
        field(0);
        f.add().get(winRow);
      }
      field(2);
      field(3);
      f.call(toColumns ? COPY_ROWS_INDEX : ADD_ROWS_INDEX);
      f.incrementBy(cols, tapBytes).increment(entry, 20);
    });
    f.incrementBy(win, winPlane);
  });
  return f;
}
/** Places of copyRows and addRows in the module (for the calls of windowsFunction). */
const [COPY_ROWS_INDEX, ADD_ROWS_INDEX] = [0, 1];

/** windows(...): see windowsFunction. */
export type WindowsFunction = (
  win: number,
  winPlane: number,
  planes: number,
  table: number,
  taps: number,
  winRow: number,
  cols: number,
  rowBytes: number,
  rows: number,
  pad: number,
) => void;

/** zero(dst, bytes): memory.fill with zero bytes. */
function zeroFunction(): FunctionBuilder {
  const f = new FunctionBuilder('zero', [ValType.i32, ValType.i32]);
  const [dst, bytes] = f.paramTuple(2);
  f.get(dst).i32(0).get(bytes).memoryFill();
  return f;
}

/** The row kernels bound to the arena's memory. */
export class WasmRows {
  readonly copy: RowsFunction;
  readonly add: RowsFunction;
  readonly zero: (dst: number, bytes: number) => void;
  private readonly windowFunctions: Record<'im2col' | 'col2im', WindowsFunction>;
  constructor(readonly arena: Arena) {
    const functions = [copyRowsFunction(), addRowsFunction(), zeroFunction()];
    const windows = [windowsFunction(true), windowsFunction(false)];
    const module = new WebAssembly.Module(buildModule([...functions, ...windows], true));
    const exports = new WebAssembly.Instance(module, { env: { memory: arena.memory } }).exports;
    this.copy = exports['copyRows'] as RowsFunction;
    this.add = exports['addRows'] as RowsFunction;
    this.zero = exports['zero'] as (dst: number, bytes: number) => void;
    this.windowFunctions = {
      im2col: exports['im2colRows'] as WindowsFunction,
      col2im: exports['col2imRows'] as WindowsFunction,
    };
  }

  /**
   * Runs windowsFunction's im2col or col2im over `planes` planes, with the taps' table entries
   * (five numbers each) written to the arena for the call; false, having done nothing, where the
   * arena has no room for them. `pad`: im2col's fill value.
   */
  windows(
    kind: 'im2col' | 'col2im',
    [win, winPlane, planes]: readonly number[],
    entries: readonly (readonly number[])[],
    [winRow, cols, rowBytes, rows]: readonly number[],
    pad = 0,
  ): boolean {
    const bytes = 20 * entries.length;
    const table = this.arena.alloc(bytes, true);
    if (table === null) return false;
    new Int32Array(this.arena.buffer, table, 5 * entries.length).set(entries.flat());
    const bits = new Int32Array(Float32Array.of(pad).buffer)[0]!;
    const run = this.windowFunctions[kind];
    run(win!, winPlane!, planes!, table, entries.length, winRow!, cols!, rowBytes!, rows!, bits);
    this.arena.release(table, bytes);
    return true;
  }
}

/**
 * Sets elements [from, to) of `array` to zero: with memory.fill where it is in the arena, since
 * TypedArray.fill on the shared memory runs 10× slower (200 KB: 13–16 µs against 1.3 on the heap).
 */
export function zeroElements(
  rows: WasmRows | null,
  array: TypedArray,
  from: number,
  to: number,
): void {
  if (!rows?.arena.owns(array)) array.fill(0, from, to);
  else {
    const bytes = array.BYTES_PER_ELEMENT;
    rows.zero(array.byteOffset + bytes * from, bytes * (to - from));
  }
}

/** The byte address of a view's first element in the memory its buffer lies in. */
export function byteAddress(v: ArrayView<TypedArray>): number {
  return v.buffer.byteOffset + v.buffer.BYTES_PER_ELEMENT * v.offset;
}

/** The row kernels, where both arrays are float32 in their arena and rows are dense. */
export function rowsFor(
  rows: WasmRows | null,
  a: ArrayView<TypedArray>,
  b: ArrayView<TypedArray>,
  dense: boolean,
): WasmRows | null {
  if (!rows || !dense || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  return rows.arena.owns(a.buffer) && rows.arena.owns(b.buffer) ? rows : null;
}
