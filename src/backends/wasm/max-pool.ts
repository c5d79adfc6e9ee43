/**
 * WindowArgMax for max pooling's most common windows — 2×2, stride 2, no padding or dilation, on
 * dense float32 planes — in WebAssembly SIMD: four windows at a time. Two rows of eight inputs are
 * split into their even and odd columns (one shuffle each), giving the four taps of four windows;
 * each tap replaces the running maximum where it is above it or NaN (unless the maximum already
 * is NaN), as the plain kernel's `!(v <= peak) && peak === peak` does, so the first maximum wins.
 */
import { buildModule, FunctionBuilder, ValType, type Local } from './emitter.js';
import type { Arena } from './arena.js';

/**
 * argmax2x2(src, dst, planes, rows, groups, w, dstRowBytes, srcPlaneBytes, dstPlaneBytes): for
 * every plane and output row, the first `groups`·4 outputs (byte addresses and strides).
 */
type ArgmaxFunction = (
  src: number,
  dst: number,
  planes: number,
  rows: number,
  groups: number,
  w: number,
  dstRowBytes: number,
  srcPlaneBytes: number,
  dstPlaneBytes: number,
) => void;

function argmaxFunction(): FunctionBuilder {
  const f = new FunctionBuilder('argmax2x2', Array<ValType>(9).fill(ValType.i32));
  const [src, dst, planes, rows, groups, w, dstRow, srcPlane, dstPlane] = f.paramTuple(9);
  const i32 = (): Local => f.local(ValType.i32);
  const v128 = (): Local => f.local(ValType.v128);
  const [r, g, q, o, t, rowIndex, rowSrc, rowDst] = [
    i32(),
    i32(),
    i32(),
    i32(),
    i32(),
    i32(),
    i32(),
    i32(),
  ];
  const [peak, index, v, take, base, a0, a1] = [
    v128(),
    v128(),
    v128(),
    v128(),
    v128(),
    v128(),
    v128(),
  ];
  /** The even (`odd` 0) or odd columns of the eight floats at [address on the stack]. */
  const columns = (odd: 0 | 1): void => {
    f.set(t);
    f.get(t).v128Load(0).set(a0);
    f.get(t).v128Load(16).set(a1);
    f.get(a0)
      .get(a1)
      .f32x4Shuffle(odd ? [1, 3, 5, 7] : [0, 2, 4, 6]);
  };
  /** The tap in `v`, at plane offset base + `offset`, takes over where it wins. */
  const challenge = (offset: () => void): void => {
    f.get(v).get(peak).f32x4CompareMask('le').v128Not();
    f.get(peak).get(peak).f32x4CompareMask('eq').v128And().set(take);
    f.get(v).get(peak).get(take).v128Bitselect().set(peak);
    f.get(base);
    offset();
    f.i32x4Add().get(index).get(take).v128Bitselect().set(index);
  };
  /** Pushes the address of the second input row of the group: q + 4·w. */
  const below = (): void => void f.get(q).get(w).i32(4).mul().add();
  f.countDown(planes, () => {
    f.get(src).set(rowSrc).get(dst).set(rowDst);
    f.i32(0).set(rowIndex); // plane index of the row pair's first input
    f.get(rows).set(r);
    f.countDown(r, () => {
      f.get(groups).set(g).get(rowSrc).set(q).get(rowDst).set(o);
      f.get(rowIndex).i32x4Splat().i32x4Const([0, 2, 4, 6]).i32x4Add().set(base);
      f.countDown(g, () => {
        f.get(q);
        columns(0);
        f.set(peak).get(base).set(index);
        f.get(q);
        columns(1);
        f.set(v);
        challenge(() => f.i32(1).i32x4Splat());
        below();
        columns(0);
        f.set(v);
        challenge(() => f.get(w).i32x4Splat());
        below();
        columns(1);
        f.set(v);
        challenge(() => f.get(w).i32(1).add().i32x4Splat());
        f.get(o).get(index).v128Store();
        f.increment(o, 16).increment(q, 32);
        f.get(base).i32(8).i32x4Splat().i32x4Add().set(base);
      });
      f.incrementBy(rowDst, dstRow);
      f.get(rowSrc).get(w).i32(8).mul().add().set(rowSrc); // two input rows down
      f.get(rowIndex).get(w).i32(2).mul().add().set(rowIndex);
    });
    f.incrementBy(src, srcPlane).incrementBy(dst, dstPlane);
  });
  return f;
}

export class WasmMaxPool {
  readonly argmax2x2: ArgmaxFunction;
  constructor(readonly arena: Arena) {
    const module = new WebAssembly.Module(buildModule([argmaxFunction()], true));
    const instance = new WebAssembly.Instance(module, { env: { memory: arena.memory } });
    this.argmax2x2 = instance.exports['argmax2x2'] as ArgmaxFunction;
  }
}
