/**
 * The WebGPU backend's caches, on stand-ins for the device so that they run everywhere: 0-d CPU
 * operands (webgpu/scalars.ts) — a value is uploaded once, and a buffer taken over for a new value
 * is written only after the work that reads its old value has been submitted — and bind groups
 * (webgpu/bindgroups.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ArrayView } from '../src/backends/primitives.js';
import { BindGroupCache } from '../src/backends/webgpu/bindgroups.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { HostScalars, SCALARS_KEPT } from '../src/backends/webgpu/scalars.js';

/** A context that records uploads, submits and queue writes, in order. */
function recordingContext(): { context: GpuContext; log: string[] } {
  const log: string[] = [];
  let made = 0;
  const context = {
    submits: 0,
    upload(data: Uint32Array) {
      const name = `b${made++}`;
      log.push(`upload ${name} ${data[0]}`);
      return { name } as unknown as GPUBuffer;
    },
    submit() {
      log.push('submit');
      context.submits++;
    },
    device: {
      queue: {
        writeBuffer(buffer: { name: string }, _offset: number, data: Uint32Array) {
          log.push(`write ${buffer.name} ${data[0]}`);
        },
      },
    },
  };
  return { context: context as unknown as GpuContext, log };
}

const int = (value: number): ArrayView<unknown> => ({
  buffer: Int32Array.of(value),
  dtype: 'int32',
  shape: [],
  strides: [],
  offset: 0,
});

test('a value is uploaded once; past the values kept the least recently used buffer is rewritten', () => {
  const { context, log } = recordingContext();
  const scalars = new HostScalars(context);
  const first = scalars.view(int(7));
  assert.equal(scalars.view(int(7)).buffer, first.buffer);
  for (let k = 1; k < SCALARS_KEPT; k++) scalars.view(int(1000 + k));
  assert.equal(log.filter((l) => l.startsWith('upload')).length, SCALARS_KEPT);
  // 7 was read again after 1001 was first read: 1001's buffer is the one taken over.
  context.submit();
  scalars.view(int(7));
  const taken = scalars.view(int(-1));
  assert.deepEqual(log.slice(-1), ['write b1 4294967295']);
  assert.equal((taken.buffer.gpu as unknown as { name: string }).name, 'b1');
});

test('a buffer read by work not yet submitted is rewritten only after a submit', () => {
  const { context, log } = recordingContext();
  const scalars = new HostScalars(context);
  for (let k = 0; k < SCALARS_KEPT; k++) scalars.view(int(k)); // all read since the last submit
  scalars.view(int(999));
  assert.deepEqual(log.slice(-2), ['submit', 'write b0 999']);
  // Its old value is gone from the cache: asking for it again takes over another buffer.
  scalars.view(int(0));
  assert.deepEqual(log.slice(-1), ['write b1 0']);
});

test('a bind group is made once per set of buffers, and forgotten with any of them', () => {
  const made: string[] = [];
  const cache = new BindGroupCache((params, buffers) => {
    const name = [params, ...buffers].map((b) => (b as unknown as { n: string }).n).join('');
    made.push(name);
    return { name } as unknown as GPUBindGroup;
  }, 3);
  const [p, a, b, c] = ['p', 'a', 'b', 'c'].map((n) => ({ n }) as unknown as GPUBuffer);
  const first = cache.get(p!, [a!, b!]);
  assert.equal(cache.get(p!, [a!, b!]), first);
  cache.get(p!, [a!]); // fewer buffers: a different group
  cache.get(p!, [b!, a!]); // another order: another group
  assert.deepEqual(made, ['pab', 'pa', 'pba']);
  cache.forget(b!);
  cache.get(p!, [a!, b!]);
  cache.get(p!, [a!]);
  assert.deepEqual(made, ['pab', 'pa', 'pba', 'pab']);
  // Past three groups the oldest goes: 'pa'.
  cache.get(p!, [c!]);
  cache.get(p!, [c!, c!]);
  cache.get(p!, [a!]);
  assert.deepEqual(made.slice(4), ['pc', 'pcc', 'pa']);
});
