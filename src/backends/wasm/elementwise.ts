/**
 * float32 elementwise kernels in WebAssembly SIMD, working in place on tensors in the arena: one
 * kernel per expression (a single op, or a chain that graph fusion found) and per operand layout,
 * generated at run time and cached.
 *
 * Layouts: after merging contiguous dimensions, the output is R rows of L elements, and each input
 * either walks a row with it (stride 1) or repeats one value along it (stride 0), with any row
 * stride. That covers same-shape operands, scalars, row vectors (a bias) and column vectors; a third,
 * outer dimension (a convolution's per-channel bias over a batch) is a launch per entry. Other
 * layouts, other dtypes and tensors outside the arena go to the plain-TS kernels.
 */
import type { TypedArray } from '../../core/dtype.js';
import type { FusedExpr } from '../backend.js';
import type { ArrayView } from '../primitives.js';
import { broadcastStrides, collapse } from '../cpu/elementwise.js';
import type { Arena } from './arena.js';
import { MAX_KERNEL_ARGS, mayShare, WorkerPool } from './threads.js';
import {
  buildModule,
  FunctionBuilder,
  ValType,
  type F32Arith,
  type F32Compare,
} from './emitter.js';
import { f32x4Exp, f32x4Log, f32x4Sigmoid, f32x4Tanh } from './transcendental.js';

type View = ArrayView<TypedArray>;
type Kernel = (out: View, inputs: readonly View[]) => void;

/** Functions with no instruction, computed in f32x4 lanes (transcendental.ts). */
const FUNCTIONS = { exp: f32x4Exp, log: f32x4Log, sigmoid: f32x4Sigmoid, tanh: f32x4Tanh } as const;
type FunctionName = keyof typeof FUNCTIONS;

/** The ops we emit, as f32 instructions (Square and Relu are written with them) or functions. */
const UNARY: Record<string, F32Arith | 'square' | 'relu' | FunctionName> = {
  Neg: 'neg',
  Abs: 'abs',
  Sqrt: 'sqrt',
  Square: 'square',
  Relu: 'relu',
  Exp: 'exp',
  Log: 'log',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
};
const BINARY: Record<string, F32Arith> = {
  Add: 'add',
  Sub: 'sub',
  Mul: 'mul',
  Div: 'div',
  Maximum: 'max',
  Minimum: 'min',
};
/** Comparisons give 1 or 0: bools, which a float32 kernel holds as 1.0 and 0.0. */
const COMPARE: Record<string, F32Compare> = {
  Equal: 'eq',
  NotEqual: 'ne',
  Less: 'lt',
  LessEqual: 'le',
  Greater: 'gt',
  GreaterEqual: 'ge',
};

/** Whether every op of `expr` has a SIMD form here. */
export function simdExpressible(expr: FusedExpr): boolean {
  if ('input' in expr) return true;
  const known = expr.args.length === 1 ? UNARY[expr.op] : (BINARY[expr.op] ?? COMPARE[expr.op]);
  return known !== undefined && expr.args.every(simdExpressible);
}

/**
 * Per input: 'f' walks a float32 row, 'b' walks a bool row (bytes, read as 0 or 1), 's' repeats
 * one float32 value along the row.
 */
type Layout = 'f' | 'b' | 's';
type Walks = readonly Layout[];

/**
 * kernel(out, in₀…inₙ₋₁, rowStride₀…rowStrideₙ₋₁, rows, length): byte addresses and strides; the
 * output is dense. Each row runs ⌊L/4⌋ f32x4 steps, then the last L mod 4 elements one by one.
 * `output` 'b': a comparison's bools, a byte each (its 0.0 and 1.0 narrowed); else float32.
 */
