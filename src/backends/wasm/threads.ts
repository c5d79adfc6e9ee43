/**
 * Worker threads that run WebAssembly kernels on the shared arena memory: one pool per memory,
 * shared by every kernel (the GEMM, the elementwise kernels).
 *
 * A job is a kernel and a list of chunks (the arguments of each call), written to an Atomics
 * control block, not sent as messages (postMessage costs ~35 µs). The calling thread and the
 * workers claim chunks one at a time from a shared counter until none is left, so a worker that
 * wakes late only takes fewer chunks: the caller never waits for a wake-up, only for the chunks
 * already under way. Idle workers poll a little before they sleep in Atomics.wait, so a burst of
 * jobs finds them awake. Kernels are registered by message (a compiled module and the export to
 * call), sent before their first job: a worker that meets a kernel number it does not know yet
 * reads the pending registrations synchronously (receiveMessageOnPort), in order.
 *
 * In Node the workers are worker_threads. In browsers they are Workers, started from inside a
 * Worker of a cross-origin-isolated page (SharedArrayBuffer, and Atomics.wait, which the page's
 * own thread may not call); they sleep in Atomics.waitAsync, so kernel registrations arrive as
 * ordinary messages between jobs, and a job whose kernel a worker has not received yet is left to
 * the others. Elsewhere, and with NABLA_NUM_THREADS=1, everything runs on the calling thread.
 * setNumThreads lowers how many of the started threads take part, job by job: the others skip
 * the job's chunks and go back to sleep.
 */
import { NablaError } from '../../core/errors.js';
import { envVar, optionalNodeModule } from '../../engine/node.js';
import { warn } from '../../engine/warn.js';

/**
 * The control block (Int32): the job number, its kernel, chunk count and argument count; the claim
 * counter (the job's tag in the high 16 bits, the next chunk in the low ones); how many chunks are
 * not finished; a failure flag; how many workers may take chunks (those of lower slots); one
 * "started" flag per worker; then each chunk's arguments.
 */
const [JOB, KERNEL, CHUNKS, ARGC, NEXT, REMAINING, FAILED, TAKERS, READY] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8,
];
const MAX_WORKERS = 64;
/** The most arguments a kernel run by the pool may take, and the most chunks in one job. */
export const MAX_KERNEL_ARGS = 28;
export const MAX_CHUNKS = 64;
const TABLE = READY + MAX_WORKERS;
/** NEXT while a job is being written: no job's tag, so nobody claims from it. */
const CLOSED = -1;
/** How long a job may take before we decide a worker is gone. */
const TIMEOUT_MS = 30_000;
const SPINS = 20_000;
/**
 * How long an idle worker polls for the next job before it sleeps: long enough to span the gaps
 * between the shared kernels of a training step (a step's small ops run on the main thread), short
 * enough not to hold a core for long after the work stops (OpenMP runtimes spin for longer). A
 * sleeping worker took 10–60 µs to wake on a 2-core VM, often longer than the kernel it was woken
 * for: W2 on two threads ran 8–100% faster with 1–2 ms than with 0.1 ms in 14 of 16 alternating
 * runs (bench/RESULTS.md).
 */
const IDLE_SPIN_MS = 2;

const tagOf = (job: number): number => (job & 0x7fff) << 16;

/**
 * How work is cut into chunks: `units` of it (panels, rows, elements), `perThread` chunks for each
 * thread (more than one each lets the others take over the share of a worker that wakes late;
 * streaming kernels run best in one long chunk each: W5 fused, 36 GB/s against 30 with four), of at
 * least `minChunk` units, cut at multiples of `granule` units.
 */
export interface Split {
  readonly units: number;
  readonly perThread: number;
  readonly minChunk?: number;
  readonly granule?: number;
}

/**
 * Claims chunks of the job tagged `tag` and runs them with `call(chunk)` until none is left;
 * `call` decrements REMAINING. Its source text is pasted into the workers' (below), so the calling
 * thread and the workers follow one protocol; it reads no outer names (the slots of NEXT and
 * CHUNKS come as arguments), so it survives a minifier's renaming.
 */
function claimChunks(
  ctl: Int32Array,
  tag: number,
  call: (chunk: number) => void,
  nextAt: number,
  chunksAt: number,
): void {
  for (;;) {
    const next = Atomics.load(ctl, nextAt);
    const chunk = next & 0xffff;
    if ((next & ~0xffff) !== tag || chunk >= Atomics.load(ctl, chunksAt)) return;
    // A chunk claimed keeps its job's table in place: the next job waits for REMAINING = 0.
    if (Atomics.compareExchange(ctl, nextAt, next, next + 1) === next) call(chunk);
  }
}

