/**
 * Elementwise primitives. Each entry: the shape rule (NumPy broadcasting), the dtype rule, and the
 * gradient written with public ops — so it runs eagerly, builds graph nodes, and differentiates again.
 */
import { isFloat, promoteTypes, resultType, type DType } from '../../core/dtype.js';
import { broadcastShapes } from '../../core/shape.js';
import type { BinaryName, UnaryName } from '../../backends/primitives.js';
import type { Tensor, TensorLike } from '../../tensor/tensor.js';
import { bind, defineOp, type KernelOp, type TensorMeta, type Vjp } from '../define.js';
import { checkTensor, operands } from '../operands.js';
import * as ops from '../index.js';

type Rule = (dtype: DType) => DType;
const same: Rule = (dtype) => dtype;
/** Transcendental ops compute in floating point: integers become float32, like PyTorch. */
const floating: Rule = (dtype) => (isFloat(dtype) ? dtype : 'float32');
/** Arithmetic on bools counts them as integers. */
const arithmetic: Rule = (dtype) => (dtype === 'bool' ? 'int32' : dtype);
const boolean: Rule = () => 'bool';

function unaryOp(name: UnaryName, rule: Rule, vjp: Vjp<Record<string, never>>) {
  const op = defineOp<typeof name>({
    name,
    elementwise: true,
    infer: ([x]) => ({ shape: x!.shape, dtype: rule(x!.dtype) }),
    vjp,
  });
  return (x: Tensor): Tensor => bind(op, [checkTensor(name, x)], {});
}

function binaryOp(name: BinaryName, rule: Rule, vjp?: Vjp<Record<string, never>>) {
  const op: KernelOp<typeof name> = defineOp<typeof name>({
    name,
    elementwise: true,
    infer: ([a, b]: readonly TensorMeta[]) => ({
      shape: broadcastShapes(name, [a!.shape, b!.shape]),
      dtype: rule(resultType(a!.dtype, a!.shape.length, b!.dtype, b!.shape.length)),
    }),
    ...(vjp && { vjp }),
  });
  return (a: TensorLike, b: TensorLike): Tensor => bind(op, operands(name, a, b), {});
}

const zeroGrad: Vjp = ({ inputs }) => [ops.filledAs(0, inputs[0]!)];

export const neg = unaryOp('Neg', arithmetic, (_, dy) => [ops.neg(dy)]);
/** x², whose derivative is 2x. */
export const square = unaryOp('Square', arithmetic, ({ inputs: [x] }, dy) => [
  ops.mul(dy, ops.mul(x!, 2)),
]);
export const exp = unaryOp('Exp', floating, ({ output }, dy) => [ops.mul(dy, output)]);
export const log = unaryOp('Log', floating, ({ inputs: [x] }, dy) => [ops.div(dy, x!)]);
export const sqrt = unaryOp('Sqrt', floating, ({ output }, dy) => [
  ops.div(dy, ops.mul(output, 2)),
]);
export const abs = unaryOp('Abs', same, ({ inputs: [x] }, dy) => [ops.mul(dy, ops.sign(x!))]);
export const sign = unaryOp('Sign', same, zeroGrad);
/** Rounds half to even, like PyTorch. */
export const round = unaryOp('Round', same, zeroGrad);
export const tanh = unaryOp('Tanh', floating, ({ output: y }, dy) => [
  ops.mul(dy, ops.sub(1, ops.square(y))),
]);
/** The logistic function 1 / (1 + e^−x); σ′(x) = σ(x)(1 − σ(x)). */
export const sigmoid = unaryOp('Sigmoid', floating, ({ output: y }, dy) => [
  ops.mul(dy, ops.mul(y, ops.sub(1, y))),
]);
/**
 * max(x, 0); its derivative at 0 is taken as 0, as in PyTorch. The gradient reads the output (y > 0
 * exactly where x > 0), as PyTorch's does: then nothing else needs x, and a graph can fuse the op
 * that makes x (a layer's bias add) into the ReLU.
 */