function kernelFunction(expr: FusedExpr, walks: Walks, output: 'f' | 'b'): FunctionBuilder {
  const n = walks.length;
  const f = new FunctionBuilder('kernel', Array<ValType>(2 * n + 3).fill(ValType.i32));
  const out = f.params[0]!;
  const ins = f.params.slice(1, n + 1);
  const rowStrides = f.params.slice(n + 1, 2 * n + 1);
  const [rows, length] = [f.params[2 * n + 1]!, f.params[2 * n + 2]!];
  const pointers = ins.map(() => f.local(ValType.i32));
  const splat = ins.map(() => f.local(ValType.v128));
  const single = ins.map(() => f.local(ValType.f32));
  const [count, square] = [f.local(ValType.i32), [f.local(ValType.v128), f.local(ValType.f32)]];
  const bytes = f.local(ValType.v128);

  /** Pushes the expression's value for the current element(s). */
  const emit = (e: FusedExpr, lanes: 1 | 4): void => {
    if ('input' in e) {
      const k = e.input;
      if (walks[k] === 's') f.get(lanes === 4 ? splat[k]! : single[k]!);
      else if (walks[k] === 'b') f.get(pointers[k]!).boolsAsF32(lanes);
      else if (lanes === 4) f.get(pointers[k]!).v128Load();
      else f.get(pointers[k]!).f32Load();
      return;
    }
    const [x, y] = e.args;
    emit(x!, lanes);
    if (y) {
      emit(y, lanes);
      const compare = COMPARE[e.op];
      if (compare) f.f32Compare(compare, lanes);
      else f.f32Arith(BINARY[e.op]!, lanes);
      return;
    }
    const op = UNARY[e.op]!;
    if (op === 'square') {
      const tmp = square[lanes === 4 ? 0 : 1]!;
      f.tee(tmp).get(tmp).f32Arith('mul', lanes);
    } else if (op === 'relu') {
      if (lanes === 4) f.v128Zero();
      else f.f32Const(0);
      f.f32Arith('max', lanes);
    } else if (op in FUNCTIONS) {
      // A single element goes through the same lanes, so a row's tail rounds as its body does.
      if (lanes === 1) f.f32x4Splat();
      FUNCTIONS[op as FunctionName](f);
      if (lanes === 1) f.f32x4ExtractLane(0);
    } else f.f32Arith(op as F32Arith, lanes);
  };
  /** Moves every pointer on by `lanes` elements. */
  const advance = (lanes: number): void => {
    f.increment(out, STEP[output] * lanes);
    pointers.forEach(
      (p, k) => walks[k] !== 's' && f.increment(p, (walks[k] === 'b' ? 1 : 4) * lanes),
    );
  };

  f.countDown(rows, () => {
    ins.forEach((input, k) => {
      f.get(input).set(pointers[k]!);
      if (walks[k] !== 's') return;
      f.get(input).load32Splat().set(splat[k]!);
      f.get(input).f32Load().set(single[k]!);
    });
    // ⌊L/4⌋ vector steps, then L mod 4 single ones.
    for (const lanes of [4, 1] as const) {
      if (lanes === 4) f.get(length).i32(2).shrU().set(count);
      else f.get(length).i32(3).and().set(count);
      f.countDown(count, () => {
        f.get(out);
        emit(expr, lanes);
        if (output === 'b' && lanes === 4) f.f32x4AsBytes(bytes).i32Store();
        else if (output === 'b') f.f32StoreAsByte();
        else if (lanes === 4) f.v128Store();
        else f.f32Store();
        advance(lanes);
      });
    }
    ins.forEach((input, k) => f.incrementBy(input, rowStrides[k]!));
  });
  return f;
}

/** The module bytes of one kernel. */
function elementwiseModuleBytes(
  expr: FusedExpr,
  walks: Walks,
  output: 'f' | 'b',
  shared = true,
): Uint8Array<ArrayBuffer> {
  return buildModule([kernelFunction(expr, walks, output)], shared);
}

/** A compiled kernel, with its module for worker threads. */
interface Compiled {
  readonly run: (...args: number[]) => void;
  readonly module: WebAssembly.Module;
}

/**
 * Outputs from this many elements up are shared with worker threads (~30 µs of streaming, more
 * with divisions and square roots): W2 ran 7% faster on average than from 262,144, whose Adam
 * updates of 100,352 elements stayed on one thread (six alternating runs, bench/RESULTS.md).
 */
const PARALLEL_ELEMENTS = 1 << 16;
/** The fewest elements of one row in a chunk. */
const MIN_CHUNK = 4096;
/** Bytes a pointer moves per element, by layout. */
const STEP: Record<Layout, number> = { f: 4, b: 1, s: 0 };

/** Outputs smaller than this are not in the arena anyway (the pool keeps them on the JS heap). */
const MIN_ELEMENTS = 1024;

