/**
 * Node built-ins, loaded when first needed rather than imported, so the package still bundles for
 * browsers (where the features that need files say so clearly).
 */
import { NablaError } from '../core/errors.js';

interface NodeModules {
  'node:fs': typeof import('node:fs');
  'node:zlib': typeof import('node:zlib');
  'node:module': typeof import('node:module');
  'node:path': typeof import('node:path');
}

export function nodeModule<K extends keyof NodeModules>(name: K): NodeModules[K] {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const load = proc?.getBuiltinModule;
  if (typeof load !== 'function') {
    throw new NablaError(`this feature reads files and needs Node.js ≥ 20.16 (module ${name})`);
  }
  return load(name) as NodeModules[K];
}
