/**
 * One WebGPU device as the backend uses it: pipelines cached by their WGSL source, dispatches
 * recorded into one command encoder and submitted together (on a read, or every
 * MAX_PENDING_DISPATCHES), and failures — a shader that does not compile, a lost device — kept
 * as a NablaError that names the op and is raised by the next kernel or read, so nothing hangs.
 */
import { NablaError, opError } from '../../core/errors.js';
import { envVar } from '../../engine/node.js';

import { BindGroupCache } from './bindgroups.js';
import { bucketBytes, GpuPool, USAGE } from './pool.js';

/** GPUMapMode.READ (Node has no such global). */
const MAP_MODE_READ = 0x1;

/** Dispatches recorded before a submit: enough to amortise it, few enough to keep the GPU busy. */
const MAX_PENDING_DISPATCHES = 128;
/** Uniform buffers of kernel parameters kept for reuse (a training step repeats its shapes). */
const MAX_CACHED_PARAMS = 4096;
const MAX_CACHED_BIND_GROUPS = 4096;
/** Read buffers kept for reuse: a few of each size, none large. */
const MAX_KEPT_STAGING = 4;
const MAX_KEPT_STAGING_BYTES = 1 << 20;

export interface Dispatch {
  /** For errors: the op the kernel computes. */
  readonly op: string;
  readonly source: string;
  /** Storage buffers: the output first (read-write), then the inputs (read-only). */
  readonly buffers: readonly GPUBuffer[];
  /** Shapes, strides and offsets, as 32-bit words (read as a uniform array of vec4<u32>). */
  readonly params: Uint32Array;
  readonly workgroups: readonly [number, number?, number?];
}

