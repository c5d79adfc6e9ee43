/**
 * State dicts as safetensors files (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw
 * little-endian bytes. PyTorch reads what we write, and we read what it writes (F32, F64, I32, BOOL;
 * also I64, F16 and BF16, converted). Files are written atomically: a temporary file, then a rename.
 */
import { NablaError } from '../core/errors.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { nodeModule, readFileOrFail } from '../engine/node.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export type StateDict = Record<string, Tensor>;

const WRITE_CODES: Record<DType, string> = {
  float32: 'F32',
  float64: 'F64',
  int32: 'I32',
  bool: 'BOOL',
};

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Serialises tensors (and optional string metadata) to safetensors bytes. */
export function serialize(state: StateDict, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(state)) {
    const data = t.contiguous().dataSync();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    header[name] = {
      dtype: WRITE_CODES[t.dtype],
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.length],
    };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // The data must start 8-byte aligned: pad the header (counted in UTF-8 bytes) with spaces.
  const headerBytes = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Typed values of one entry (copied, so they are aligned and independent of the file buffer). */
function decode(
  code: string,
  bytes: Uint8Array,
  fail: (why: string) => never,
): { data: TypedArray; dtype: DType } {
  const copy = new Uint8Array(bytes); // a copy: aligned, and never a view of Node's Buffer pool
  const view = new DataView(copy.buffer);
  switch (code) {
    case 'F32':
      return { data: new Float32Array(copy.buffer), dtype: 'float32' };
    case 'F64':
      return { data: new Float64Array(copy.buffer), dtype: 'float64' };
    case 'I32':
      return { data: new Int32Array(copy.buffer), dtype: 'int32' };
    case 'BOOL':
      return { data: copy, dtype: 'bool' };
    case 'I64': {
      const data = new Int32Array(copy.length / 8);
      for (let i = 0; i < data.length; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) fail(`int64 value ${v} does not fit int32`);
        data[i] = Number(v);
      }
      return { data, dtype: 'int32' };
    }
    case 'F16':
    case 'BF16': {
      const data = new Float32Array(copy.length / 2);
      const bits = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < data.length; i++) {
        const h = view.getUint16(2 * i, true);
        if (code === 'F16') data[i] = halfToFloat(h);
        else {
          bits.setUint32(0, h << 16);
          data[i] = bits.getFloat32(0);
        }
      }
      return { data, dtype: 'float32' };
    }
    default:
      return fail(`unsupported dtype ${code}`);
  }
}

const ELEMENT_BYTES: Record<string, number> = {
  F32: 4,
  F64: 8,
  I32: 4,
  BOOL: 1,
  I64: 8,
  F16: 2,
  BF16: 2,
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** One header entry, checked field by field: a file is untrusted input. */
function readEntry(raw: unknown, bad: (why: string) => never): HeaderEntry {
  if (!isRecord(raw) || typeof raw['dtype'] !== 'string')
    return bad('needs dtype, shape and data_offsets');
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!Array.isArray(shape) || !shape.every(isCount))
    return bad(`shape ${JSON.stringify(shape)} is not a list of sizes >= 0`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
    return bad(`data_offsets ${JSON.stringify(offsets)} is not two byte offsets >= 0`);
  return { dtype, shape, data_offsets: [offsets[0]!, offsets[1]!] };
}

function readMetadata(raw: unknown, fail: (why: string) => never): Record<string, string> {
  if (!isRecord(raw) || !Object.values(raw).every((v) => typeof v === 'string'))
    return fail('__metadata__ is not an object of strings');
  return raw as Record<string, string>;
}

/** Parses safetensors bytes; `source` names the file in errors. */
export function deserialize(
  bytes: Uint8Array,
  source = 'safetensors data',
): { tensors: StateDict; metadata: Record<string, string> } {
  const fail = (why: string): never => {
    throw new NablaError(`${source}: not a valid safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`only ${bytes.length} bytes`);
  const headerLength = Number(
    new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true),
  );
  if (8 + headerLength > bytes.length)
    fail(
      `header of ${headerLength} bytes runs past the end of the file (${bytes.length} bytes; truncated?)`,
    );
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    return fail('the header is not JSON');
  }
  if (!isRecord(header)) return fail('the header is not a JSON object');
  const data = bytes.subarray(8 + headerLength);
  const tensors: StateDict = {};
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = readMetadata(raw, fail);
      continue;
    }
    const bad = (why: string): never => fail(`tensor '${name}': ${why}`);
    const entry = readEntry(raw, bad);
    const [begin, end] = entry.data_offsets;
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const elementBytes = ELEMENT_BYTES[entry.dtype] ?? bad(`unsupported dtype ${entry.dtype}`);
    if (!(end <= data.length && begin <= end))
      bad(`data_offsets [${begin}, ${end}] outside the ${data.length} data bytes (truncated?)`);
    if (end - begin !== size * elementBytes)
      bad(
        `shape ${JSON.stringify(entry.shape)} needs ${size * elementBytes} bytes, offsets give ${end - begin}`,
      );
    const { data: values, dtype } = decode(entry.dtype, data.subarray(begin, end), bad);
    // An own property even for a name like '__proto__', which plain assignment would turn into
    // the dict's prototype.
    Object.defineProperty(tensors, name, {
      value: tensor(values, { shape: entry.shape, dtype }),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { tensors, metadata };
}

/** Writes bytes to `path` atomically: readers see the old file or the whole new one, never half. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const fs = nodeModule('node:fs');
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.writeFileSync(temporary, bytes);
    fs.renameSync(temporary, path);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Saves a state dict as a safetensors file, like `safetensors.torch.save_file`.
 *
 * @example nb.save(model.stateDict(), 'model.safetensors');
 */
export function save(state: StateDict, path: string, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serialize(state, metadata));
}

/** Loads a safetensors file as a state dict. */
export function load(path: string): StateDict {
  return deserialize(readFileOrFail('load', path), path).tensors;
}
