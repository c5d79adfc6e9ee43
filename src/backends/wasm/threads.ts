/**
 * Worker threads that run WebAssembly kernels on the shared arena memory: one pool per memory,
 * shared by every kernel (the GEMM, the elementwise kernels).
 *
 * Dispatch goes through an Atomics control block, not messages (postMessage costs ~35 µs): each
 * worker sleeps in Atomics.wait on its slot's job number; the caller writes the kernel's number and
 * arguments, bumps the job number and notifies, does its own share of the work, then waits for each
 * worker's "done" number (spinning briefly first, since a share is usually about as long as its
 * own). A worker polls a little after each job before it sleeps, so a burst of jobs finds it awake.
 * Workers that are still starting are simply not given work, so nothing waits on a thread's
 * start-up. Kernels are registered by message (a compiled module and the export to call), sent
 * before their first job: a worker that meets a kernel number it does not know yet reads the
 * pending registrations synchronously (receiveMessageOnPort), in order.
 *
 * Node only (worker_threads); elsewhere, and with NABLA_NUM_THREADS=1, everything runs on the
 * calling thread.
 */
import { NablaError } from '../../core/errors.js';
import { envVar, optionalNodeModule } from '../../engine/node.js';

/** Int32 slots per worker: [job, done, ready, kernel, args...]. */
const SLOT = 32;
const [JOB, DONE, READY, KERNEL, ARGS] = [0, 1, 2, 3, 4];
/** The most arguments a kernel run by the pool may take. */
export const MAX_KERNEL_ARGS = SLOT - ARGS;
/** How long a worker may take before we decide it is gone. */
const TIMEOUT_MS = 30_000;
const SPINS = 20_000;
/**
 * How long an idle worker polls for the next job before it sleeps: long enough to catch the next
 * product of a burst, short enough not to slow the main thread on a sibling core for long.
 */
const IDLE_SPIN_MS = 0.1;

/** The worker's side (plain JavaScript, run with `eval`). */
const WORKER_SOURCE = `
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, slot } = workerData;
const kernels = [];
const ctl = new Int32Array(control);
const base = slot * ${SLOT};
Atomics.store(ctl, base + ${READY}, 1);
let seen = 0;
for (;;) {
  // Jobs come in bursts (a training step's products): stay awake a moment before sleeping,
  // since waking a sleeping thread costs tens of microseconds.
  const until = performance.now() + ${IDLE_SPIN_MS};
  while (Atomics.load(ctl, base + ${JOB}) === seen && performance.now() < until);
  Atomics.wait(ctl, base + ${JOB}, seen);
  const job = Atomics.load(ctl, base + ${JOB});
  seen = job;
  let done = job;
  try {
    const id = Atomics.load(ctl, base + ${KERNEL});
    while (kernels.length <= id) {
      const { module, exportName } = receiveMessageOnPort(parentPort).message;
      kernels.push(new WebAssembly.Instance(module, { env: { memory } }).exports[exportName]);
    }
    kernels[id](...ctl.subarray(base + ${ARGS}, base + ${SLOT}));
  } catch {
    done = -job;
  }
  Atomics.store(ctl, base + ${DONE}, done);
  Atomics.notify(ctl, base + ${DONE});
}
`;

/** NABLA_NUM_THREADS, else every core the runtime reports. */
export function threadCount(): number {
  const requested = envVar('NABLA_NUM_THREADS');
  if (requested !== undefined) {
    const n = Number(requested);
    if (!Number.isInteger(n) || n < 1) {
      throw new NablaError(`NABLA_NUM_THREADS must be a whole number ≥ 1, got '${requested}'`);
    }
    return n;
  }
  return optionalNodeModule('node:os')?.availableParallelism() ?? 1;
}

/** The pool of each memory (null where threads are not available). */
const pools = new WeakMap<WebAssembly.Memory, WorkerPool | null>();

/** What the pool posts to every worker: the kernel with the next number. */
interface Registration {
  module: WebAssembly.Module;
  exportName: string;
}

export class WorkerPool {
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * SLOT * 64));
  private readonly workers: { postMessage(message: Registration): void }[] = [];
  private kernels = 0;
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
    const threads = optionalNodeModule('node:worker_threads');
    if (!threads || workers < 1) return null;
    const pool = new WorkerPool(Math.min(workers, 64));
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

  /** Makes `exportName` of `module` runnable by the workers; returns its number for run(). */
  register(module: WebAssembly.Module, exportName: string): number {
    for (const worker of this.workers) worker.postMessage({ module, exportName });
    return this.kernels++;
  }

  /** How many workers have started and can take a job now. */
  get ready(): number {
    if (this.broken) return 0;
    let n = 0;
    while (n < this.size && Atomics.load(this.control, n * SLOT + READY) === 1) n++;
    return n;
  }

  /**
   * Runs kernel number `kernel` with `jobs[i]` as its arguments on worker i and `own` on this
   * thread, and returns when all are done. Give at most `ready` jobs.
   */
  run(kernel: number, jobs: readonly (readonly number[])[], own: () => void): void {
    const job = ++this.job;
    const ctl = this.control;
    jobs.forEach((args, i) => {
      ctl[i * SLOT + KERNEL] = kernel;
      ctl.set(args, i * SLOT + ARGS);
      Atomics.store(ctl, i * SLOT + JOB, job);
      Atomics.notify(ctl, i * SLOT + JOB);
    });
    own();
    jobs.forEach((_, i) => this.await(i * SLOT + DONE, job));
  }

  private await(at: number, job: number): void {
    const ctl = this.control;
    for (let spin = 0; spin < SPINS; spin++) if (Math.abs(Atomics.load(ctl, at)) === job) break;
    const start = Date.now();
    for (;;) {
      const done = Atomics.load(ctl, at);
      if (done === job) return;
      if (done === -job) {
        this.broken = true;
        throw new NablaError('a worker thread failed while running a kernel');
      }
      if (Date.now() - start > TIMEOUT_MS) {
        this.broken = true;
        throw new NablaError(`a worker thread did not finish its kernel within ${TIMEOUT_MS} ms`);
      }
      Atomics.wait(ctl, at, done, 100);
    }
  }
}
