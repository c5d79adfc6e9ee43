/**
 * The output folder of a run: checked before any training (a run that cannot save is refused at
 * once, not after an hour), and written as one set of files (all staged, then renamed in).
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileErrorReason } from '../engine/node.js';
import { UsageError } from './args.js';

/** Kernel file systems: they take no files, and Node's recursive mkdir loops forever on /proc. */
const SYSTEM_FOLDERS = ['/proc', '/sys', '/dev'];

/** Makes sure `dir` is a folder we can write, creating it; returns its absolute path. */
export function prepareOutDir(dir: string): string {
  if (dir.trim() === '') throw new UsageError("--out must name a folder; got ''");
  const path = resolve(dir);
  if (SYSTEM_FOLDERS.some((f) => path === f || path.startsWith(f + sep)))
    throw new UsageError(`--out ${dir}: ${path} is in a kernel file system, not a place for files`);
  let kind: 'folder' | 'other' | 'none' = 'none';
  try {
    kind = statSync(path).isDirectory() ? 'folder' : 'other';
  } catch {
    // absent: made below
  }
  if (kind === 'other') throw new UsageError(`--out ${dir}: ${path} exists and is not a folder`);
  const probe = join(path, `.nabla-probe-${process.pid}`);
  try {
    mkdirSync(path, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    throw new UsageError(`--out ${dir}: cannot write to ${path}: ${fileErrorReason(error)}`);
  }
  return path;
}

/**
 * Writes `files` into `dir` as one set: each is written into a staging folder first, and only when
 * all are there are they renamed into place, so no reader sees new files beside old ones from a
 * write that failed. Returns the paths written.
 */
export function writeSet(dir: string, files: readonly [string, Uint8Array | string][]): string[] {
  const staging = join(dir, `.writing-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    for (const [name, bytes] of files) writeFileSync(join(staging, name), bytes);
    for (const [name] of files) renameSync(join(staging, name), join(dir, name));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return files.map(([name]) => join(dir, name));
}

/**
 * Replaces the folder `dir/name` with a new one holding `files`, atomically: the new folder is
 * complete before the old one is moved aside (`name.old`, removed after); a reader that finds no
 * `name` takes `name.old` (see readFolderSet).
 */
export function replaceFolder(
  dir: string,
  name: string,
  files: readonly [string, Uint8Array | string][],
): void {
  const [target, fresh, old] = [
    join(dir, name),
    join(dir, `${name}.new`),
    join(dir, `${name}.old`),
  ];
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh);
  for (const [file, bytes] of files) writeFileSync(join(fresh, file), bytes);
  rmSync(old, { recursive: true, force: true });
  let hadTarget = true;
  try {
    renameSync(target, old);
  } catch {
    hadTarget = false;
  }
  renameSync(fresh, target);
  if (hadTarget) rmSync(old, { recursive: true, force: true });
}

/** The folder replaceFolder last completed: `dir/name`, or `name.old` if a replace was cut off. */
export function completedFolder(dir: string, name: string): string | null {
  for (const candidate of [name, `${name}.old`]) {
    const path = join(dir, candidate);
    try {
      if (statSync(path).isDirectory()) return path;
    } catch {
      // try the next
    }
  }
  return null;
}
