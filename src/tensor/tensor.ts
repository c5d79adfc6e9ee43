/**
 * The one Tensor class: a strided view over a device buffer, plus autograd state. Methods delegate to
 * the op functions of src/ops, so `a.add(b)` and `nb.add(a, b)` are the same code.
 */
import type { Backend, Device } from '../backends/backend.js';
import { isFloat, type DType, type TypedArray } from '../core/dtype.js';
import { displayShape, formatShape, NablaError, opError } from '../core/errors.js';
import {
  contiguousStrides,
  shapesEqual,
  sizeOf,
  type Shape,
  type ShapeLike,
} from '../core/shape.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { track } from '../engine/scope.js';
import { activeTrace } from '../engine/trace.js';
import { allocate, Storage } from '../engine/storage.js';
import type { TapeNode } from '../ops/define.js';
import type { Graph } from '../graph/graph.js';
import * as ops from '../ops/index.js';
import { backward, type BackwardOptions } from '../autograd/backward.js';
import { formatElements } from './print.js';

export type TensorLike = Tensor | number;
export type NestedArray = number | NestedArray[];

/** Host copies of small uploads to asynchronous devices (see Tensor.uploadedValues). */
const uploadedValues = new WeakMap<Tensor, TypedArray>();
const UPLOADED_VALUES_MAX = 16;

/** Tensors made so far: a tensor's serial tells whether it existed before some moment. */
let tensorsMade = 0;

export class Tensor {
  /** The count of tensors made before it (nb.jit tells closed-over values from its own by it). */
  readonly serial = tensorsMade++;
  /** The serial the next tensor will get. */
  static get nextSerial(): number {
    return tensorsMade;
  }
  /** The gradient accumulated by `backward()`, on leaves (and on tensors that `retainGrad()`). */
  grad: Tensor | null = null;
  /** The recorded op that produced this tensor; null for leaves. */
  gradFn: TapeNode | null = null;
  private needsGrad = false;
  private keepsGrad = false;
  private disposed = false;

  /**
   * @param storage the device memory; null for a symbolic tensor (a graph node's output, whose
   *   value exists only while a Session runs the graph)
   * @param graph the graph a symbolic tensor belongs to
   */
  constructor(
    private readonly storage: Storage | null,
    readonly shape: Shape,
    readonly strides: readonly number[],
    readonly offset: number,
    readonly dtype: DType,
    readonly graph: Graph | null = null,
    private readonly symbolicBackend: Backend | null = null,
  ) {
    if (storage) {
      storage.retain();
      track(this);
    }
  }

  /** A tensor of `graph` with no value yet; unknown dimensions are -1. */
  static symbolic(shape: Shape, dtype: DType, graph: Graph, backend: Backend): Tensor {
    return new Tensor(null, shape, contiguousStrides(shape), 0, dtype, graph, backend);
  }

  get isSymbolic(): boolean {
    return this.storage === null;
  }

  /**
   * A fresh contiguous tensor whose contents are unspecified (an op's output, before its kernel);
   * `op` is named if the memory cannot be had.
   */
  static empty(shape: Shape, dtype: DType, backend: Backend, op = 'empty'): Tensor {
    const storage = new Storage(backend, allocate(op, backend, dtype, shape));
    return new Tensor(storage, shape, contiguousStrides(shape), 0, dtype);
  }

  /** Wraps host data (not copied on the CPU) as a contiguous tensor of `shape`. */
  static fromHost(data: TypedArray, shape: Shape, dtype: DType, backend: Backend): Tensor {
    const storage = new Storage(backend, backend.fromHost(data));
    const t = new Tensor(storage, shape, contiguousStrides(shape), 0, dtype);
    if (data.length <= UPLOADED_VALUES_MAX && backend.readSync(storage.buffer) === null)
      uploadedValues.set(t, data.slice());
    return t;
  }

  /**
   * The values of a small tensor made from host data on a device without synchronous reads, as
   * they were when it was made (nb.jit compares the numbers a trace captured); null otherwise.
   * @internal
   */
  static uploadedValues(t: Tensor): TypedArray | null {
    return uploadedValues.get(t) ?? null;
  }

