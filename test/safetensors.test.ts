/** safetensors files: round trips, PyTorch's files, and untrusted or broken input. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import { goldenPath, tempDir } from './helpers/files.js';

/** A safetensors file with this header text and data bytes. */
function fileBytes(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  test('a state dict round-trips through a file, with metadata', () => {
    const dir = tempDir();
    const state = {
      w: nb.randn([3, 2]),
      n: nb.tensor(new Int32Array([1, -2])),
      d: nb.ones([2], { dtype: 'float64' }),
      b: nb.tensor([true, false]),
    };
    nb.save(state, join(dir, 'm.safetensors'), { note: 'hi' });
    const bytes = new Uint8Array(readFileSync(join(dir, 'm.safetensors')));
    const { tensors, metadata } = nb.deserialize(bytes);
    for (const [k, t] of Object.entries(state)) {
      assert.equal(tensors[k]!.dtype, t.dtype);
      assert.deepEqual(tensors[k]!.toArray(), t.toArray());
    }
    assert.deepEqual(metadata, { note: 'hi' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + headerLength) % 8, 0, 'data starts 8-byte aligned');
    assert.deepEqual(readdirSync(dir), ['m.safetensors'], 'no temporary files left');
  });

  test("reads PyTorch's tensors (F32, F64, I64, F16, BOOL)", () => {
    const loaded = nb.load(goldenPath('torch-model.safetensors'));
    const expected = JSON.parse(readFileSync(goldenPath('torch-model.json'), 'utf8')) as {
      tensors: Record<string, { shape: number[]; values: number[] }>;
    };
    for (const [name, { shape, values }] of Object.entries(expected.tensors)) {
      assert.deepEqual(loaded[name]!.shape, shape, name);
      const got = Array.from(loaded[name]!.cast('float64').dataSync());
      got.forEach((v, i) =>
        assert.ok(Math.abs(v - values[i]!) <= 1e-6 * Math.abs(values[i]!), `${name}[${i}]`),
      );
    }
    assert.equal(loaded['labels']!.dtype, 'int32');
    assert.equal(loaded['mask']!.dtype, 'bool');
  });

  test('truncated and corrupt files are reported with their path', () => {
    const dir = tempDir();
    const good = nb.serialize({ w: nb.ones([4]) });
    const path = join(dir, 'bad.safetensors');
    writeFileSync(path, good.subarray(0, good.length - 3));
    assert.throws(
      () => nb.load(path),
      /bad\.safetensors: not a valid safetensors file: tensor 'w': data_offsets \[0, 16\] outside the 13 data bytes \(truncated\?\)/,
    );
    writeFileSync(path, good.subarray(0, 20));
    assert.throws(() => nb.load(path), /header of \d+ bytes runs past the end of the file/);
    const garbled = good.slice();
    garbled[8] = 0x7b + 1;
    writeFileSync(path, garbled);
    assert.throws(() => nb.load(path), /the header is not JSON/);
  });

  test('a model saved and loaded gives the same outputs', () => {
    const dir = tempDir();
    const a = new nb.nn.Sequential(
      new nb.nn.Linear(3, 4),
      new nb.nn.ReLU(),
      new nb.nn.Linear(4, 2),
    );
    nb.save(a.stateDict(), join(dir, 'model.safetensors'));
    const b = new nb.nn.Sequential(
      new nb.nn.Linear(3, 4),
      new nb.nn.ReLU(),
      new nb.nn.Linear(4, 2),
    );
    b.loadStateDict(nb.load(join(dir, 'model.safetensors')));
    const x = nb.randn([2, 3]);
    assert.deepEqual(b.forward(x).toArray(), a.forward(x).toArray());
  });

  test('a non-ASCII name still leaves the data 8-byte aligned (the header is padded in bytes)', () => {
    const bytes = nb.serialize({ 'poids-ü': nb.ones([3]), βias: nb.zeros([1]) });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(headerLength % 8, 0);
    const { tensors } = nb.deserialize(bytes);
    assert.deepEqual(tensors['poids-ü']!.toArray(), [1, 1, 1]);
  });

  test('a header that is not an object of well-formed entries is refused by name', () => {
    const refused = (header: string, pattern: RegExp, data?: Uint8Array): void => {
      assert.throws(
        () => nb.deserialize(fileBytes(header, data), 'x.safetensors'),
        (e: unknown) => e instanceof nb.NablaError && pattern.test(e.message),
        header,
      );
    };
    refused('42', /x\.safetensors: not a valid safetensors file: the header is not a JSON object/);
    refused('null', /the header is not a JSON object/);
    refused('[]', /the header is not a JSON object/);
    const four = new Uint8Array(4);
    refused(
      '{"w":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}}',
      /data_offsets \["0","4"\] is not two byte offsets/,
      four,
    );
    refused(
      '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0.5,4]}}',
      /is not two byte offsets/,
      four,
    );
    refused(
      '{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}',
      /shape \[-1\] is not a list of sizes/,
      four,
    );
    refused('{"w":null}', /tensor 'w': needs dtype, shape and data_offsets/);
    refused('{"__metadata__":{"a":1}}', /__metadata__ is not an object of strings/);
  });

  test("a '__proto__' entry is an ordinary key, not the dict's prototype", () => {
    const header = '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const { tensors } = nb.deserialize(fileBytes(header, new Uint8Array(4)));
    assert.equal(Object.getPrototypeOf(tensors), Object.prototype);
    assert.deepEqual(Object.keys(tensors), ['__proto__']);
    assert.ok(Object.getOwnPropertyDescriptor(tensors, '__proto__')!.value instanceof nb.Tensor);
  });

  test('a missing file or a folder is a NablaError naming the path', () => {
    const dir = tempDir();
    assert.throws(
      () => nb.load(join(dir, 'none.safetensors')),
      (e: unknown) =>
        e instanceof nb.NablaError &&
        /load: cannot read '.*none\.safetensors': no such file/.test(e.message),
    );
    assert.throws(
      () => nb.load(dir),
      (e: unknown) =>
        e instanceof nb.NablaError &&
        /load: cannot read '.*': it is a folder, not a file/.test(e.message),
    );
  });
});