/** The worker's side (plain JavaScript, run with `eval`). */
const WORKER_SOURCE = `
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, slot } = workerData;
const [JOB, KERNEL, ARGC, NEXT, CHUNKS, REMAINING, FAILED, TAKERS] = [${JOB}, ${KERNEL}, ${ARGC}, ${NEXT}, ${CHUNKS}, ${REMAINING}, ${FAILED}, ${TAKERS}];
const kernels = [];
const ctl = new Int32Array(control);
const tagOf = ${tagOf.toString()};
const claimChunks = ${claimChunks.toString()};
function call(chunk) {
  try {
    const id = ctl[KERNEL];
    while (kernels.length <= id) {
      const { module, exportName } = receiveMessageOnPort(parentPort).message;
      kernels.push(new WebAssembly.Instance(module, { env: { memory } }).exports[exportName]);
    }
    const at = ${TABLE} + chunk * ${MAX_KERNEL_ARGS};
    kernels[id](...ctl.subarray(at, at + ctl[ARGC]));
  } catch {
    Atomics.store(ctl, FAILED, 1);
  }
  if (Atomics.sub(ctl, REMAINING, 1) === 1) Atomics.notify(ctl, REMAINING);
}
Atomics.store(ctl, ${READY} + slot, 1);
let seen = 0;
let taking = true;
for (;;) {
  // Jobs come in bursts (a training step's kernels): stay awake a moment before sleeping, since
  // waking a sleeping thread costs tens of microseconds. A worker left out sleeps at once.
  const until = performance.now() + (taking ? ${IDLE_SPIN_MS} : 0);
  while (Atomics.load(ctl, JOB) === seen && performance.now() < until);
  Atomics.wait(ctl, JOB, seen);
  seen = Atomics.load(ctl, JOB);
  taking = slot < Atomics.load(ctl, TAKERS);
  if (taking) claimChunks(ctl, tagOf(seen), call, NEXT, CHUNKS);
}
`;

/**
 * The browser's side: the same protocol, with registrations as messages and the idle wait
 * asynchronous (a Worker's event loop must turn for messages to arrive).
 */
const BROWSER_WORKER_SOURCE = `
const [JOB, KERNEL, ARGC, NEXT, CHUNKS, REMAINING, FAILED, TAKERS] = [${JOB}, ${KERNEL}, ${ARGC}, ${NEXT}, ${CHUNKS}, ${REMAINING}, ${FAILED}, ${TAKERS}];
const kernels = [];
let memory, ctl;
const tagOf = ${tagOf.toString()};
const claimChunks = ${claimChunks.toString()};
function call(chunk) {
  try {
    const at = ${TABLE} + chunk * ${MAX_KERNEL_ARGS};
    kernels[ctl[KERNEL]](...ctl.subarray(at, at + ctl[ARGC]));
  } catch {
    Atomics.store(ctl, FAILED, 1);
  }
  if (Atomics.sub(ctl, REMAINING, 1) === 1) Atomics.notify(ctl, REMAINING);
}
onmessage = async ({ data }) => {
  if (data.module) {
    kernels.push(new WebAssembly.Instance(data.module, { env: { memory } }).exports[data.exportName]);
    return;
  }
  memory = data.memory;
  ctl = new Int32Array(data.control);
  Atomics.store(ctl, ${READY} + data.slot, 1);
  let seen = 0;
  for (;;) {
    const wait = Atomics.waitAsync(ctl, JOB, seen);
    if (wait.async) await wait.value;
    seen = Atomics.load(ctl, JOB);
    const taking = data.slot < Atomics.load(ctl, TAKERS);
    if (taking && Atomics.load(ctl, KERNEL) < kernels.length) claimChunks(ctl, tagOf(seen), call, NEXT, CHUNKS);
  }
};
`;

/** Whether this is a browser Worker that may start worker threads of its own. */
function inIsolatedBrowserWorker(): boolean {
  const scope = globalThis as {
    WorkerGlobalScope?: unknown;
    crossOriginIsolated?: boolean;
    Worker?: unknown;
  };
  return (
    scope.WorkerGlobalScope !== undefined &&
    scope.crossOriginIsolated === true &&
    typeof scope.Worker === 'function' &&
    typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function'
  );
}

/**
 * NABLA_NUM_THREADS, else every core the runtime reports. More threads than cores only wait on each
 * other (a matmul ran 40× slower with 64 on 2 cores), so a larger setting is capped, with a warning.
 */
