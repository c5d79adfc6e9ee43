/**
 * Property tests (fast-check, seeded so every run checks the same cases): readers of untrusted
 * files give a NablaError or a valid result, never another exception; ops on random shapes agree
 * with a float64 reference written here; tensors come from any data; graphs take any feed or
 * refuse it clearly. The case counts are recorded in bench/RESULTS.md.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as nb from '../src/index.js';
import * as tf1 from '../src/tf1.js';

const SEED = 20261203;
export const RUNS = { files: 3000, ops: 400, data: 1500, feeds: 400 };
const settings = (numRuns: number) => ({ seed: SEED, numRuns });

/** Runs `fn`; a NablaError is an accepted answer, any other exception fails the property. */
function nablaErrorOr<T>(fn: () => T): T | nb.NablaError {
  try {
    return fn();
  } catch (error) {
    if (error instanceof nb.NablaError) return error;
    throw new Error(`expected a result or a NablaError, got ${String(error)}`, { cause: error });
  }
}

/** A valid safetensors file of a few small tensors, to mutate. */
const validFile = fc
  .array(
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 8 }),
      shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
      dtype: fc.constantFrom<nb.DType>('float32', 'float64', 'int32', 'bool'),
    }),
    { maxLength: 4 },
  )
  .map((entries) => {
    const state: Record<string, nb.Tensor> = {};
    for (const { name, shape, dtype } of entries) state[name] = nb.ones(shape, { dtype });
    return nb.serialize(state);
  });

/** Bytes with some positions overwritten, cut short or extended. */
const mutated = (bytes: fc.Arbitrary<Uint8Array>) =>
  fc
    .tuple(
      bytes,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.option(fc.nat()),
      fc.uint8Array({ maxLength: 8 }),
    )
    .map(([file, edits, cut, tail]) => {
      const out = Uint8Array.from([...file, ...tail]);
      for (const [at, value] of edits) if (out.length) out[at % out.length] = value;
      return cut === null ? out : out.subarray(0, cut % (out.length + 1));
    });

/** IDX bytes of ubyte data with a random shape, to mutate. */
const validIdx = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }).map((shape) => {
  const size = shape.reduce((a, b) => a * b, 1);
  const header = new DataView(new ArrayBuffer(4 + 4 * shape.length));
  header.setUint32(0, 0x0800 + shape.length);
  shape.forEach((d, i) => header.setUint32(4 + 4 * i, d));
  return Uint8Array.from([...new Uint8Array(header.buffer), ...new Uint8Array(size).fill(7)]);
});

describe('readers of untrusted files', () => {
  test('safetensors: random and mutated files give a NablaError or tensors that match the header', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(validFile), fc.uint8Array({ maxLength: 64 })), (bytes) => {
        const result = nablaErrorOr(() => nb.deserialize(bytes, 'fuzz.safetensors'));
        if (result instanceof nb.NablaError) {
          assert.match(result.message, /^fuzz\.safetensors: not a valid safetensors file: /);
          return;
        }
        assert.equal(Object.getPrototypeOf(result.tensors), Object.prototype);
        for (const t of Object.values(result.tensors)) assert.ok(t instanceof nb.Tensor);
      }),
      settings(RUNS.files),
    );
  });

  test('IDX: random and mutated files give a NablaError or data of the shape they declare', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(validIdx), fc.uint8Array({ maxLength: 32 })), (bytes) => {
        const result = nablaErrorOr(() => nb.datasets.parseIdx(bytes, 'fuzz-idx'));
        if (result instanceof nb.NablaError) return;
        assert.equal(
          result.data.length,
          result.shape.reduce((a, b) => a * b, 1),
        );
      }),
      settings(RUNS.files),
    );
  });
});

/** Shapes that broadcast against each other: b drops leading dims and sets some to 1. */
const broadcastPair = fc
  .array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.integer({ min: 0, max: shape.length }),
      fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
    ),
  )
  .map(([a, drop, ones]) => [a, a.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))] as const);

