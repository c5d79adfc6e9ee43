/**
 * float32 elementwise kernels in WebAssembly SIMD, working in place on tensors in the arena: one
 * kernel per expression (a single op, or a chain that graph fusion found) and per operand layout,
 * generated at run time and cached.
 *
 * Layouts: after merging contiguous dimensions, the output is R rows of L elements, and each input
 * either walks a row with it (stride 1) or repeats one value along it (stride 0), with any row
 * stride. That covers same-shape operands, scalars, row vectors (a bias) and column vectors. Other
 * layouts, other dtypes and tensors outside the arena go to the plain-TS kernels.
 */
import type { TypedArray } from '../../core/dtype.js';
import type { FusedExpr } from '../backend.js';
import type { ArrayView } from '../primitives.js';
import { broadcastStrides, collapse } from '../cpu/elementwise.js';
import type { Arena } from './arena.js';
import { buildModule, FunctionBuilder, ValType, type F32Arith } from './emitter.js';

type View = ArrayView<TypedArray>;
type Kernel = (out: View, inputs: readonly View[]) => void;

/** The ops we emit, as f32 instructions (Square and Relu are written with them). */
const UNARY: Record<string, F32Arith | 'square' | 'relu'> = {
  Neg: 'neg',
  Abs: 'abs',
  Sqrt: 'sqrt',
  Square: 'square',
  Relu: 'relu',
};
const BINARY: Record<string, F32Arith> = {
  Add: 'add',
  Sub: 'sub',
  Mul: 'mul',
  Div: 'div',
  Maximum: 'max',
  Minimum: 'min',
};

/** Whether every op of `expr` has a SIMD form here. */
export function simdExpressible(expr: FusedExpr): boolean {
  if ('input' in expr) return true;
  const known = expr.args.length === 1 ? UNARY[expr.op] : BINARY[expr.op];
  return known !== undefined && expr.args.every(simdExpressible);
}

/** Per input: does it walk along a row (true) or repeat one value (false)? */
type Walks = readonly boolean[];

/**
 * kernel(out, in₀…inₙ₋₁, rowStride₀…rowStrideₙ₋₁, rows, length): byte addresses and strides; the
 * output is dense. Each row runs ⌊L/4⌋ f32x4 steps, then the last L mod 4 elements one by one.
 */
function kernelFunction(expr: FusedExpr, walks: Walks): FunctionBuilder {
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

  /** Pushes the expression's value for the current element(s). */
  const emit = (e: FusedExpr, lanes: 1 | 4): void => {
    if ('input' in e) {
      const k = e.input;
      if (!walks[k]) f.get(lanes === 4 ? splat[k]! : single[k]!);
      else if (lanes === 4) f.get(pointers[k]!).v128Load();
      else f.get(pointers[k]!).f32Load();
      return;
    }
    const [x, y] = e.args;
    emit(x!, lanes);
    if (y) {
      emit(y, lanes);
      f.f32Arith(BINARY[e.op]!, lanes);
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
    } else f.f32Arith(op, lanes);
  };
  const advance = (bytes: number): void => {
    f.increment(out, bytes);
    pointers.forEach((p, k) => walks[k] && f.increment(p, bytes));
  };

  f.countDown(rows, () => {
    ins.forEach((input, k) => {
      f.get(input).set(pointers[k]!);
      if (walks[k]) return;
      f.get(input).load32Splat().set(splat[k]!);
      f.get(input).f32Load().set(single[k]!);
    });
    f.get(length).i32(2).shrU().set(count);
    f.countDown(count, () => {
      f.get(out);
      emit(expr, 4);
      f.v128Store();
      advance(16);
    });
    f.get(length).i32(3).and().set(count);
    f.countDown(count, () => {
      f.get(out);
      emit(expr, 1);
      f.f32Store();
      advance(4);
    });
    ins.forEach((input, k) => f.incrementBy(input, rowStrides[k]!));
  });
  return f;
}

/** The module bytes of one kernel (tests validate them). */
export function elementwiseModuleBytes(
  expr: FusedExpr,
  walks: Walks,
  shared = true,
): Uint8Array<ArrayBuffer> {
  return buildModule([kernelFunction(expr, walks)], shared);
}

type Compiled = (...args: number[]) => void;

/** Elementwise kernels over the arena's memory; `fallback` runs what they cannot. */
export class WasmElementwise {
  private readonly compiled = new Map<string, Compiled>();
  /** One slot per operand for scalars that live outside the arena (JS numbers made 0-d tensors). */
  private readonly constants: Float32Array;
  private readonly constantsAt: number;

  constructor(private readonly arena: Arena) {
    this.constantsAt = arena.alloc(64 * 4, true)!;
    this.constants = new Float32Array(arena.buffer, this.constantsAt, 64);
  }

  private compile(expr: FusedExpr, key: string, walks: Walks): Compiled {
    const module = new WebAssembly.Module(elementwiseModuleBytes(expr, walks));
    const instance = new WebAssembly.Instance(module, { env: { memory: this.arena.memory } });
    const kernel = instance.exports['kernel'] as Compiled;
    this.compiled.set(key, kernel);
    return kernel;
  }

  /** A kernel computing `expr` over inputs $0..$(arity−1), in SIMD where it can. */
  kernel(expr: FusedExpr, fallback: Kernel): Kernel {
    const name = JSON.stringify(expr);
    return (out, inputs) => {
      if (!this.run(expr, name, out, inputs)) fallback(out, inputs);
    };
  }

  /** Runs `expr` in SIMD and returns true, or returns false if the operands do not allow it. */
  private run(expr: FusedExpr, name: string, out: View, inputs: readonly View[]): boolean {
    if (out.dtype !== 'float32' || !this.arena.owns(out.buffer)) return false;
    const views = [out, ...inputs];
    const [shape, strides] = collapse(
      out.shape,
      views.map((v) => broadcastStrides(v, out.shape)),
    );
    if (shape.length > 2 || strides[0]![shape.length - 1] !== 1) return false;
    const length = shape[shape.length - 1] ?? 1;
    const rows = shape.length === 2 ? shape[0]! : 1;
    if (rows > 1 && strides[0]![0] !== length) return false; // the output must be dense
    const args = [out.buffer.byteOffset + 4 * out.offset];
    const rowStrides: number[] = [];
    let key = name;
    for (let k = 0; k < inputs.length; k++) {
      const v = inputs[k]!;
      const s = strides[k + 1]!;
      const inner = shape.length === 0 ? 0 : s[shape.length - 1]!;
      const walks = inner === 1;
      if (!walks && inner !== 0) return false;
      if (!walks && !(v.dtype === 'float32' && this.arena.owns(v.buffer)) && rows === 1) {
        // A scalar from anywhere: its value goes to a constant slot in the arena.
        this.constants[k] = v.buffer[v.offset]!;
        args.push(this.constantsAt + 4 * k);
      } else if (v.dtype === 'float32' && this.arena.owns(v.buffer)) {
        args.push(v.buffer.byteOffset + 4 * v.offset);
      } else return false;
      rowStrides.push(shape.length === 2 ? 4 * s[0]! : 0);
      key += walks ? 'v' : 's';
    }
    const kernel =
      this.compiled.get(key) ??
      this.compile(
        expr,
        key,
        Array.from(key.slice(name.length), (c) => c === 'v'),
      );
    kernel(...args, ...rowStrides, rows, length);
    return true;
  }
}
