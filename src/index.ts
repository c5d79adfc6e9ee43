/**
 * nabla — the eager, PyTorch-style API.
 *
 * @example
 * import * as nb from 'nabla';
 * const w = nb.tensor(3, { requiresGrad: true });
 * const J = nb.tensor(5).sub(w.mul(2).add(4)).square();
 * J.backward(); // w.grad = −20... see README for the lecture's worked example
 */
export { Tensor, type TensorLike, type NestedArray } from './tensor/tensor.js';
export {
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  type TensorOptions,
  type CreationOptions,
  type TensorData,
  type NestedData,
} from './tensor/create.js';
export { manualSeed } from './engine/random.js';
export { noGrad, enableGrad, isGradEnabled } from './engine/grad-mode.js';
export { useDevice, startDevice, getDefaultDevice, deviceInfo, memory } from './engine/devices.js';
export { getNumThreads, setNumThreads } from './backends/wasm/threads.js';
export type { Device } from './backends/backend.js';
export type { DType, TypedArray } from './core/dtype.js';
export type { Shape } from './core/shape.js';
export { NablaError } from './core/errors.js';
export { registerGradient, type OpContext, type Vjp, type TapeNode } from './ops/define.js';
export { grad, type GradOptions, type BackwardOptions } from './autograd/backward.js';
export { gradcheck, type GradcheckOptions, type GradcheckReport } from './autograd/gradcheck.js';
export { customOp, type CustomOpSpec } from './autograd/custom-op.js';
export {
  add,
  sub,
  mul,
  div,
  neg,
  pow,
  square,
  sqrt,
  exp,
  log,
  abs,
  sign,
  clamp,
  round,
  maximum,
  minimum,
  sigmoid,
  tanh,
  relu,
  leakyRelu,
  softmax,
  logSoftmax,
  matmul,
  transpose,
  permute,
  reshape,
  view,
  flatten,
  squeeze,
  unsqueeze,
  expand,
  cat,
  stack,
  slice,
  narrow,
  gather,
  scatterAdd,
  indexSelect,
  where,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  sum,
  mean,
  max,
  min,
  argmax,
  argmin,
  cast,
  contiguous,
} from './ops/index.js';

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as datasets from './datasets/index.js';
export * as metrics from './train/index.js';
export {
  EarlyStopping,
  History,
  ProgressBar,
  type EarlyStoppingOptions,
  type EpochRecord,
} from './train/callbacks.js';
export {
  fit,
  evaluate,
  evaluateAsync,
  type FitOptions,
  type Evaluation,
  type LossFn,
} from './train/fit.js';
export { save, load, serialize, deserialize } from './io/safetensors.js';
export * as viz from './viz/index.js';
export { jit, type JitOptions, type JitResult } from './compile/jit.js';
export {
  explain,
  type Explanation,
  type ExplainOptions,
  type NodeStep,
  type EdgeStep,
} from './explain/explain.js';
export * as onnx from './onnx/index.js';