/** Element at flat index i of `shape` read from `data` of `from` (broadcast), in float64. */
function broadcastRead(data: ArrayLike<number>, from: readonly number[], shape: readonly number[]) {
  return (i: number): number => {
    let index = 0;
    let stride = 1;
    for (let d = shape.length - 1, r = i; d >= 0; d--) {
      const coord = r % shape[d]!;
      r = Math.floor(r / shape[d]!);
      const k = d - (shape.length - from.length);
      if (k >= 0) {
        index += (from[k] === 1 ? 0 : coord) * stride;
        stride *= from[k]!;
      }
    }
    return data[index]!;
  };
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe('ops on random shapes against a float64 reference', () => {
  test('elementwise ops broadcast as NumPy does, and sum to the same values', () => {
    fc.assert(
      fc.property(broadcastPair, fc.boolean(), ([aShape, bShape], swap) => {
        const [sa, sb] = swap ? [bShape, aShape] : [aShape, bShape];
        const a = nb.randn([...sa], { dtype: 'float64' });
        const b = nb.randn([...sb], { dtype: 'float64' });
        const out = a.mul(b).add(a);
        const shape = aShape; // the larger shape is the broadcast result
        assert.deepEqual(out.shape, shape);
        const [ra, rb] = [
          broadcastRead(a.dataSync(), sa, shape),
          broadcastRead(b.dataSync(), sb, shape),
        ];
        const got = out.dataSync();
        for (let i = 0; i < sizeOf(shape); i++) assert.equal(got[i], ra(i) * rb(i) + ra(i));
        const total = Array.from(got).reduce((s, v) => s + v, 0);
        assert.ok(Math.abs(out.sum().item() - total) <= 1e-12 * (1 + Math.abs(total)));
      }),
      settings(RUNS.ops),
    );
  });

  test('reshape with -1 gives the whole size or a NablaError; views keep the elements in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }),
        fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 4 }),
        (shape, target) => {
          const x = nb.arange(0, sizeOf(shape)).reshape(shape);
          const result = nablaErrorOr(() => x.reshape(target));
          const known = target.filter((d) => d !== -1);
          const inferred = sizeOf(shape) / sizeOf(known);
          const valid =
            target.filter((d) => d === -1).length <= 1 &&
            known.every((d) => d >= 0) &&
            (target.includes(-1) ? Number.isInteger(inferred) : sizeOf(known) === sizeOf(shape));
          if (result instanceof nb.NablaError) return assert.ok(!valid, `refused ${target}`);
          assert.ok(valid, `accepted ${target}`);
          assert.ok(result.shape.every(Number.isInteger));
          assert.deepEqual(Array.from(result.dataSync()), Array.from(x.dataSync()));
        },
      ),
      settings(RUNS.ops),
    );
  });

  test('matmul of random (batched, transposed) shapes matches float64 sums', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        (m, k, n, batch, transposed) => {
          const a = nb.randn([batch, m, k], { dtype: 'float64' });
          const b = transposed
            ? nb.randn([n, k], { dtype: 'float64' }).T
            : nb.randn([k, n], { dtype: 'float64' });
          const out = a.matmul(b);
          assert.deepEqual(out.shape, [batch, m, n]);
          const [A, B, C] = [a.dataSync(), b.contiguous().dataSync(), out.dataSync()];
          for (let s = 0; s < batch; s++)
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let sum = 0;
                for (let p = 0; p < k; p++) sum += A[s * m * k + i * k + p]! * B[p * n + j]!;
                assert.ok(Math.abs(C[s * m * n + i * n + j]! - sum) <= 1e-12 * (1 + Math.abs(sum)));
              }
        },
      ),
      settings(RUNS.ops),
    );
  });

  test('sum, max, min and argmax along any dimension match the reference, NaN included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.option(fc.nat()),
        fc.constantFrom<nb.DType>('float64', 'float32'),
        (shape, pick, nanAt, dtype) => {
          const dim = pick % shape.length;
          const values = nb.randn(shape, { dtype: 'float64' }).dataSync();
          if (nanAt !== null) values[nanAt % values.length] = NaN;
          const x = nb.tensor(dtype === 'float32' ? Float32Array.from(values) : values, { shape });
          const data = x.dataSync();
          const outer = sizeOf(shape.slice(0, dim));
          const inner = sizeOf(shape.slice(dim + 1));
          const sums = x.sum(dim).dataSync();
          const [maxes, mins] = [x.max(dim).dataSync(), x.min(dim).dataSync()];
          const args = x.argmax(dim).dataSync();
          const tolerance = dtype === 'float64' ? 1e-12 : 1e-6;
          for (let o = 0; o < outer; o++)
            for (let i = 0; i < inner; i++) {
              const column = Array.from(
                { length: shape[dim]! },
                (_, j) => data[(o * shape[dim]! + j) * inner + i]!,
              );
              const total = column.reduce((s, v) => s + v, 0);
              const at = o * inner + i;
              if (Number.isNaN(total)) assert.ok(Number.isNaN(sums[at]!));
              else assert.ok(Math.abs(sums[at]! - total) <= tolerance * (1 + Math.abs(total)));
              // Math.max and Math.min give NaN where the column has one, as PyTorch's max does.
              assert.equal(maxes[at], Math.max(...column));
              assert.equal(mins[at], Math.min(...column));
              const nan = column.findIndex(Number.isNaN);
              assert.equal(args[at], nan >= 0 ? nan : column.indexOf(Math.max(...column)));
            }
        },
      ),
      settings(RUNS.ops),
    );
  });
});