/** Inputs below the arena's size threshold are copied in: up to this many floats, for this many. */
const STAGING_FLOATS = 4096;
const MAX_STAGED = 4;

/** Elementwise kernels over the arena's memory; `fallback` runs what they cannot. */
export class WasmElementwise {
  private readonly compiled = new Map<string, Compiled>();
  /** One slot per operand for scalars that live outside the arena (JS numbers made 0-d tensors). */
  private readonly constants: Float32Array;
  private readonly constantsAt: number;

  /** Slots for small inputs from outside the arena, copied in for one call. */
  private readonly staging: Float32Array;
  private readonly stagingAt: number;

  /** Started at the first output big enough to share; null when there are no other threads. */
  private pool: WorkerPool | null | undefined;

  /** `threads`: how many threads share a big output. */
  constructor(
    private readonly arena: Arena,
    private readonly threads = 1,
  ) {
    this.constantsAt = arena.alloc(64 * 4, true)!;
    this.constants = new Float32Array(arena.buffer, this.constantsAt, 64);
    this.stagingAt = arena.alloc(4 * STAGING_FLOATS * MAX_STAGED, true)!;
    this.staging = new Float32Array(arena.buffer, this.stagingAt, STAGING_FLOATS * MAX_STAGED);
  }

  /**
   * Copies the part of a small float32 input that lives outside the arena (a bias, say), from
   * element `offset`, into staging slot `k`, and returns the address where that element now is;
   * null if it is too big.
   */
  private stage(
    k: number,
    v: View,
    offset: number,
    rowStride: number,
    rows: number,
    inner: number,
    length: number,
  ): number | null {
    const extent = 1 + (rows - 1) * rowStride + (length - 1) * inner;
    if (extent > STAGING_FLOATS || k >= MAX_STAGED) return null;
    this.staging.set(v.buffer.subarray(offset, offset + extent), k * STAGING_FLOATS);
    return this.stagingAt + 4 * k * STAGING_FLOATS;
  }

  private compile(expr: FusedExpr, key: string, walks: Walks, output: 'f' | 'b'): Compiled {
    const module = new WebAssembly.Module(elementwiseModuleBytes(expr, walks, output));
    const instance = new WebAssembly.Instance(module, { env: { memory: this.arena.memory } });
    const kernel = { run: instance.exports['kernel'] as Compiled['run'], module };
    this.compiled.set(key, kernel);
    return kernel;
  }

  /**
   * Runs `kernel` over `rows` rows of `length`, shared with the worker threads when the output is
   * big: by rows, or along the row when there is one. `args` are the output and input addresses;
   * `output` the output's layout.
   */
  private launch(
    kernel: Compiled,
    walks: Walks,
    output: 'f' | 'b',
    args: readonly number[],
    rowStrides: readonly number[],
    rows: number,
    length: number,
  ): void {
    const fits = args.length + rowStrides.length + 2 <= MAX_KERNEL_ARGS;
    if (rows * length >= PARALLEL_ELEMENTS && mayShare(this.threads) && fits) {
      this.pool ??= WorkerPool.forMemory(this.arena.memory, this.threads - 1);
      // Chunks of rows, or of the only row (whole vectors, at least MIN_CHUNK elements).
      const byRows = rows > 1;
      const split = byRows
        ? { units: rows, perThread: 1 }
        : { units: length, perThread: 1, minChunk: MIN_CHUNK, granule: 4 };
      const chunk = (from: number, to: number): number[] => {
        const moved = byRows
          ? [STEP[output] * from * length, ...rowStrides.map((stride) => from * stride)]
          : [STEP[output] * from, ...walks.map((w) => from * STEP[w])];
        const addresses = args.map((address, k) => address + moved[k]!);
        return [...addresses, ...rowStrides, byRows ? to - from : 1, byRows ? length : to - from];
      };
      const here = (chunkArgs: readonly number[]): void => kernel.run(...chunkArgs);
      if (this.pool?.share(kernel.module, 'kernel', split, chunk, here)) return;
    }
    kernel.run(...args, ...rowStrides, rows, length);
  }

  /** Worker threads ready to share outputs (0 until the first big output starts them). */
  get workersReady(): number {
    return this.pool?.ready ?? 0;
  }

