import type { Backend, Device } from '../backends/backend.js';
import { cpuBackend } from '../backends/cpu/index.js';
import { opError } from '../core/errors.js';

const backends: Record<Device, Backend> = { cpu: cpuBackend as Backend };
let defaultDevice: Device = 'cpu';

export function isDevice(value: unknown): value is Device {
  return typeof value === 'string' && value in backends;
}

export function getBackend(device: Device = defaultDevice): Backend {
  const backend = backends[device];
  if (!backend) {
    throw opError(
      'device',
      `unknown device '${String(device)}'; available: ${Object.keys(backends).join(', ')}`,
    );
  }
  return backend;
}

/** Sets the device new tensors are created on. */
export function useDevice(device: Device): Promise<void> {
  getBackend(device);
  defaultDevice = device;
  return Promise.resolve();
}

export function getDefaultDevice(): Device {
  return defaultDevice;
}