export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<
    number,
    { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }
  >();
  private readonly paramBuffers = new Map<string, GPUBuffer>();
  private readonly bindGroups = new BindGroupCache(
    (params, buffers) =>
      this.device.createBindGroup({
        layout: this.layout(buffers.length).group,
        entries: [params, ...buffers].map((buffer, binding) => ({ binding, resource: { buffer } })),
      }),
    MAX_CACHED_BIND_GROUPS,
  );
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private submitted = 0;
  /** Buffers freed while recorded work may still use them: destroyed right after it is submitted. */
  private doomed: GPUBuffer[] = [];
  private failure: NablaError | null = null;
  /** Whether `failure` is an error seen only as a consequence (a compile error replaces it). */
  private failureIsConsequence = false;
  /** The op whose kernel is being recorded, for errors the device raises while it is. */
  private recording = '';
  /** Read buffers kept for reuse, by size bucket. */
  private readonly staging = new Map<number, GPUBuffer[]>();
  /** Tensors' memory on this device. */
  readonly pool = new GpuPool(this);

  constructor(
    readonly device: GPUDevice,
    /** A description of the adapter, for messages and benchmark tables. */
    readonly adapterName: string,
  ) {
    // Errors no scope caught (an invalid dispatch, say) fail the next kernel or read too.
    device.onuncapturederror = (event) => {
      if (this.failure) return;
      const message = event.error.message.split('\n')[0]!;
      this.failure = this.recording
        ? opError(this.recording, `WebGPU error: ${message}`)
        : new NablaError(`WebGPU error: ${message}`);
      this.failureIsConsequence = true;
    };
    void device.lost.then((info) => {
      this.failure ??= new NablaError(
        `the WebGPU device was lost (${info.message || info.reason}); move the work to 'cpu' or start again`,
      );
    });
  }

  /** Submits made so far (work recorded since the last one belongs to the next). */
  get submits(): number {
    return this.submitted;
  }

  /** Throws the first failure seen so far (a compile error, a lost device). */
  check(): void {
    if (this.failure) throw this.failure;
  }

  createBuffer(bytes: number, usage: number, mappedAtCreation = false): GPUBuffer {
    this.check();
    return this.device.createBuffer({ size: bytes, usage, mappedAtCreation });
  }

  /** A storage buffer holding `data` (written at creation, so no queued work can see it early). */
  upload(data: ArrayBufferView, usage: number): GPUBuffer {
    const bytes = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
    const buffer = this.createBuffer(bytes, usage, true);
    const bytesIn = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    new Uint8Array(buffer.getMappedRange()).set(bytesIn);
    buffer.unmap();
    return buffer;
  }

  /** Records one kernel launch; it runs at the next submit. */
  dispatch({ op, source, buffers, params, workgroups }: Dispatch): void {
    this.check();
    this.recording = op;
    const pipeline = this.pipeline(op, source, buffers.length);
    const bindGroup = this.bindGroups.get(this.paramBuffer(params), buffers);
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    this.recording = '';
    if (++this.pending >= MAX_PENDING_DISPATCHES) this.submit();
  }

  /** Records a buffer-to-buffer copy after the dispatches so far. */
  copy(from: GPUBuffer, fromByte: number, to: GPUBuffer, toByte: number, bytes: number): void {
    this.check();
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(from, fromByte, to, toByte, bytes);
  }

  /** Sends everything recorded to the GPU. */
  submit(): void {
    this.endPass();
    if (!this.encoder) return;
    const commands = this.encoder.finish();
    this.encoder = null;
    this.pending = 0;
    this.device.queue.submit([commands]);
    this.submitted++;
    // The device keeps a destroyed buffer until the work submitted before it is done.
    for (const buffer of this.doomed) buffer.destroy();
    this.doomed = [];
  }

  /** `bytes` bytes of `buffer` from `byte`, once every recorded kernel has written them. */
  async read(buffer: GPUBuffer, byte: number, bytes: number): Promise<ArrayBuffer> {
    const size = bucketBytes(bytes);
    const staging =
      this.staging.get(size)?.pop() ?? this.createBuffer(size, USAGE.MAP_READ | USAGE.COPY_DST);
    let reusable = false;
    try {
      this.copy(buffer, byte, staging, 0, bytes);
      this.submit();
      await staging.mapAsync(MAP_MODE_READ, 0, bytes);
      this.check();
      const data = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
      reusable = true;
      return data;
    } catch (error) {
      this.check();
      throw error;
    } finally {
      this.releaseStaging(staging, size, reusable);
    }
  }

  /** Keeps a small read buffer for the next read of its size (creating one costs ~80 µs on an H200). */
  private releaseStaging(staging: GPUBuffer, size: number, reusable: boolean): void {
    let free = this.staging.get(size);
    if (!free) this.staging.set(size, (free = []));
    if (reusable && size <= MAX_KEPT_STAGING_BYTES && free.length < MAX_KEPT_STAGING)
      free.push(staging);
    else staging.destroy();
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /**
   * Destroys a buffer once the work recorded so far is submitted (a submit of its own would cost a
   * round to the driver per freed buffer), and forgets the bind groups that use it.
   */
  destroy(buffer: GPUBuffer): void {
    this.bindGroups.forget(buffer);
    if (this.encoder) this.doomed.push(buffer);
    else buffer.destroy();
  }

  /** The uniform buffer of `params`, made once per distinct contents. */
  private paramBuffer(params: Uint32Array): GPUBuffer {
    const key = params.join(',');
    let buffer = this.paramBuffers.get(key);
    if (buffer) {
      // Most recently used last, so the oldest goes first when the cache is full.
      this.paramBuffers.delete(key);
    } else {
      // A uniform array of vec4<u32> needs whole vec4s.
      const padded = new Uint32Array(Math.max(4, Math.ceil(params.length / 4) * 4));
      padded.set(params);
      buffer = this.upload(padded, USAGE.UNIFORM);
      if (this.paramBuffers.size >= MAX_CACHED_PARAMS) {
        const [oldest, old] = this.paramBuffers.entries().next().value!;
        this.paramBuffers.delete(oldest);
        this.destroy(old);
      }
    }
    this.paramBuffers.set(key, buffer);
    return buffer;
  }

  private layout(storageBuffers: number): {
    group: GPUBindGroupLayout;
    pipeline: GPUPipelineLayout;
  } {
    let layout = this.layouts.get(storageBuffers);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStageCompute, buffer: { type: 'uniform' } },
      ];
      for (let i = 0; i < storageBuffers; i++)
        entries.push({
          binding: i + 1,
          visibility: GPUShaderStageCompute,
          buffer: { type: i === 0 ? 'storage' : 'read-only-storage' },
        });
      const group = this.device.createBindGroupLayout({ entries });
      layout = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(storageBuffers, layout);
    }
    return layout;
  }

  private pipeline(op: string, source: string, storageBuffers: number): GPUComputePipeline {
    let pipeline = this.pipelines.get(source);
    if (pipeline) return pipeline;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: source });
    if (envVar('NABLA_WGSL_DEBUG'))
      void module.getCompilationInfo().then(({ messages }) => {
        if (messages.length)
          console.error(
            messages.map((m) => `${m.lineNum}: ${m.message}`),
            source,
          );
      });
    pipeline = this.device.createComputePipeline({
      layout: this.layout(storageBuffers).pipeline,
      compute: { module, entryPoint: 'main' },
    });
    void this.device.popErrorScope().then((error) => {
      if (!error || (this.failure && !this.failureIsConsequence)) return;
      this.failure = opError(
        op,
        `the WebGPU kernel did not compile (${error.message.split('\n')[0]})`,
      );
      this.failureIsConsequence = false;
    });
    this.pipelines.set(source, pipeline);
    return pipeline;
  }
}

/** GPUShaderStage.COMPUTE. */
const GPUShaderStageCompute = 0x4;
