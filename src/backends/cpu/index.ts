/** The plain-TypeScript CPU backend: typed arrays as buffers, the reference kernels for all devices. */
import type { DType, TypedArray } from '../../core/dtype.js';
import { BufferPool } from './pool.js';
import type { Backend } from '../backend.js';
import type { KernelTable } from '../primitives.js';
import { elementwise, elementwiseByOutput } from './elementwise.js';
import { cat, gather, scatterAdd, unslice } from './indexing.js';
import { matmul } from './matmul.js';
import { FOLDS, reduceKernel } from './reduce.js';

const compare = (test: string) => elementwise(`(${test} ? 1 : 0)`, 2);

const kernels: KernelTable<TypedArray> = {
  Neg: elementwise('-a', 1),
  Exp: elementwise('Math.exp(a)', 1),
  Log: elementwise('Math.log(a)', 1),
  Sqrt: elementwise('Math.sqrt(a)', 1),
  Abs: elementwise('Math.abs(a)', 1),
  Sign: elementwise('Math.sign(a)', 1),
  Round: elementwise('roundHalfEven(a)', 1),
  Tanh: elementwise('Math.tanh(a)', 1),
  Sigmoid: elementwise('1 / (1 + Math.exp(-a))', 1),
  Relu: elementwise('Math.max(a, 0)', 1),
  Add: elementwise('a + b', 2),
  Sub: elementwise('a - b', 2),
  Mul: elementwise('a * b', 2),
  Div: elementwise('a / b', 2),
  Pow: elementwise('Math.pow(a, b)', 2),
  Maximum: elementwise('(a !== a || b !== b ? NaN : Math.max(a, b))', 2),
  Minimum: elementwise('(a !== a || b !== b ? NaN : Math.min(a, b))', 2),
  Equal: compare('a === b'),
  NotEqual: compare('a !== b'),
  Less: compare('a < b'),
  LessEqual: compare('a <= b'),
  Greater: compare('a > b'),
  GreaterEqual: compare('a >= b'),
  Where: elementwise('(a ? b : c)', 3),
  Cast: elementwiseByOutput((dtype) => (dtype === 'bool' ? '(a !== 0 ? 1 : 0)' : 'a')),
  Contiguous: elementwise('a', 1),
  Sum: reduceKernel(FOLDS.Sum),
  Max: reduceKernel(FOLDS.Max),
  Min: reduceKernel(FOLDS.Min),
  ArgMax: reduceKernel(FOLDS.ArgMax),
  ArgMin: reduceKernel(FOLDS.ArgMin),
  MatMul: matmul,
  Cat: cat,
  Gather: gather,
  ScatterAdd: scatterAdd,
  Unslice: unslice,
};

const pool = new BufferPool();

export const cpuBackend: Backend<TypedArray> = {
  device: 'cpu',
  alloc: (dtype: DType, size: number) => pool.alloc(dtype, size),
  free: (buffer) => pool.release(buffer),
  fromHost: (data) => data,
  readSync: (buffer, shared) => {
    if (shared) pool.markShared(buffer);
    return buffer;
  },
  read: (buffer) => Promise.resolve(buffer),
  kernels,
};
