/**
 * The WebGPU backend: tensors in GPU buffers, every primitive as a generated WGSL kernel, reads
 * asynchronous. In browsers it uses `navigator.gpu`; in Node, the `webgpu` package (Dawn), loaded
 * on first use.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { NablaError } from '../../core/errors.js';
import type { Backend } from '../backend.js';
import type { KernelTable } from '../primitives.js';
import { GpuContext } from './context.js';
import { elementwiseKernel, hasTemplates, TEMPLATES, type ElementwiseRun } from './elementwise.js';
import {
  catKernel,
  gatherKernel,
  numelKernel,
  scatterAddKernel,
  unsliceKernel,
} from './indexing.js';
import { matmulKernel } from './matmul.js';
import { col2imKernel, im2colKernel, windowArgmaxKernel } from './patches.js';
import type { GpuBuffer, GpuMemoryStats } from './pool.js';
import { STORAGE_USAGE } from './pool.js';
import { reduceKernel } from './reduce.js';
import { HostScalars } from './scalars.js';
import { float64Refused, type View } from './wgsl.js';

export type { GpuMemoryStats } from './pool.js';

export interface WebGpuBackend extends Backend<GpuBuffer> {
  readonly context: GpuContext;
  memory(): GpuMemoryStats & Readonly<Record<string, number>>;
}

/** A name in a variable, so that bundlers for browsers leave Dawn's Node-only package out. */
const DAWN_PACKAGE = 'webgpu';

/** Kept reachable for the life of the process: Dawn aborts once the object create() made is collected. */
let nodeGpu: GPU | null = null;

async function gpuEntryPoint(): Promise<GPU> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu) return browserGpu;
  if (nodeGpu) return nodeGpu;
  const isNode = typeof (globalThis as { process?: unknown }).process === 'object';
  if (!isNode) throw new NablaError("this browser has no WebGPU (navigator.gpu); use 'cpu'");
  let dawn: { create(options: string[]): GPU };
  try {
    dawn = (await import(DAWN_PACKAGE)) as typeof dawn;
  } catch (error) {
    throw new NablaError(
      `WebGPU in Node needs the optional package 'webgpu' (Dawn): npm install webgpu (${(error as Error).message})`,
    );
  }
  return (nodeGpu = dawn.create([]));
}

async function requestDevice(): Promise<{ device: GPUDevice; name: string }> {
  const gpu = await gpuEntryPoint();
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new NablaError(
      "no WebGPU adapter was found: this machine needs a GPU driver with Vulkan, Metal or D3D12 (on Linux without a GPU, Mesa's mesa-vulkan-drivers from bookworm-backports); use 'cpu'",
    );
  }
  const { limits } = adapter;
  // The defaults cap one buffer at 128 MiB and a kernel at 8 buffers; ask for what the adapter has.
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ');
  return { device, name: name || 'unknown adapter' };
}

function toHost(dtype: DType, bytes: ArrayBuffer): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(bytes);
    case 'int32':
      return new Int32Array(bytes);
    case 'bool':
      return Uint8Array.from(new Uint32Array(bytes));
    case 'float64':
      throw float64Refused('read');
  }
}

