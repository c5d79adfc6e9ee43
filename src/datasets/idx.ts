/**
 * The IDX format of MNIST-style datasets: a 4-byte magic (0, 0, type, rank), `rank` big-endian
 * uint32 sizes, then the elements. Files may be gzip-compressed. Every malformed or truncated file
 * is reported with its path and what was expected.
 */
import { NablaError } from '../core/errors.js';
import { nodeModule, readFileOrFail } from '../engine/node.js';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const fail = (why: string): never => {
    throw new NablaError(`${source}: not a valid IDX file: ${why}`);
  };
  if (bytes.length < 4) fail(`only ${bytes.length} bytes`);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail('bad magic number');
  if (bytes[2] !== UBYTE)
    fail(`element type 0x${bytes[2]!.toString(16)} (only unsigned bytes, 0x08, are supported)`);
  const rank = bytes[3]!;
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize)
    fail(`header needs ${headerSize} bytes, the file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerSize + size) {
    fail(
      `shape ${JSON.stringify(shape)} needs ${size} data bytes, the file has ${bytes.length - headerSize} (truncated or corrupt)`,
    );
  }
  return { shape, data: bytes.subarray(headerSize) };
}

/** Reads an IDX file, gunzipping it when it starts with the gzip magic bytes. */
export function readIdx(path: string): IdxArray {
  let bytes = readFileOrFail('readIdx', path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = nodeModule('node:zlib').gunzipSync(bytes);
    } catch (error) {
      throw new NablaError(`${path}: corrupt gzip data (${(error as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}
