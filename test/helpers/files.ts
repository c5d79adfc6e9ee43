import { mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
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

/** IDX bytes: magic (0, 0, ubyte, rank), big-endian sizes, then the data. */
export function idx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * shape.length));
  header.setUint32(0, 0x0800 + shape.length);
  shape.forEach((d, i) => header.setUint32(4 + 4 * i, d));
  return Uint8Array.from([...new Uint8Array(header.buffer), ...data]);
}

/**
 * A folder laid out like Debian's dataset-fashion-mnist, gzipped as Debian ships it: image i's
 * pixel p is (i + p) % 256, label i is i % 10.
 */
export function fashionFixture(counts: { train: number; test: number }): string {
  const dir = tempDir();
  for (const [prefix, n] of [
    ['train', counts.train],
    ['t10k', counts.test],
  ] as const) {
    const pixels = Uint8Array.from(
      { length: n * 784 },
      (_, k) => (Math.floor(k / 784) + (k % 784)) % 256,
    );
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(idx([n, 28, 28], pixels)));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(idx([n], labels)));
  }
  return dir;
}
