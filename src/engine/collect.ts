/**
 * A full garbage collection on request, for memory the collector cannot see. A GPU buffer is held
 * by a small JS object; V8 schedules collections by JS heap growth, so a loop that never disposes
 * could fill the GPU long before the heap grows enough for a collection to find its dead tensors.
 * Node reaches its collector without --expose-gc through the V8 flag and a fresh VM context;
 * browsers offer no such call and collect on their own schedule.
 */
import { optionalNodeModule } from './node.js';

let collector: (() => void) | null | undefined;

function nodeCollector(): (() => void) | null {
  const v8 = optionalNodeModule('node:v8');
  const vm = optionalNodeModule('node:vm');
  if (!v8 || !vm) return null;
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('gc');
  return typeof gc === 'function' ? (gc as () => void) : null;
}

/**
 * Runs a full collection where the runtime allows it (Node); FinalizationRegistry callbacks for
 * what it found run when the event loop next turns. Returns whether it ran.
 */
export function collectGarbage(): boolean {
  if (collector === undefined) collector = nodeCollector();
  collector?.();
  return collector !== null;
}