export function threadCount(): number {
  const browserCores = inIsolatedBrowserWorker()
    ? ((globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
        ?.hardwareConcurrency ?? 1)
    : 1;
  const cores = optionalNodeModule('node:os')?.availableParallelism() ?? browserCores;
  const requested = envVar('NABLA_NUM_THREADS');
  if (requested === undefined) return cores;
  const n = Number(requested);
  if (!Number.isInteger(n) || n < 1) {
    throw new NablaError(`NABLA_NUM_THREADS must be a whole number ≥ 1, got '${requested}'`);
  }
  if (n > cores)
    warn(`NABLA_NUM_THREADS=${n} is more than the ${cores} cores here: using ${cores} threads`);
  return Math.min(n, cores);
}

/** setNumThreads's setting, or null while NABLA_NUM_THREADS (or the cores) decides. */
let threadsInUse: number | null = null;

/** How many threads kernels share their work between: setNumThreads's setting, else threadCount. */
export function getNumThreads(): number {
  return threadsInUse ?? threadCount();
}

/**
 * Sets how many threads kernels share their work between, as torch.set_num_threads does: 1 runs
 * everything on the calling thread; at most the threads nabla may start (NABLA_NUM_THREADS, else
 * the cores), which start with the first kernel big enough to share.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new NablaError(`setNumThreads expects a whole number ≥ 1, got ${n}`);
  const most = threadCount();
  if (n > most)
    warn(
      `setNumThreads(${n}): nabla may start ${most} threads here (NABLA_NUM_THREADS, else the cores): using ${most}`,
    );
  threadsInUse = Math.min(n, most);
}

/** How many workers may take part in a job: all, unless setNumThreads said fewer threads. */
function workersAllowed(): number {
  return threadsInUse === null ? MAX_WORKERS : threadsInUse - 1;
}

/** Whether a kernel made for `threads` threads may share its work now (setNumThreads > 1). */
export function mayShare(threads: number): boolean {
  return threads > 1 && workersAllowed() > 0;
}

/** `units` cut into `n` ranges [from, to) of near-equal size, cut at multiples of `granule`. */
export function cutInto(units: number, n: number, granule = 1): [number, number][] {
  const bound = (i: number): number =>
    i === n ? units : granule * Math.floor((i * units) / (granule * n));
  return Array.from({ length: n }, (_, i) => [bound(i), bound(i + 1)]);
}

/** The pool of each memory (null where threads are not available). */
const pools = new WeakMap<WebAssembly.Memory, WorkerPool | null>();

/** What the pool posts to every worker: the kernel with the next number. */
interface Registration {
  module: WebAssembly.Module;
  exportName: string;
}

export class WorkerPool {
  private readonly control = new Int32Array(
    new SharedArrayBuffer(4 * (TABLE + MAX_CHUNKS * MAX_KERNEL_ARGS)),
  );
  private readonly workers: { postMessage(message: Registration): void }[] = [];
  private kernels = 0;
  /** Each registered kernel's number, by module and export. */
  private readonly ids = new WeakMap<WebAssembly.Module, Map<string, number>>();
  private job = 0;
  private broken = false;

  private constructor(readonly size: number) {}

  /**
   * The pool of `workers` threads over `memory`, started at the first call for that memory; null
   * where threads are not available.
   */
  static forMemory(memory: WebAssembly.Memory, workers: number): WorkerPool | null {
    if (!pools.has(memory)) pools.set(memory, WorkerPool.create(memory, workers));
    return pools.get(memory)!;
  }

  private static create(memory: WebAssembly.Memory, workers: number): WorkerPool | null {
    if (workers < 1) return null;
    const threads = optionalNodeModule('node:worker_threads');
    if (!threads) return inIsolatedBrowserWorker() ? WorkerPool.inBrowser(memory, workers) : null;
    const pool = new WorkerPool(Math.min(workers, MAX_WORKERS));
    Atomics.store(pool.control, NEXT, CLOSED);
    for (let slot = 0; slot < pool.size; slot++) {
      const worker = new threads.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { memory, control: pool.control.buffer, slot },
      });
      worker.unref(); // an idle pool never keeps the process alive
      worker.on('error', () => (pool.broken = true));
      pool.workers.push(worker);
    }
    return pool;
  }

  private static inBrowser(memory: WebAssembly.Memory, workers: number): WorkerPool {
    const pool = new WorkerPool(Math.min(workers, MAX_WORKERS));
    Atomics.store(pool.control, NEXT, CLOSED);
    const url = URL.createObjectURL(new Blob([BROWSER_WORKER_SOURCE], { type: 'text/javascript' }));
    for (let slot = 0; slot < pool.size; slot++) {
      const worker = new Worker(url);
      worker.onerror = () => (pool.broken = true);
      worker.postMessage({ memory, control: pool.control.buffer, slot });
      pool.workers.push(worker);
    }
    return pool;
  }

  /** The number run() knows `exportName` of `module` by, registered with the workers once. */
  kernelId(module: WebAssembly.Module, exportName: string): number {
    let byExport = this.ids.get(module);
    if (!byExport) this.ids.set(module, (byExport = new Map()));
    let id = byExport.get(exportName);
    if (id === undefined) {
      for (const worker of this.workers) worker.postMessage({ module, exportName });
      byExport.set(exportName, (id = this.kernels++));
    }
    return id;
  }

  /**
   * Runs `exportName` of `module` over the work `split` describes, on this thread (`here` runs a
   * chunk's arguments) and the ready workers; `argsOf(from, to)` are the arguments for units
   * [from, to). Returns false, having run nothing, when no worker is ready.
   */
  share(
    module: WebAssembly.Module,
    exportName: string,
    { units, perThread, minChunk = 1, granule = 1 }: Split,
    argsOf: (from: number, to: number) => number[],
    here: (args: readonly number[]) => void,
  ): boolean {
    const ready = this.ready;
    if (ready === 0) return false;
    const n = Math.max(
      1,
      Math.min(Math.floor(units / minChunk), perThread * (ready + 1), MAX_CHUNKS),
    );
    const chunks = cutInto(units, n, granule).map(([from, to]) => argsOf(from, to));
    this.run(this.kernelId(module, exportName), chunks, here);
    return true;
  }

  /** How many workers have started and can take chunks now (as many as setNumThreads allows). */
  get ready(): number {
    if (this.broken) return 0;
    let n = 0;
    for (let slot = 0; slot < this.size; slot++)
      n += Atomics.load(this.control, READY + slot) === 1 ? 1 : 0;
    return Math.min(n, workersAllowed());
  }

  /**
   * Runs kernel number `kernel` once per chunk (`chunks[i]` are its arguments), shared between
   * this thread (`own` runs a chunk here) and the workers, and returns when all are done.
   */
  run(
    kernel: number,
    chunks: readonly (readonly number[])[],
    own: (args: readonly number[]) => void,
  ): void {
    const ctl = this.control;
    if (chunks.length > MAX_CHUNKS || chunks.some((c) => c.length > MAX_KERNEL_ARGS))
      throw new NablaError(`a job of ${chunks.length} chunks does not fit the worker pool`);
    const job = ++this.job;
    ctl[KERNEL] = kernel;
    ctl[CHUNKS] = chunks.length;
    ctl[ARGC] = Math.max(...chunks.map((c) => c.length));
    ctl[FAILED] = 0;
    Atomics.store(ctl, TAKERS, workersAllowed());
    chunks.forEach((args, i) => ctl.set(args, TABLE + i * MAX_KERNEL_ARGS));
    Atomics.store(ctl, REMAINING, chunks.length);
    Atomics.store(ctl, NEXT, tagOf(job));
    Atomics.store(ctl, JOB, job);
    Atomics.notify(ctl, JOB);
    try {
      const call = (chunk: number): void => {
        own(chunks[chunk]!);
        Atomics.sub(ctl, REMAINING, 1);
      };
      claimChunks(ctl, tagOf(job), call, NEXT, CHUNKS);
      this.awaitChunks();
    } catch (error) {
      // Workers may still be inside this job: the pool cannot safely start another.
      this.broken = true;
      throw error;
    } finally {
      Atomics.store(ctl, NEXT, CLOSED);
    }
  }

  /** Waits until no chunk is under way (spinning briefly first: a chunk is short). */
  private awaitChunks(): void {
    const ctl = this.control;
    for (let spin = 0; spin < SPINS && Atomics.load(ctl, REMAINING) > 0; spin++);
    const start = Date.now();
    for (let left = Atomics.load(ctl, REMAINING); left > 0; left = Atomics.load(ctl, REMAINING)) {
      if (Date.now() - start > TIMEOUT_MS)
        throw new NablaError(`a worker thread did not finish its kernel within ${TIMEOUT_MS} ms`);
      Atomics.wait(ctl, REMAINING, left, 100);
    }
    if (Atomics.load(ctl, FAILED) === 1) {
      throw new NablaError('a worker thread failed while running a kernel');
    }
  }
}
