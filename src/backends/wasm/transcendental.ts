/**
 * exp, log, sigmoid and tanh on f32x4 lanes, for the SIMD elementwise kernels. WebAssembly has no
 * such instructions, and the plain-TS kernels call Math.exp, Math.log and Math.tanh one element at
 * a time (13–26 ns each). Each emitter here replaces the f32x4 on top of the stack by the function
 * of its lanes, in float32 arithmetic, within 2 ulp of the plain-TS result (Math.fround of the
 * float64 function) over the whole float range, NaN and ±Infinity included (tested on every 257th
 * float).
 */
import { ValType, type FunctionBuilder, type Local } from './emitter.js';

const LOG2E = 1.4426950408889634;
/** ln 2 in two parts: the high one has 16 significant bits, so n·LN2_HI is exact for |n| ≤ 2⁸. */
const LN2_HI = 0.693145751953125;
const LN2_LO = Math.LN2 - LN2_HI;
/** Taylor coefficients 1/k! of eʳ, k = 7 down to 0: on |r| ≤ ln2 / 2 the remainder is < 1e-8. */
const EXP_TERMS = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];
/**
 * Below |x| = 0.5, tanh is its odd Taylor series (terms to x¹⁷, remainder < 1e-8 relative): the
 * exp-based form loses digits to the cancellation in 1 − e^(−2|x|) there.
 */
const TANH_SERIES_BELOW = 0.5;
/** Coefficients of x³, x⁵, …, x¹⁷ divided by x: highest first. */
const TANH_TERMS = [
  6404582 / 10854718875,
  -929569 / 638512875,
  21844 / 6081075,
  -1382 / 155925,
  62 / 2835,
  -17 / 315,
  2 / 15,
  -1 / 3,
];
const SIGN_BIT = -0x80000000;

/** p(v) by Horner's rule for the local v, coefficients highest first; leaves p on the stack. */
function horner(f: FunctionBuilder, v: Local, terms: readonly number[]): void {
  f.f32x4Const(terms[0]!);
  for (const c of terms.slice(1)) f.get(v).f32Arith('mul', 4).f32x4Const(c).f32Arith('add', 4);
}

/**
 * eˣ: x = n·ln2 + r with n = round(x / ln2) and |r| ≤ ln2 / 2, eʳ by its Taylor polynomial, then
 * scaled by 2ⁿ in two exact steps of 2^⌊n/2⌋ and 2^⌈n/2⌉, so that results that overflow, or fall
 * among the subnormal numbers, round once, as the reference does. x is first clamped to
 * [−104, 89], past which the result is 0 or Infinity anyway (NaN stays NaN).
 */
export function f32x4Exp(f: FunctionBuilder): void {
  const [x, n, r, k] = f.localTuple(ValType.v128, 4);
  f.f32x4Const(89).f32Arith('min', 4).f32x4Const(-104).f32Arith('max', 4).set(x);
  f.get(x).f32x4Const(LOG2E).f32Arith('mul', 4).f32x4Nearest().set(n);
  f.get(x).get(n).f32x4Const(LN2_HI).f32Arith('mul', 4).f32Arith('sub', 4);
  f.get(n).f32x4Const(LN2_LO).f32Arith('mul', 4).f32Arith('sub', 4).set(r);
  horner(f, r, EXP_TERMS);
  // 2^m as float bits: (m + 127) << 23, for m = ⌊n/2⌋ and then n − ⌊n/2⌋.
  f.get(n).i32x4TruncSatF32x4S().set(k);
  f.get(k).i32(1).i32x4ShrS();
  f.i32x4Const([127, 127, 127, 127]).i32x4Add().i32(23).i32x4Shl().f32Arith('mul', 4);
  f.get(k).get(k).i32(1).i32x4ShrS().i32x4Sub();
  f.i32x4Const([127, 127, 127, 127]).i32x4Add().i32(23).i32x4Shl().f32Arith('mul', 4);
}

/** 1 / (1 + e^(−x)), as e/(1 + e) with e = e^(−|x|) for x < 0, so that it never overflows. */
export function f32x4Sigmoid(f: FunctionBuilder): void {
  const [x, e] = [f.local(ValType.v128), f.local(ValType.v128)];
  f.tee(x).f32Arith('abs', 4).f32Arith('neg', 4);
  f32x4Exp(f);
  f.set(e);
  f.f32x4Const(1).get(e).get(x).v128Zero().f32x4CompareMask('ge').v128Bitselect();
  f.f32x4Const(1).get(e).f32Arith('add', 4).f32Arith('div', 4);
}

