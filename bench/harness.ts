/** Timing helpers shared by the workloads: warm up, repeat, report the median. */
import { performance } from 'node:perf_hooks';

export interface Measurement {
  median: number;
  min: number;
  reps: number;
}

/** Runs `fn` `warmup` times, then `reps` times; times in milliseconds. */
export function measure(fn: () => void, reps = 7, warmup = 2): Measurement {
  for (let i = 0; i < warmup; i++) fn();
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
  for (let i = 0; i < warmup + reps; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    const start = performance.now();
    fn();
    if (i >= warmup) times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]!, reps };
}

/** A workload prints one JSON line: its figures, for bench/run.ts to collect. */
export function report(result: Record<string, number | string>): void {
  console.log(JSON.stringify(result));
}
