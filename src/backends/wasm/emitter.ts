/**
 * A small typed builder for WebAssembly binaries: just the instructions nabla's kernels use
 * (integer arithmetic, loops, f32 and v128 loads/stores, f32x4 arithmetic). Kernels are generated
 * at run time from TypeScript, specialised and validated, with no build step or toolchain.
 * Format: https://webassembly.github.io/spec/core/binary/ (SIMD: the fixed-width SIMD proposal).
 */

export const enum ValType {
  i32 = 0x7f,
  f32 = 0x7d,
  v128 = 0x7b,
}

/** Unsigned LEB128. */
function uleb(value: number, out: number[]): void {
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
}

/** Signed LEB128 (32-bit). */
function sleb(value: number, out: number[]): void {
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function bytesOf(text: string): number[] {
  const out: number[] = [];
  const encoded = new TextEncoder().encode(text);
  uleb(encoded.length, out);
  out.push(...encoded);
  return out;
}

export type F32Arith = 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max' | 'abs' | 'neg' | 'sqrt';
const F32_SCALAR: Record<F32Arith, number> = {
  add: 0x92,
  sub: 0x93,
  mul: 0x94,
  div: 0x95,
  min: 0x96,
  max: 0x97,
  abs: 0x8b,
  neg: 0x8c,
  sqrt: 0x91,
};
const F32X4: Record<F32Arith, number> = {
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
  div: 0xe7,
  min: 0xe8,
  max: 0xe9,
  abs: 0xe0,
  neg: 0xe1,
  sqrt: 0xe3,
};

export type F32Compare = 'eq' | 'ne' | 'lt' | 'gt' | 'le' | 'ge';
const F32_COMPARE_SCALAR: Record<F32Compare, number> = {
  eq: 0x5b,
  ne: 0x5c,
  lt: 0x5d,
  gt: 0x5e,
  le: 0x5f,
  ge: 0x60,
};
const F32X4_COMPARE: Record<F32Compare, number> = {
  eq: 0x41,
  ne: 0x42,
  lt: 0x43,
  gt: 0x44,
  le: 0x45,
  ge: 0x46,
};

/** A local variable (parameters come first). */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** N values of type T, as a tuple (so that destructuring them gives defined values). */
type Tuple<T, N extends number, R extends T[] = []> = R['length'] extends N
  ? R
  : Tuple<T, N, [...R, T]>;

/** Builds one function's body, instruction by instruction. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  readonly params: Local[];

  constructor(
    readonly name: string,
    readonly paramTypes: readonly ValType[],
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  local(type: ValType): Local {
    this.locals.push(type);
    return { index: this.paramTypes.length + this.locals.length - 1, type };
  }
  /** `n` new locals of `type`, to destructure. */
  localTuple<N extends number>(type: ValType, n: N): Tuple<Local, N> {
    return Array.from({ length: n }, () => this.local(type)) as Tuple<Local, N>;
  }
  /** The `n` parameters, to destructure; `n` must be their number. */
  paramTuple<N extends number>(n: N): Tuple<Local, N> {
    if (n !== this.params.length)
      throw new Error(`${this.name} has ${this.params.length} parameters, not ${n}`);
    return this.params as Tuple<Local, N>;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(opcode, this.code);
    return this;
  }
  private memarg(alignLog2: number, offset: number): this {
    uleb(alignLog2, this.code);
    uleb(offset, this.code);
    return this;
  }

  get(l: Local): this {
    this.op(0x20);
    uleb(l.index, this.code);
    return this;
  }
  set(l: Local): this {
    this.op(0x21);
    uleb(l.index, this.code);
    return this;
  }
  i32(value: number): this {
    this.op(0x41);
    sleb(value, this.code);
    return this;
  }
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  eqz(): this {
    return this.op(0x45);
  }
  /** Sets a local and leaves the value on the stack. */
  tee(l: Local): this {
    this.op(0x22);
    uleb(l.index, this.code);
    return this;
  }
  shrU(): this {
    return this.op(0x76);
  }
  and(): this {
    return this.op(0x71);
  }
  /** `local += value`. */
  increment(l: Local, value: number): this {
    return this.get(l).i32(value).add().set(l);
  }
  /** Calls the module's function number `index` (its arguments pushed first). */
  call(index: number): this {
    this.op(0x10);
    uleb(index, this.code);
    return this;
  }
  /** `local += other`. */
  incrementBy(l: Local, other: Local): this {
    return this.get(l).get(other).add().set(l);
  }

  /** `while (counter !== 0) { body; counter-- }` (the counter is consumed). */
  countDown(counter: Local, body: () => void): this {
    this.op(0x02, 0x40); // block
    this.op(0x03, 0x40); // loop
    this.get(counter).eqz().op(0x0d, 1); // br_if to the block's end
    body();
    this.increment(counter, -1);
    this.op(0x0c, 0); // br to the loop's start
    this.op(0x0b, 0x0b); // end loop, end block
    return this;
  }

  /** `if (the i32 on the stack) { then }`. */
  ifThen(then: () => void): this {
    this.op(0x04, 0x40);
    then();
    return this.op(0x0b);
  }
  /** Traps (a RuntimeError in JavaScript): for input a kernel refuses, which its caller explains. */
  trap(): this {
    return this.op(0x00);
  }
  /** Unsigned a ≥ b, as an i32 0 or 1. */
  geU(): this {
    return this.op(0x4f);
  }

  /** `if (the i32 on the stack) { then } else { otherwise }`. */
  ifElse(then: () => void, otherwise: () => void): this {
    this.op(0x04, 0x40);
    then();
    this.op(0x05);
    otherwise();
    return this.op(0x0b);
  }

  /** v128 from memory at [address on the stack] + offset. */
  v128Load(offset = 0): this {
    return this.simd(0x00).memarg(4, offset);
  }
  /** Stores the v128 on top of the stack at [address] + offset (address pushed first). */
  v128Store(offset = 0): this {
    return this.simd(0x0b).memarg(4, offset);
  }
  /** One f32 from memory, splatted to all four lanes. */
  load32Splat(offset = 0): this {
    return this.simd(0x09).memarg(2, offset);
  }
  v128Zero(): this {
    this.simd(0x0c);
    this.code.push(...new Array<number>(16).fill(0));
    return this;
  }
  /** memory.copy: copies [bytes] bytes from [source] to [destination] (pushed in that order). */
  memoryCopy(): this {
    return this.op(0xfc, 0x0a, 0x00, 0x00);
  }
  /** memory.fill: sets [bytes] bytes from [destination] to the byte [value] (pushed in that order). */
  memoryFill(): this {
    return this.op(0xfc, 0x0b, 0x00);
  }
  /** f32 from memory at [address] + offset. */
  f32Load(offset = 0): this {
    this.op(0x2a);
    return this.memarg(2, offset);
  }
  /** The i32 at [address on the stack] + offset. */
  i32Load(offset = 0): this {
    this.op(0x28);
    return this.memarg(2, offset);
  }
  /** Stores the f32 on top of the stack at [address] + offset (address pushed first). */
  f32Store(offset = 0): this {
    this.op(0x38);
    return this.memarg(2, offset);
  }
  /**
   * Bytes (bools) at [address] as f32 0/1: four of them widened to an f32x4 (`lanes` 4), or one.
   */
  boolsAsF32(lanes: 1 | 4): this {
    if (lanes === 1) {
      this.op(0x2d).memarg(0, 0); // i32.load8_u
      return this.op(0xb3); // f32.convert_i32_u
    }
    this.simd(0x5c).memarg(2, 0); // v128.load32_zero
    this.simd(0x89); // i16x8.extend_low_i8x16_u
    this.simd(0xa9); // i32x4.extend_low_i16x8_u
    return this.simd(0xfb); // f32x4.convert_i32x4_u
  }
  f32Const(value: number): this {
    this.op(0x43);
    this.code.push(...new Uint8Array(Float32Array.of(value).buffer));
    return this;
  }
  /** Picks four f32 lanes from the two vectors on the stack: 0–3 the first's, 4–7 the second's. */
  f32x4Shuffle(lanes: readonly [number, number, number, number]): this {
    this.simd(0x0d);
    for (const lane of lanes) this.code.push(4 * lane, 4 * lane + 1, 4 * lane + 2, 4 * lane + 3);
    return this;
  }
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  /** The two low f32 lanes as an f64x2 (exactly). */
  f64x2PromoteLowF32x4(): this {
    return this.simd(0x5f);
  }
  /** An f64x2 rounded to two f32 lanes (to nearest, ties to even), the upper two zero. */
  f32x4DemoteF64x2Zero(): this {
    return this.simd(0x5e);
  }
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /**
   * Relaxed SIMD's a·b + c (three f32x4 on the stack), fused or not as the hardware does it: valid
   * only where the runtime has relaxed SIMD (browsers; Node behind a flag).
   */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
  /**
   * One f32 arithmetic instruction, in its scalar form (`lanes` 1) or its f32x4 form (`lanes` 4).
   * Binary: add sub mul div min max; unary: abs neg sqrt.
   */
  f32Arith(name: F32Arith, lanes: 1 | 4): this {
    return lanes === 1 ? this.op(F32_SCALAR[name]) : this.simd(F32X4[name]);
  }

  /**
   * Compares the two f32 values (or f32x4 vectors) on the stack and pushes the result as f32 1 or
   * 0 per lane, as the plain-TS kernels' `+(a > b)` does (NaN compares false, except ne).
   */
  f32Compare(name: F32Compare, lanes: 1 | 4): this {
    if (lanes === 1) return this.op(F32_COMPARE_SCALAR[name], 0xb3); // …, f32.convert_i32_u
    this.simd(F32X4_COMPARE[name]); // all-ones lanes where true
    this.f32Const(1).f32x4Splat();
    return this.simd(0x4e); // v128.and: 1.0 where true, 0.0 elsewhere
  }

  /** Compares two f32x4 vectors: all-ones lanes where true, zero elsewhere. */
  f32x4CompareMask(name: F32Compare): this {
    return this.simd(F32X4_COMPARE[name]);
  }
  v128Not(): this {
    return this.simd(0x4d);
  }
  v128And(): this {
    return this.simd(0x4e);
  }
  /** [a, b, mask] → lanes of a where the mask's bits are set, else b's. */
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  /** v128.const of four equal f32 lanes. */
  f32x4Const(value: number): this {
    this.simd(0x0c);
    this.code.push(...new Uint8Array(Float32Array.of(value, value, value, value).buffer));
    return this;
  }
  /** Rounds each lane to the nearest integer, ties to even. */
  f32x4Nearest(): this {
    return this.simd(0x6a);
  }
  /** f32x4 → i32x4 toward zero, saturating (NaN → 0). */
  i32x4TruncSatF32x4S(): this {
    return this.simd(0xf8);
  }
  /** i32x4 → f32x4, each lane converted as a signed integer. */
  f32x4ConvertI32x4S(): this {
    return this.simd(0xfa);
  }
  v128Or(): this {
    return this.simd(0x50);
  }
  f32x4ExtractLane(lane: number): this {
    this.simd(0x1f);
    this.code.push(lane);
    return this;
  }
  /**
   * f32x4 lanes holding 0 or 1 → those four values as bytes, in the low i32 of the stack (to
   * store with i32Store): truncated to i32 lanes, narrowed to 16 and then 8 bits.
   */
  f32x4AsBytes(scratch: Local): this {
    this.simd(0xf8); // i32x4.trunc_sat_f32x4_s
    this.tee(scratch).get(scratch).simd(0x86); // i16x8.narrow_i32x4_u
    this.tee(scratch).get(scratch).simd(0x66); // i8x16.narrow_i16x8_u
    this.simd(0x1b); // i32x4.extract_lane 0
    this.code.push(0);
    return this;
  }
  /** Stores the i32 on top of the stack at [address] + offset (address pushed first). */
  i32Store(offset = 0): this {
    this.op(0x36);
    return this.memarg(2, offset);
  }
  /** Stores the f32 on top of the stack (0 or 1) as one byte at [address] (address pushed first). */
  f32StoreAsByte(): this {
    this.op(0xa8); // i32.trunc_f32_s
    this.op(0x3a); // i32.store8
    return this.memarg(0, 0);
  }
  /** [i32x4, i32 count] → each lane shifted left. */
  i32x4Shl(): this {
    return this.simd(0xab);
  }
  /** [i32x4, i32 count] → each lane shifted right, keeping its sign. */
  i32x4ShrS(): this {
    return this.simd(0xac);
  }
  i32x4Sub(): this {
    return this.simd(0xb1);
  }
  i32x4Const(values: readonly [number, number, number, number]): this {
    this.simd(0x0c);
    this.code.push(...new Uint8Array(Int32Array.from(values).buffer));
    return this;
  }

  /** The function body as the code section wants it: locals, instructions, end. */
  encode(): number[] {
    const body: number[] = [];
    uleb(this.locals.length, body);
    for (const type of this.locals) body.push(1, type); // one entry per local: simple and valid
    body.push(...this.code, 0x0b);
    const out: number[] = [];
    uleb(body.length, out);
    out.push(...body);
    return out;
  }
}

function section(id: number, content: number[]): number[] {
  const out = [id];
  uleb(content.length, out);
  out.push(...content);
  return out;
}

/** A module importing one memory (env.memory) and exporting `functions` (no results). */
export function buildModule(
  functions: readonly FunctionBuilder[],
  shared = false,
): Uint8Array<ArrayBuffer> {
  const types: number[] = [];
  uleb(functions.length, types);
  for (const f of functions) {
    types.push(0x60);
    uleb(f.paramTypes.length, types);
    types.push(...f.paramTypes, 0);
  }
  const imports: number[] = [1, ...bytesOf('env'), ...bytesOf('memory'), 0x02];
  if (shared)
    imports.push(0x03, 1, 0x80, 0x80, 0x04); // shared, min 1, max 65536 pages
  else imports.push(0x00, 1);
  const funcs: number[] = [];
  uleb(functions.length, funcs);
  functions.forEach((_, i) => uleb(i, funcs));
  const exports: number[] = [];
  uleb(functions.length, exports);
  functions.forEach((f, i) => {
    exports.push(...bytesOf(f.name), 0x00);
    uleb(i, exports);
  });
  const code: number[] = [];
  uleb(functions.length, code);
  for (const f of functions) code.push(...f.encode());
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
