/** The plain-TypeScript CPU backend: typed arrays as buffers, the reference kernels for all devices. */
import type { DType, TypedArray } from '../../core/dtype.js';
import { BufferPool, type PoolStats } from './pool.js';
import { Arena } from '../wasm/arena.js';
import { WasmRows } from '../wasm/rows.js';
import { WasmSums } from '../wasm/sums.js';
import type { Backend } from '../backend.js';
import type { ArrayView, BinaryName, KernelTable, UnaryName } from '../primitives.js';
import { shapesEqual } from '../../core/shape.js';
import type { FusedExpr } from '../backend.js';
import {
  elementwise,
  elementwiseByOutput,
  elementwiseOfMarkers,
  isDense,
  toMarkers,
  type ElementwiseKernel,
} from './elementwise.js';
import { cat, gatherKernel, scatterAddKernel, unsliceKernel } from './indexing.js';
import { col2imKernel, im2colKernel } from './patches.js';
import { windowArgmaxKernel } from './window-argmax.js';
import { WasmMaxPool } from '../wasm/max-pool.js';
import { WasmPicks } from '../wasm/picks.js';
import { matmul, matmulFloat32 } from './matmul.js';
import { gemmModuleBytes, WasmGemm } from '../wasm/gemm.js';
import { getNumThreads, threadCount } from '../wasm/threads.js';
import { simdExpressible, WasmElementwise } from '../wasm/elementwise.js';
import { FOLDS, reduceKernel } from './reduce.js';
import { envVar } from '../../engine/node.js';
import { NablaError } from '../../core/errors.js';

/** Each elementwise primitive as one JS expression over its operands a, b (c). */
const EXPRESSIONS: Record<UnaryName | BinaryName, string> = {
  Neg: '-a',
  Square: 'a * a',
  Exp: 'Math.exp(a)',
  Log: 'Math.log(a)',
  Sqrt: 'Math.sqrt(a)',
  Abs: 'Math.abs(a)',
  Sign: 'Math.sign(a)',
  Round: 'roundHalfEven(a)',
  Tanh: 'Math.tanh(a)',
  Sigmoid: '1 / (1 + Math.exp(-a))',
  Relu: 'Math.max(a, 0)',
  Add: 'a + b',
  Sub: 'a - b',
  Mul: 'a * b',
  Div: 'a / b',
  Pow: 'Math.pow(a, b)',
  Maximum: '(a !== a || b !== b ? NaN : Math.max(a, b))',
  Minimum: '(a !== a || b !== b ? NaN : Math.min(a, b))',
  // +(a > b), not (a > b ? 1 : 0): V8 compiles it without a branch, 3× faster on random signs.
  Equal: '+(a === b)',
  NotEqual: '+(a !== b)',
  Less: '+(a < b)',
  LessEqual: '+(a <= b)',
  Greater: '+(a > b)',
  GreaterEqual: '+(a >= b)',
};
const WHERE = '(a ? b : c)';
/** Casts to each dtype: int32 truncates toward zero, as PyTorch does, and refuses what it cannot hold. */
const CAST_EXPRESSIONS: Record<DType, string> = {
  bool: '+(a !== 0)',
  int32: 'int32(a)',
  float32: 'a',
  float64: 'a',
};

/**
 * Which kernels run: WebAssembly SIMD where the runtime has it, else plain TS.
 * NABLA_CPU_KERNELS=js|wasm forces one (tests and benchmarks compare them).
 */
function chooseKernels(): 'js' | 'wasm' {
  const requested = envVar('NABLA_CPU_KERNELS');
  if (requested !== undefined && requested !== 'js' && requested !== 'wasm')
    throw new NablaError(`NABLA_CPU_KERNELS must be 'js' or 'wasm', got '${requested}'`);
  if (requested === 'js') return 'js';
  if (WebAssembly.validate(gemmModuleBytes())) return 'wasm';
  if (requested === 'wasm')
    throw new NablaError('NABLA_CPU_KERNELS=wasm, but this runtime has no WebAssembly SIMD');
  return 'js';
}

export const cpuKernels = chooseKernels();
const useWasm = cpuKernels === 'wasm';

/** NABLA_CPU_ARENA_MB: how large the WebAssembly arena may grow (default 256 MiB). */
function arenaBudget(): number {
  const requested = envVar('NABLA_CPU_ARENA_MB');
  if (requested === undefined) return 256 * 2 ** 20;
  const mib = Number(requested);
  if (requested.trim() === '' || !(mib >= 0)) {
    throw new NablaError(`NABLA_CPU_ARENA_MB must be a number of MiB ≥ 0, got '${requested}'`);
  }
  return mib * 2 ** 20;
}

// A budget of 0 means no arena: every tensor in ordinary memory (the GEMM keeps its own memory).
const budget = useWasm ? arenaBudget() : 0;
const arena = budget > 0 ? Arena.create(budget) : null;
const pool = new BufferPool(arena);
const gemm = useWasm ? new WasmGemm(arena, threadCount()) : null;
/** SIMD elementwise kernels need the operands in the arena, so there is none without one. */
const simd = arena ? new WasmElementwise(arena, threadCount()) : null;
/** Row copies and sums for convolution windows, in the arena. */
const rows = arena ? new WasmRows(arena) : null;
/** Gathers and scatter-adds by index (a max pooling's picks and their gradient), in the arena. */
const picks = arena ? new WasmPicks(arena) : null;

/** `jsKernel`, or a SIMD kernel for `expr` that falls back to it. */
function withSimd(expr: FusedExpr, jsKernel: ElementwiseKernel): ElementwiseKernel {
  return simd && simdExpressible(expr) ? simd.kernel(expr, jsKernel) : jsKernel;
}