describe('tensors from any data', () => {
  const typedArrays = [
    Float32Array,
    Float64Array,
    Int32Array,
    Uint8Array,
    Uint8ClampedArray,
    Int8Array,
    Uint16Array,
    Int16Array,
    Uint32Array,
  ];

  test('every typed array keeps its values (as its dtype, or int32), or is refused', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...typedArrays),
        fc.array(fc.double({ min: -1e10, max: 1e10, noNaN: true }), { maxLength: 8 }),
        fc.constantFrom<nb.DType | undefined>(undefined, 'float32', 'float64', 'int32', 'bool'),
        (Type, values, dtype) => {
          const data = Type.from(values);
          const t = nablaErrorOr(() =>
            nb.tensor(data as unknown as Float32Array, dtype ? { dtype } : {}),
          );
          if (t instanceof nb.NablaError) {
            // Only values int32 cannot hold are refused.
            return assert.match(t.message, /cannot be stored as int32/);
          }
          const got = Array.from(t.dataSync());
          Array.from(data as ArrayLike<number>).forEach((v, i) => {
            const expected =
              t.dtype === 'bool'
                ? +(v !== 0)
                : t.dtype === 'int32'
                  ? Math.trunc(v) || 0
                  : t.dtype === 'float32'
                    ? Math.fround(v)
                    : v;
            assert.equal(got[i], expected);
          });
        },
      ),
      settings(RUNS.data),
    );
  });

  test('nested arrays of numbers and booleans: bool only when all are booleans', () => {
    const leaf = fc.oneof(
      fc.boolean(),
      fc.integer({ min: -5, max: 5 }),
      fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(leaf, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 4 }),
        (rows) => {
          const t = nb.tensor(rows);
          const flat = rows.flat();
          assert.equal(t.dtype, flat.every((v) => typeof v === 'boolean') ? 'bool' : 'float32');
          assert.deepEqual(
            Array.from(t.dataSync()),
            flat.map((v) => Math.fround(+v)),
          );
        },
      ),
      settings(RUNS.data),
    );
  });
});

describe('graph feeds', () => {
  test('a placeholder takes any feed of its shape and dtype, and refuses others with a NablaError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 3 }),
        fc.constantFrom<nb.DType>('float32', 'float64', 'int32', 'bool'),
        fc.boolean(),
        (shape, fedShape, fedDType, unknownBatch) => {
          const graph = new tf1.Graph();
          const declared = unknownBatch ? [null, ...shape.slice(1)] : shape;
          const x = tf1.placeholder('float32', declared, 'x', graph);
          const y = tf1.reduceSum(tf1.mul(x, 2));
          const feed = nb.ones(fedShape, { dtype: fedDType });
          const result = nablaErrorOr(() =>
            new tf1.Session({ graph }).run(y, new Map([[x, feed]])),
          );
          const fits =
            fedShape.length === shape.length &&
            fedShape.every((d, i) => (i === 0 && unknownBatch) || d === shape[i]);
          if (result instanceof nb.NablaError)
            return assert.ok(!fits || fedDType !== 'float32', result.message);
          assert.ok(fits, `accepted a feed of shape [${fedShape}] for [${declared}]`);
          assert.equal(result.item(), 2 * sizeOf(fedShape));
        },
      ),
      settings(RUNS.feeds),
    );
  });
});