  /**
   * Another view of this tensor's storage with any strides (for view ops and plans; users call
   * `view`, which checks the layout).
   * @internal
   */
  restride(shape: Shape, strides: readonly number[], offset: number, dtype = this.dtype): Tensor {
    return new Tensor(this.storage, shape, strides, offset, dtype);
  }

  get backend(): Backend {
    return this.storage?.backend ?? this.symbolicBackend!;
  }
  get device(): Device {
    return this.backend.device;
  }
  /** The device buffer (kernels read it); throws once the tensor is disposed. */
  get buffer(): unknown {
    if (!this.storage) throw this.symbolicRead('buffer');
    const buffer = this.storage.buffer;
    if (this.disposed || buffer === null) throw new NablaError('this tensor was disposed');
    return buffer;
  }

  private symbolicRead(op: string): NablaError {
    return opError(
      op,
      `this is a symbolic tensor of a graph, with no value outside a session: evaluate it with sess.run(tensor, feeds)`,
    );
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get isDisposed(): boolean {
    return this.disposed || this.storage?.buffer === null;
  }
  get isContiguous(): boolean {
    const expected = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d === 1 || this.strides[i] === expected[i]);
  }

  // ---- autograd state ----

  get requiresGrad(): boolean {
    return this.needsGrad;
  }
  set requiresGrad(value: boolean) {
    if (value && !isFloat(this.dtype)) {
      throw opError(
        'requiresGrad',
        `only floating-point tensors can require grad, not ${this.dtype}`,
      );
    }
    if (!value && this.gradFn) {
      throw opError(
        'requiresGrad',
        'cannot turn off requiresGrad on a non-leaf tensor; use detach()',
      );
    }
    this.needsGrad = value;
  }
  /** Sets requiresGrad in place and returns this tensor, like `requires_grad_()`. */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }
  /** Makes backward() keep this non-leaf tensor's gradient in `.grad`. */
  retainGrad(): this {
    this.keepsGrad = true;
    return this;
  }
  get retainsGrad(): boolean {
    return this.keepsGrad || (this.isLeaf && this.needsGrad);
  }
  /**
   * Connects this tensor to the op that produced it (called by the dispatcher). In a graph every
   * output has its node; `differentiable` says whether gradients flow through it.
   */
  attachGradFn(node: TapeNode, differentiable = true): void {
    this.gradFn = node;
    this.needsGrad = differentiable;
  }

  /**
   * Computes the gradient of this tensor w.r.t. graph leaves and accumulates it in their `.grad`.
   * A non-scalar tensor needs `gradOutput` (∂L/∂this).
   *
   * @example const J = w.mul(x).add(b).sub(y).square(); J.backward(); w.grad!.item(); // 20
   */
  backward(gradOutput?: Tensor | BackwardOptions, options: BackwardOptions = {}): void {
    if (gradOutput !== undefined && !(gradOutput instanceof Tensor)) {
      // backward({ retainGraph: true }), as PyTorch's keyword arguments read.
      if (typeof gradOutput !== 'object' || gradOutput === null)
        throw opError(
          'backward',
          `expected a gradient tensor or an options object, got ${String(gradOutput)} (wrap a number: nb.tensor(${String(gradOutput)}))`,
        );
      return backward([this], undefined, gradOutput);
    }
    backward([this], gradOutput ? [gradOutput] : undefined, options);
  }

  /** A tensor sharing this one's storage, cut from the graph (in graph mode, a stop-gradient node). */
  detach(): Tensor {
    return ops.stopGradient(this);
  }

  /**
   * Copies `source`'s values into this tensor's memory (converting dtype), like `tensor.copy_()`.
   * Not recorded by autograd: on a tensor that requires grad, call it inside `nb.noGrad`.
   */
  copy_(source: Tensor): this {
    if (!shapesEqual(source.shape, this.shape)) {
      throw opError(
        'copy_',
        `source of shape ${formatShape(source.shape)} does not match ${formatShape(this.shape)}`,
      );
    }
    if (this.requiresGrad && isGradEnabled()) {
      throw opError(
        'copy_',
        'an in-place copy into a tensor that requires grad must run inside nb.noGrad',
      );
    }
    if (source.isSymbolic && !this.isSymbolic) {
      // nb.jit: the value exists only when the trace replays; record the assignment instead.
      const trace = activeTrace();
      if (!trace) {
        throw opError(
          'copy_',
          'a symbolic value can only be copied into an eager tensor while nb.jit traces',
        );
      }
      trace.assignments.push([this, source]);
      return this;
    }
    if (source.device !== this.device) {
      throw opError('copy_', `source is on ${source.device}, this tensor on ${this.device}`);
    }
    this.backend.kernels.Contiguous(this, [source], {});
    return this;
  }

  /** Frees this tensor's handle on its storage; the storage goes when its last view goes. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.storage?.release();
  }

  // ---- reads ----

  /**
   * The host memory behind this tensor; with `share`, just this tensor's elements, as a view that
   * may be handed to user code.
   */
  private hostArray(op: string, share?: { offset: number; size: number }): TypedArray {
    if (!this.storage) throw this.symbolicRead(op);
    if (this.isDisposed) throw opError(op, 'this tensor was disposed and can no longer be read');
    const array = this.backend.readSync(this.storage.buffer, share);
    if (!array) {
      throw opError(op, `a ${this.device} tensor cannot be read synchronously; use await t.data()`);
    }
    return array;
  }

  /**
   * The elements as a typed array, synchronously (CPU tensors). For a contiguous tensor this is a
   * view sharing memory with the tensor, like `tensor.numpy()`; other layouts return a copy.
   */
  dataSync(): TypedArray {
    if (this.isContiguous) return this.hostArray('dataSync', this);
    return ops.contiguous(this.detach()).dataSync();
  }

  /** The elements as a typed array, on any device. */
  async data(): Promise<TypedArray> {
    if (!this.storage) throw this.symbolicRead('data');
    if (this.isDisposed)
      throw opError('data', 'this tensor was disposed and can no longer be read');
    const source = this.isContiguous ? this : ops.contiguous(this.detach());
    return source.backend.read(source.buffer, source);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    const array = this.hostArray('item');
    if (this.size !== 1) {
      const shape = JSON.stringify(this.shape);
      throw opError(
        'item',
        `only one-element tensors can be read as a number, this one has shape ${shape}`,
      );
    }
    return array[this.offset]!;
  }

  /** The single value of a one-element tensor, on any device. */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) {
      throw opError(
        'itemAsync',
        `only one-element tensors can be read as a number, this one has shape ${formatShape(this.shape)}`,
      );
    }
    return (await this.data())[0]!;
  }

  /** The elements as nested JS arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    return nest(this.dataSync(), this.shape);
  }

  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  /**
   * PyTorch's way: the elements (a summary with `...` past about a thousand), then the shape, dtype
   * and device, and the autograd state. Node's console and REPL print the same.
   */
  toString(): string {
    const grad = this.gradFn
      ? `, gradFn=${this.gradFn.name}`
      : this.requiresGrad
        ? ', requiresGrad=true'
        : '';
    const fields = `shape=${displayShape(this.shape)}, dtype=${this.dtype}, device=${this.device}${grad}`;
    if (this.isSymbolic) return `tensor(<symbolic ${this.gradFn?.name ?? 'leaf'}>, ${fields})`;
    if (this.isDisposed) return `tensor(<disposed>, ${fields})`;
    const host = this.storage && this.backend.readSync(this.storage.buffer);
    if (!host) return `tensor(<on ${this.device}: await t.data() to read>, ${fields})`;
    return `tensor(${formatElements(this, (i) => host[i]!)}, ${fields})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- operations (see src/ops for each one's documentation) ----

  add(other: TensorLike): Tensor {
    return ops.add(this, other);
  }
  sub(other: TensorLike): Tensor {
    return ops.sub(this, other);
  }
  mul(other: TensorLike): Tensor {
    return ops.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return ops.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return ops.pow(this, exponent);
  }
  maximum(other: TensorLike): Tensor {
    return ops.maximum(this, other);
  }
  minimum(other: TensorLike): Tensor {
    return ops.minimum(this, other);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  square(): Tensor {
    return ops.square(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  sign(): Tensor {
    return ops.sign(this);
  }
  round(): Tensor {
    return ops.round(this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return ops.clamp(this, min, max);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  leakyRelu(negativeSlope = 0.01): Tensor {
    return ops.leakyRelu(this, negativeSlope);
  }
  softmax(dim: number): Tensor {
    return ops.softmax(this, dim);
  }
  logSoftmax(dim: number): Tensor {
    return ops.logSoftmax(this, dim);
  }
  eq(other: TensorLike): Tensor {
    return ops.eq(this, other);
  }
  ne(other: TensorLike): Tensor {
    return ops.ne(this, other);
  }
  lt(other: TensorLike): Tensor {
    return ops.lt(this, other);
  }
  le(other: TensorLike): Tensor {
    return ops.le(this, other);
  }
  gt(other: TensorLike): Tensor {
    return ops.gt(this, other);
  }
  ge(other: TensorLike): Tensor {
    return ops.ge(this, other);
  }
  where(condition: Tensor, other: TensorLike): Tensor {
    return ops.where(condition, this, other);
  }
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return ops.sum(this, dim, keepdim);
  }
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    return ops.mean(this, dim, keepdim);
  }
  max(dim?: number, keepdim = false): Tensor {
    return ops.max(this, dim, keepdim);
  }
  min(dim?: number, keepdim = false): Tensor {
    return ops.min(this, dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return ops.argmax(this, dim, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return ops.argmin(this, dim, keepdim);
  }
  reshape(shape: ShapeLike): Tensor {
    return ops.reshape(this, shape);
  }
  /** The same memory in a new shape, like PyTorch's `view`: an error where that needs a copy. */
  view(shape: ShapeLike): Tensor {
    return ops.view(this, shape);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return ops.flatten(this, startDim, endDim);
  }
  squeeze(dim?: number): Tensor {
    return ops.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return ops.unsqueeze(this, dim);
  }
  expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return ops.transpose(this, dim0, dim1);
  }
  permute(dims: readonly number[]): Tensor {
    return ops.permute(this, dims);
  }
  /** The tensor with its dimensions reversed (the matrix transpose for 2-D tensors). */
  get T(): Tensor {
    return ops.permute(
      this,
      this.shape.map((_, i) => this.ndim - 1 - i),
    );
  }
  slice(dim: number, start?: number, end?: number, step?: number): Tensor {
    return ops.slice(this, dim, start, end, step);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return ops.narrow(this, dim, start, length);
  }
  gather(dim: number, index: Tensor): Tensor {
    return ops.gather(this, dim, index);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return ops.indexSelect(this, dim, index);
  }
  contiguous(): Tensor {
    return this.isContiguous ? this : ops.contiguous(this);
  }
  clone(): Tensor {
    return ops.contiguous(this);
  }
  /** A copy of this tensor as `dtype` (or this tensor when it already has that dtype). */
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  /** Moves to a device or converts to a dtype, like `tensor.to(...)`. */
  to(target: DType | Device): Tensor {
    return ops.to(this, target);
  }
  /** `to()` that also reads back from asynchronous devices: `await t.toAsync('cpu')`. */
  toAsync(target: DType | Device): Promise<Tensor> {
    return ops.toAsync(this, target);
  }
}

function nest(data: TypedArray, shape: Shape): NestedArray {
  if (shape.length === 0) return data[0]!;
  const build = (dim: number, offset: number): NestedArray[] => {
    const size = shape[dim]!;
    const inner = sizeOf(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < size; i++) {
      out.push(dim === shape.length - 1 ? data[offset + i]! : build(dim + 1, offset + i * inner));
    }
    return out;
  };
  return build(0, 0);
}
