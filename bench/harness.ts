/** Timing helpers shared by the workloads: warm up, repeat, report the median. */
import { performance } from 'node:perf_hooks';

export interface Measurement {
  median: number;
  min: number;
  reps: number;
}

/**
 * Warm-up lasts `warmup` calls and at least this long: V8 optimises the JavaScript by then, and on
 * the VMs this is measured on, two busy threads can run at half speed each for about their first
 * second (a C program's two threads do too: bench/RESULTS.md, 2026-12-04). bench/pytorch/workloads.py
 * warms up as long.
 */
const MIN_WARMUP_MS = 1500;

/** Whether a warm-up that began at `start` (performance.now()) is over after `calls` calls. */
export const warmedUp = (start: number, calls: number, warmup: number): boolean =>
  calls >= warmup && performance.now() - start >= MIN_WARMUP_MS;

/** Calls `fn(i)` (i = 0, 1, ...) until the warm-up is over: `warmup` calls and MIN_WARMUP_MS. */
export function warmUp(fn: (call: number) => void, warmup: number): void {
  const start = performance.now();
  for (let i = 0; !warmedUp(start, i, warmup); i++) fn(i);
}

/** The middle value (the upper one of an even count). */
export const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[values.length >> 1]!;

/**
 * How many times longer `base` takes than `other`: the median ratio of their times over `pairs`
 * pairs run back to back after a warm-up of both, which one goes first alternating so that neither
 * always follows the other. On this VM's phases of seconds, the two see the same phase.
 */
export function alternatingRatio(base: () => void, other: () => void, pairs: number): number {
  const timed = (fn: () => void): number => {
    const start = performance.now();
    fn();
    return performance.now() - start;
  };
  warmUp((i) => timed(i % 2 === 0 ? base : other), 2);
  const ratios = Array.from({ length: pairs }, (_, i) => {
    if (i % 2 === 0) {
      const first = timed(base);
      return first / timed(other);
    }
    const second = timed(other);
    return timed(base) / second;
  });
  return median(ratios);
}

/** Runs `fn` for the warm-up, then `reps` times; times in milliseconds. */
export function measure(fn: () => void, reps = 7, warmup = 2): Measurement {
  warmUp(fn, warmup);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]!, reps };
}

/**
 * Like `measure`, but lets the event loop turn between repetitions (each one is still timed
 * synchronously), as it does between the requests of a server or the batches of an async loader:
 * that is when finalizers hand garbage buffers back to the pool.
 */
export async function measureAsync(fn: () => void, reps = 7, warmup = 2): Promise<Measurement> {
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; times.length < reps; i++) {
    const warm = warmedUp(start, i, warmup);
    await new Promise((resolve) => setImmediate(resolve));
    const callStart = performance.now();
    fn();
    if (warm) times.push(performance.now() - callStart);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]!, reps };
}

/** A workload prints one JSON line: its figures, for bench/run.ts to collect. */
export function report(result: Record<string, number | string>): void {
  console.log(JSON.stringify(result));
}