  /** A kernel computing `expr` over inputs $0..$(arity−1), in SIMD where it can. */
  kernel(expr: FusedExpr, fallback: Kernel): Kernel {
    const name = JSON.stringify(expr);
    return (out, inputs) => {
      if (out.buffer.length < MIN_ELEMENTS || !this.run(expr, name, out, inputs))
        fallback(out, inputs);
    };
  }

  /**
   * Runs `expr` in SIMD and returns true, or returns false if the operands do not allow it. A bool
   * output takes a comparison's results (the eager gradient of a ReLU: y > 0).
   */
  private run(expr: FusedExpr, name: string, out: View, inputs: readonly View[]): boolean {
    const comparison = 'op' in expr && COMPARE[expr.op] !== undefined;
    const output = out.dtype === 'bool' && comparison ? 'b' : 'f';
    if ((output === 'f' && out.dtype !== 'float32') || !this.arena.owns(out.buffer)) return false;
    const views = [out, ...inputs];
    const [shape, strides] = collapse(
      out.shape,
      views.map((v) => broadcastStrides(v, out.shape)),
    );
    // Three merged dimensions with a dense output (a convolution's bias, [N, C, H·W] + [C, 1]):
    // one launch of rows per entry of the outer one. Every entry has the same layout, so either
    // the first launch fails before writing anything, or all of them run.
    if (shape.length === 3 && strides[0]![0] === shape[1]! * shape[2]!) {
      const inner = strides.map((st) => st.slice(1));
      for (let i = 0; i < shape[0]!; i++) {
        const shift = strides.map((st) => i * st[0]!);
        if (!this.runRows(expr, name, output, out, inputs, shape.slice(1), inner, shift))
          return false;
      }
      return true;
    }
    return this.runRows(
      expr,
      name,
      output,
      out,
      inputs,
      shape,
      strides,
      strides.map(() => 0),
    );
  }

  /**
   * Runs `expr` over one or two merged dimensions (`shape`, with each operand's `strides`), its
   * operands `shift` elements past their offsets; false if the layout does not allow it.
   */
  private runRows(
    expr: FusedExpr,
    name: string,
    output: 'f' | 'b',
    out: View,
    inputs: readonly View[],
    shape: readonly number[],
    strides: readonly (readonly number[])[],
    shift: readonly number[],
  ): boolean {
    // One or two merged dimensions, the output walking the last (0-d outputs stop here too).
    if (shape.length > 2 || strides[0]![shape.length - 1] !== 1) return false;
    const length = shape[shape.length - 1]!;
    const rows = shape.length === 2 ? shape[0]! : 1;
    if (rows > 1 && strides[0]![0] !== length) return false; // the output must be dense
    const args = [out.buffer.byteOffset + STEP[output] * (out.offset + shift[0]!)];
    const rowStrides: number[] = [];
    let key = name + output;
    for (let k = 0; k < inputs.length; k++) {
      const v = inputs[k]!;
      const at = v.offset + shift[k + 1]!;
      const s = strides[k + 1]!;
      const inner = s[shape.length - 1]!;
      const inArena = this.arena.owns(v.buffer);
      let layout: Layout;
      if (inner === 0 && rows === 1) {
        // One value for the whole output: it goes to a constant slot, as float32.
        this.constants[k] = v.buffer[at]!;
        args.push(this.constantsAt + 4 * k);
        layout = 's';
      } else if (inner !== 0 && inner !== 1) return false;
      else if (v.dtype === 'float32' && !inArena) {
        const address = this.stage(k, v, at, shape.length === 2 ? s[0]! : 0, rows, inner, length);
        if (address === null) return false;
        args.push(address);
        layout = inner === 1 ? 'f' : 's';
      } else if (!inArena) return false;
      else if (v.dtype === 'float32') {
        args.push(v.buffer.byteOffset + 4 * at);
        layout = inner === 1 ? 'f' : 's';
      } else if (v.dtype === 'bool' && inner === 1) {
        args.push(v.buffer.byteOffset + at);
        layout = 'b';
      } else return false;
      rowStrides.push(shape.length === 2 ? v.buffer.BYTES_PER_ELEMENT * s[0]! : 0);
      key += layout;
    }
    const walks = Array.from(key.slice(name.length + 1)) as Layout[];
    const kernel = this.compiled.get(key) ?? this.compile(expr, key, walks, output);
    this.launch(kernel, walks, output, args, rowStrides, rows, length);
    return true;
  }
}