/** tanh: its series below |x| = 0.5; above, (1 − e)/(1 + e) with e = e^(−2|x|); x's sign. */
export function f32x4Tanh(f: FunctionBuilder): void {
  const [x, e, large, z] = f.localTuple(ValType.v128, 4);
  f.tee(x).f32Arith('abs', 4).f32x4Const(-2).f32Arith('mul', 4);
  f32x4Exp(f);
  f.set(e);
  f.f32x4Const(1).get(e).f32Arith('sub', 4).f32x4Const(1).get(e).f32Arith('add', 4);
  f.f32Arith('div', 4).set(large);
  f.get(x).get(x).f32Arith('mul', 4).set(z);
  f.get(x).get(x).get(z).f32Arith('mul', 4);
  horner(f, z, TANH_TERMS);
  f.f32Arith('mul', 4).f32Arith('add', 4); // x + x·z·p(z)
  f.get(large);
  f.get(x).f32Arith('abs', 4).f32x4Const(TANH_SERIES_BELOW).f32x4CompareMask('lt');
  f.v128Bitselect().set(large);
  // tanh is odd: x's sign bit on the magnitude (also tanh(−0) = −0, which the series loses).
  f.get(x).get(large).i32x4Const([SIGN_BIT, SIGN_BIT, SIGN_BIT, SIGN_BIT]).v128Bitselect();
}

/** Bits of a float just under √½: log splits x as 2ᵏ·m with m in [√½, √2) around it. */
const SQRT_HALF_BITS = 0x3f3504f3;
/** 2/3, 2/5, …, 2/11 (highest first): log(1 + f) = f − s·(f − z·R(z)), s = f/(2 + f), z = s². */
const LOG_TERMS = [2 / 11, 2 / 9, 2 / 7, 2 / 5, 2 / 3];
const MIN_NORMAL = 2 ** -126;

/**
 * Natural log: x = 2ᵏ·m (subnormal x scaled by 2²³ first), log m from f = m − 1, which is exact,
 * and the odd series of s = f/(2 + f); then k·ln2 in two parts. NaN and +Infinity give themselves,
 * x < 0 NaN, ±0 −Infinity.
 */
export function f32x4Log(f: FunctionBuilder): void {
  const [x, tiny, bits, k, fm, s, z] = f.localTuple(ValType.v128, 7);
  const splat = (v: number): [number, number, number, number] => [v, v, v, v];
  f.tee(x).f32x4Const(MIN_NORMAL).f32x4CompareMask('lt').set(tiny);
  f.get(x)
    .f32x4Const(2 ** 23)
    .f32Arith('mul', 4)
    .get(x)
    .get(tiny)
    .v128Bitselect()
    .set(bits);
  // k = (bits − bits(√½)) >> 23, less 23 where scaled; m = bits − (k << 23).
  f.get(bits).i32x4Const(splat(SQRT_HALF_BITS)).i32x4Sub().i32(23).i32x4ShrS().set(k);
  f.get(bits).get(k).i32(23).i32x4Shl().i32x4Sub().f32x4Const(1).f32Arith('sub', 4).set(fm);
  f.get(k).i32x4Const(splat(-23)).get(tiny).v128And().i32x4Add().f32x4ConvertI32x4S().set(k);
  f.get(fm).f32x4Const(2).get(fm).f32Arith('add', 4).f32Arith('div', 4).set(s);
  f.get(s).get(s).f32Arith('mul', 4).set(z);
  // log m = f − s·(f − z·R(z))
  f.get(fm).get(s).get(fm);
  horner(f, z, LOG_TERMS);
  f.get(z).f32Arith('mul', 4).f32Arith('sub', 4).f32Arith('mul', 4).f32Arith('sub', 4);
  // k·ln2_lo + log m, then + k·ln2_hi (exact)
  f.get(k).f32x4Const(LN2_LO).f32Arith('mul', 4).f32Arith('add', 4);
  f.get(k).f32x4Const(LN2_HI).f32Arith('mul', 4).f32Arith('add', 4);
  // NaN and +Infinity give themselves; x < 0 NaN; ±0 −Infinity.
  f.set(s).get(x).get(s);
  f.get(x).get(x).f32x4CompareMask('ne').get(x).f32x4Const(Infinity).f32x4CompareMask('eq');
  f.v128Or().v128Bitselect();
  f.set(s).f32x4Const(NaN).get(s).get(x).v128Zero().f32x4CompareMask('lt').v128Bitselect();
  f.set(s).f32x4Const(-Infinity).get(s).get(x).v128Zero().f32x4CompareMask('eq').v128Bitselect();
}
