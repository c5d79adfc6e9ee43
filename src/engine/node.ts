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
  'node:os': typeof import('node:os');
  'node:worker_threads': typeof import('node:worker_threads');
  'node:v8': typeof import('node:v8');
  'node:vm': typeof import('node:vm');
}

function loader(): ((id: string) => unknown) | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? proc.getBuiltinModule : undefined;
}

/** An environment variable (Node), or undefined where there is none (browsers). */
export function envVar(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    name
  ];
}

/** A Node built-in, or null outside Node (for features with a fallback, such as threads). */
export function optionalNodeModule<K extends keyof NodeModules>(name: K): NodeModules[K] | null {
  return (loader()?.(name) as NodeModules[K] | undefined) ?? null;
}

export function nodeModule<K extends keyof NodeModules>(name: K): NodeModules[K] {
  const load = loader();
  if (!load) {
    throw new NablaError(`this feature reads files and needs Node.js ≥ 20.16 (module ${name})`);
  }
  return load(name) as NodeModules[K];
}

/** What went wrong with a file or folder, in words, from a Node fs error's code. */
export function fileErrorReason(error: unknown): string {
  switch ((error as { code?: string }).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a folder, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a part of the path is a file, not a folder';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return (error as Error).message;
  }
}

/** A file's bytes; a missing file, a folder or an unreadable one is a NablaError naming the path. */
export function readFileOrFail(op: string, path: string): Uint8Array {
  try {
    return nodeModule('node:fs').readFileSync(path);
  } catch (error) {
    throw new NablaError(`${op}: cannot read '${path}': ${fileErrorReason(error)}`, op);
  }
}