export async function createWebGpuBackend(): Promise<WebGpuBackend> {
  const { device, name } = await requestDevice();
  const context = new GpuContext(device, name);
  const { pool } = context;
  const maxInputs = device.limits.maxStorageBuffersPerShaderStage - 1;
  const elementwise = (op: keyof typeof TEMPLATES, arity: number): ElementwiseRun =>
    elementwiseKernel(context, op, {
      op,
      args: Array.from({ length: arity }, (_, input) => ({ input })),
    });
  const unary = (op: keyof typeof TEMPLATES) => elementwise(op, 1);
  const binary = (op: keyof typeof TEMPLATES) => elementwise(op, 2);
  const fromHost = (data: TypedArray): GpuBuffer => {
    const dtype = dtypeOf(data);
    const words = data instanceof Uint8Array ? Uint32Array.from(data) : data;
    return pool.adopt(context.upload(words, STORAGE_USAGE), dtype, data.length);
  };
  const scalars = new HostScalars(context);
  /** A kernel that also takes 0-d CPU operands (a step count, a learning rate). */
  const readingHostScalars = <K extends AnyKernel>(kernel: K): K =>
    ((out, inputs, attrs) => {
      if (inputs.every((x) => isGpuBuffer(x.buffer))) return kernel(out, inputs, attrs);
      kernel(
        out,
        inputs.map((x) => (isGpuBuffer(x.buffer) ? x : scalars.view(x))),
        attrs,
      );
    }) as AnyKernel as K;
  const table: KernelTable<GpuBuffer> = {
    Neg: unary('Neg'),
    Square: unary('Square'),
    Exp: unary('Exp'),
    Log: unary('Log'),
    Sqrt: unary('Sqrt'),
    Abs: unary('Abs'),
    Sign: unary('Sign'),
    Round: unary('Round'),
    Tanh: unary('Tanh'),
    Sigmoid: unary('Sigmoid'),
    Relu: unary('Relu'),
    Add: binary('Add'),
    Sub: binary('Sub'),
    Mul: binary('Mul'),
    Div: binary('Div'),
    Pow: binary('Pow'),
    Maximum: binary('Maximum'),
    Minimum: binary('Minimum'),
    Equal: binary('Equal'),
    NotEqual: binary('NotEqual'),
    Less: binary('Less'),
    LessEqual: binary('LessEqual'),
    Greater: binary('Greater'),
    GreaterEqual: binary('GreaterEqual'),
    Where: elementwise('Where', 3),
    // Casts are the store's conversion; a copy is the identity.
    Cast: unary('Identity'),
    Contiguous: unary('Identity'),
    Sum: reduceKernel(context, 'Sum'),
    Max: reduceKernel(context, 'Max'),
    Min: reduceKernel(context, 'Min'),
    ArgMax: reduceKernel(context, 'ArgMax'),
    ArgMin: reduceKernel(context, 'ArgMin'),
    MatMul: matmulKernel(context),
    Numel: numelKernel(context),
    Cat: catKernel(context),
    Gather: gatherKernel(context),
    ScatterAdd: scatterAddKernel(context),
    Unslice: unsliceKernel(context),
    Im2Col: im2colKernel(context),
    Col2Im: col2imKernel(context),
    WindowArgMax: windowArgmaxKernel(context),
  };
  const kernels = Object.fromEntries(
    Object.entries(table).map(([name, kernel]) => [name, readingHostScalars(kernel as AnyKernel)]),
  ) as unknown as KernelTable<GpuBuffer>;
  const fused = new Map<string, ElementwiseRun>();
  const fusedProducts = new Map<string, ElementwiseRun>();
  return {
    device: 'webgpu',
    context,
    dtypes: ['float32', 'int32', 'bool'],
    alloc: (dtype, size) => pool.alloc(dtype, size),
    free: (buffer) => pool.release(buffer),
    fromHost,
    readSync: () => null,
    read: async (buffer, { offset, size }) => {
      if (size === 0) return toHost(buffer.dtype, new ArrayBuffer(0));
      return toHost(buffer.dtype, await context.read(buffer.gpu, offset * 4, size * 4));
    },
    fuse: (expr, arity) => {
      if (arity > maxInputs || !hasTemplates(expr)) return null;
      const key = JSON.stringify(expr);
      let kernel = fused.get(key);
      if (!kernel)
        fused.set(key, (kernel = readingHostScalars(elementwiseKernel(context, 'Fused', expr))));
      return kernel;
    },
    fuseMatmul: (expr, arity, product) => {
      if (arity + 1 > maxInputs || !hasTemplates(expr)) return null;
      const key = `${product}:${JSON.stringify(expr)}`;
      let kernel = fusedProducts.get(key);
      if (!kernel)
        fusedProducts.set(
          key,
          (kernel = readingHostScalars(matmulKernel(context, { expr, product }))),
        );
      return kernel;
    },
    kernels,
    memory: () => ({ ...pool.stats() }),
    describe: () => context.adapterName,
  };
}

type AnyKernel = (out: View, inputs: readonly View[], attrs: never) => void;

function isGpuBuffer(buffer: unknown): buffer is GpuBuffer {
  return typeof buffer === 'object' && buffer !== null && 'gpu' in buffer;
}

function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'bool';
  throw float64Refused('tensor');
}