export const relu = unaryOp('Relu', same, ({ output: y }, dy) => [ops.mul(dy, ops.gt(y, 0))]);

export const add = binaryOp('Add', arithmetic, (_, dy) => [dy, dy]);
export const sub = binaryOp('Sub', arithmetic, (_, dy) => [dy, ops.neg(dy)]);
export const mul = binaryOp('Mul', arithmetic, ({ inputs: [a, b], needsGrad }, dy) => [
  needsGrad?.[0] === false ? null : ops.mul(dy, b!),
  needsGrad?.[1] === false ? null : ops.mul(dy, a!), // not for a mask (dropout's)
]);
/** True division: integer inputs give a float32 result, like PyTorch. */
export const div = binaryOp('Div', floating, ({ inputs: [a, b] }, dy) => [
  ops.div(dy, b!),
  ops.neg(ops.div(ops.mul(dy, a!), ops.mul(b!, b!))),
]);
/** a^b. Gradients follow PyTorch's conventions at a = 0 and b = 0. */
export const pow = binaryOp('Pow', arithmetic, ({ inputs: [a, b], output: y }, dy) => {
  const da = ops.where(ops.eq(b!, 0), 0, ops.mul(b!, ops.pow(a!, ops.sub(b!, 1))));
  const yLogA = ops.mul(y, ops.log(a!));
  const db = ops.where(ops.eq(a!, 0), ops.where(ops.ge(b!, 0), 0, yLogA), yLogA);
  return [ops.mul(dy, da), ops.mul(dy, db)];
});

/** Ties split the gradient in half between the operands, as in PyTorch. */
function extremeVjp(aWins: (a: Tensor, b: Tensor) => Tensor): Vjp {
  return ({ inputs: [a, b] }, dy) => {
    const shared = ops.where(ops.eq(a!, b!), ops.div(dy, 2), dy);
    return [ops.where(aWins(b!, a!), 0, shared), ops.where(aWins(a!, b!), 0, shared)];
  };
}
export const maximum = binaryOp(
  'Maximum',
  same,
  extremeVjp((a, b) => ops.gt(a, b)),
);
export const minimum = binaryOp(
  'Minimum',
  same,
  extremeVjp((a, b) => ops.lt(a, b)),
);

export const eq = binaryOp('Equal', boolean);
export const ne = binaryOp('NotEqual', boolean);
export const lt = binaryOp('Less', boolean);
export const le = binaryOp('LessEqual', boolean);
export const gt = binaryOp('Greater', boolean);
export const ge = binaryOp('GreaterEqual', boolean);

const whereOp = defineOp<'Where'>({
  name: 'Where',
  elementwise: true,
  infer: ([c, a, b]) => ({
    shape: broadcastShapes('Where', [c!.shape, a!.shape, b!.shape]),
    dtype: promoteTypes(a!.dtype, b!.dtype),
  }),
  vjp: ({ inputs: [c] }, dy) => [null, ops.where(c!, dy, 0), ops.where(c!, 0, dy)],
});

/** Elementwise `condition ? a : b` with broadcasting. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('Where', a, b);
  return bind(whereOp, [checkTensor('Where', condition, 'condition'), x, y], {});
}

const castOp = defineOp<'Cast'>({
  name: 'Cast',
  infer: ([x], { dtype }) => ({ shape: x!.shape, dtype }),
  vjp: ({ inputs: [x] }, dy) => [ops.cast(dy, x!.dtype)],
});

/** The tensor converted to `dtype` (the same tensor when it already has it). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : bind(castOp, [checkTensor('Cast', x)], { dtype });
}

const contiguousOp = defineOp<'Contiguous'>({
  name: 'Contiguous',
  infer: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  vjp: (_, dy) => [dy],
});

/** A contiguous copy of `x` (recorded for autograd, like `clone()`). */
export function contiguous(x: Tensor): Tensor {
  return bind(contiguousOp, [checkTensor('Contiguous', x)], {});
}