const elementwiseKernels = Object.fromEntries(
  Object.entries(EXPRESSIONS).map(([name, expr]) => [
    name,
    // Binary expressions use b.
    /\bb\b/.test(expr)
      ? withSimd({ op: name, args: [{ input: 0 }, { input: 1 }] }, elementwise(expr, 2))
      : withSimd({ op: name, args: [{ input: 0 }] }, elementwise(expr, 1)),
  ]),
) as Record<UnaryName | BinaryName, ElementwiseKernel>;

/** Composes a fused chain into one expression over the markers $0..$n, or null if it cannot. */
function fusedExpression(expr: FusedExpr): string | null {
  if ('input' in expr) return `$${expr.input}`;
  const template = expr.op === 'Where' ? WHERE : EXPRESSIONS[expr.op as UnaryName | BinaryName];
  if (!template) return null;
  const args = expr.args.map(fusedExpression);
  if (args.some((a) => a === null)) return null;
  // One replace pass: the arguments' own markers (kernel inputs) are not rescanned. R(...) marks
  // each op's result, which float32 kernels round as the op alone would have.
  return `R(${toMarkers(template).replace(/\$(\d+)/g, (_, k: string) => `(${args[+k]})`)})`;
}

const copyLoop = elementwise('a', 1);

/**
 * Copies (contiguous(), copy_): a same-dtype contiguous copy is one memcpy — WebAssembly's
 * memory.copy within the arena (TypedArray.set on its shared memory ran 4.5× slower: 200 KB in
 * 8.9 µs against 2.0), TypedArray.set elsewhere.
 */
function copy(out: ArrayView<TypedArray>, inputs: readonly ArrayView<TypedArray>[]): void {
  const x = inputs[0]!;
  const size = out.shape.reduce((a, b) => a * b, 1);
  if (x.dtype === out.dtype && isDense(out) && isDense(x) && shapesEqual(x.shape, out.shape)) {
    const [from, to] = [x.buffer, out.buffer];
    if (rows?.arena.owns(from) && rows.arena.owns(to)) {
      const bytes = from.BYTES_PER_ELEMENT;
      rows.copy(
        from.byteOffset + bytes * x.offset,
        0,
        to.byteOffset + bytes * out.offset,
        0,
        bytes * size,
        1,
      );
    } else to.set(from.subarray(x.offset, x.offset + size), out.offset);
  } else if (!gemm?.transposeInto(out, x)) copyLoop(out, inputs);
}

/** Below this many multiply-adds, packing for the SIMD GEMM costs more than it saves. */
const MIN_GEMM_WORK = 4096;

function isLargeFloat32Product(
  out: ArrayView<TypedArray>,
  [a, b]: readonly ArrayView<TypedArray>[],
): boolean {
  if (out.dtype !== 'float32' || a!.dtype !== 'float32' || b!.dtype !== 'float32') return false;
  return out.buffer.length * a!.shape[a!.shape.length - 1]! >= MIN_GEMM_WORK;
}

const kernels: KernelTable<TypedArray> = {
  ...elementwiseKernels,
  Where: elementwise(WHERE, 3),
  Cast: elementwiseByOutput((dtype) => CAST_EXPRESSIONS[dtype]),
  Contiguous: copy,
  Sum: reduceKernel(FOLDS.Sum, arena ? new WasmSums(arena, threadCount()) : null),
  Max: reduceKernel(FOLDS.Max),
  Min: reduceKernel(FOLDS.Min),
  ArgMax: reduceKernel(FOLDS.ArgMax),
  ArgMin: reduceKernel(FOLDS.ArgMin),
  MatMul: (out, inputs) => {
    if (!isLargeFloat32Product(out, inputs)) matmul(out, inputs);
    // Without SIMD, or without room for its scratch: plain TS, summing as the SIMD kernel sums.
    else if (!gemm?.matmul(out, inputs)) matmulFloat32(out, inputs);
  },
  Numel: (out, [x], { dims }) => {
    out.buffer[out.offset] = dims.reduce((n, d) => n * x!.shape[d]!, 1);
  },
  Cat: cat,
  Gather: gatherKernel(rows, picks),
  ScatterAdd: scatterAddKernel(rows, picks),
  Unslice: unsliceKernel(rows),
  Im2Col: im2colKernel(rows),
  Col2Im: col2imKernel(rows),
  WindowArgMax: windowArgmaxKernel(arena ? new WasmMaxPool(arena) : null),
};

const fusedKernels = new Map<string, ElementwiseKernel>();

/** Arena and pool figures (tests assert on them). */
export const cpuMemoryStats = (): PoolStats => pool.stats();

export const cpuBackend: Backend<TypedArray> = {
  device: 'cpu',
  alloc: (dtype: DType, size: number) => pool.alloc(dtype, size),
  free: (buffer) => pool.release(buffer),
  fromHost: (data) => data,
  readSync: (buffer, share) => (share ? pool.share(buffer, share.offset, share.size) : buffer),
  read: (buffer, { offset, size }) => Promise.resolve(pool.share(buffer, offset, size)),
  fuse: (expr, arity) => {
    const value = fusedExpression(expr);
    if (value === null) return null;
    let kernel = fusedKernels.get(value);
    if (!kernel)
      fusedKernels.set(value, (kernel = withSimd(expr, elementwiseOfMarkers(value, arity))));
    return kernel;
  },
  kernels,
  memory: () => ({ ...pool.stats() }),
  describe: () => {
    if (!useWasm) return 'plain JavaScript, threads=1';
    // Worker threads start with the first product large enough to share.
    const started = gemm?.workersReady ?? 0;
    const fma = gemm?.fused ? ' with relaxed-SIMD FMA' : '';
    return `WebAssembly SIMD${fma}, threads=${getNumThreads()}${started ? ` (${started} workers started)` : ''}`;
  },
};
