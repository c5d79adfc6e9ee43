import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A fresh temporary directory for one test. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nabla-test-'));
}

/** A path in the source tree's test/golden (tests run from dist/test/). */
export function goldenPath(name: string): string {
  return fileURLToPath(new URL(`../../../test/golden/${name}`, import.meta.url));
}
