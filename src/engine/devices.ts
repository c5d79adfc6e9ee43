import type { Backend, Device } from '../backends/backend.js';
import { cpuBackend } from '../backends/cpu/index.js';
import { opError } from '../core/errors.js';

const DEVICES: readonly Device[] = ['cpu', 'webgpu'];
const backends: Partial<Record<Device, Backend>> = { cpu: cpuBackend as Backend };
/** Devices being started (the adapter and device are requested once). */
const starting = new Map<Device, Promise<Backend>>();
let defaultDevice: Device = 'cpu';

export function isDevice(value: unknown): value is Device {
  return typeof value === 'string' && (DEVICES as readonly string[]).includes(value);
}

export function getBackend(device: Device = defaultDevice): Backend {
  const backend = backends[device];
  if (backend) return backend;
  if (isDevice(device)) {
    throw opError(
      'device',
      `the '${device}' device is not started yet: await nb.useDevice('${device}') (or nb.startDevice('${device}')) first`,
    );
  }
  throw opError('device', `unknown device '${String(device)}'; devices are ${DEVICES.join(', ')}`);
}

/**
 * Starts a device (WebGPU: requests the adapter and the device, once) without making it the
 * default; tensors can then be created on it or moved to it.
 */
export async function startDevice(device: Device): Promise<Backend> {
  if (!isDevice(device)) getBackend(device); // the unknown-device error
  const ready = backends[device];
  if (ready) return ready;
  const pending = starting.get(device);
  if (pending) return pending;
  const started = import('../backends/webgpu/index.js').then(
    async (m) => (await m.createWebGpuBackend()) as unknown as Backend,
  );
  starting.set(device, started);
  try {
    return (backends[device] = await started);
  } finally {
    starting.delete(device); // started, or failed and can be retried (after installing a driver)
  }
}

/** Sets the device new tensors are created on, starting it first if needed. */
export async function useDevice(device: Device): Promise<void> {
  await startDevice(device);
  defaultDevice = device;
}

/**
 * What a started device runs on, e.g. `cpu: WebAssembly SIMD, threads=2` or `webgpu: <adapter>`
 * (the playground's footers show it).
 */
export function deviceInfo(device: Device = defaultDevice): string {
  return `${device}: ${getBackend(device).describe()}`;
}

export function getDefaultDevice(): Device {
  return defaultDevice;
}

/**
 * Memory figures of each started device, e.g. `{ cpu: { arenaBytes, ... }, webgpu: { buffers,
 * bytes, pooledBuffers, pooledBytes } }` (live buffers and their bytes, and what is kept for reuse).
 */
export function memory(): Partial<Record<Device, Readonly<Record<string, number>>>> {
  return Object.fromEntries(
    Object.entries(backends).map(([device, backend]) => [device, backend.memory?.() ?? {}]),
  );
}
