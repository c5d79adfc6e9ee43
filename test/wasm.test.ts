/** The WebAssembly emitter and SIMD kernels, checked against the plain-TS reference kernels. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import { matmulFloat32 } from '../src/backends/cpu/matmul.js';
import { buildModule, FunctionBuilder, ValType } from '../src/backends/wasm/emitter.js';
import { gemmModuleBytes, WasmGemm } from '../src/backends/wasm/gemm.js';
import { Arena } from '../src/backends/wasm/arena.js';
import { WasmElementwise } from '../src/backends/wasm/elementwise.js';
import { WorkerPool } from '../src/backends/wasm/threads.js';
import { cpuBackend } from '../src/backends/cpu/index.js';
import { windowArgmaxKernel } from '../src/backends/cpu/window-argmax.js';
import { col2imKernel, im2colKernel } from '../src/backends/cpu/patches.js';

describe('emitter', () => {
  test('builds valid modules that compute what they say', () => {
    // addVectors(a, b, n): the n f32x4 vectors at a += those at b.
    const f = new FunctionBuilder('addVectors', [ValType.i32, ValType.i32, ValType.i32]);
    const [a, b, n] = f.params as [never, never, never];
    f.countDown(n, () => {
      f.get(a).get(a).v128Load(0).get(b).v128Load(0).f32x4Add().v128Store(0);
      f.increment(a, 16).increment(b, 16);
    });
    const bytes = buildModule([f]);
    assert.ok(WebAssembly.validate(bytes));
    const memory = new WebAssembly.Memory({ initial: 1 });
    const { addVectors } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      env: { memory },
    }).exports as {
      addVectors: (a: number, b: number, n: number) => void;
    };
    const heap = new Float32Array(memory.buffer);
    heap.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
    heap.set([10, 20, 30, 40, 50, 60, 70, 80], 8);
    addVectors(0, 32, 2);
    assert.deepEqual(Array.from(heap.subarray(0, 8)), [11, 22, 33, 44, 55, 66, 77, 88]);
    assert.ok(WebAssembly.validate(gemmModuleBytes()));
  });
});

/** A dense float32 view in `arena`, element i = fill(i) (the SIMD kernels only run there). */
function arenaView(arena: Arena, shape: number[], fill: (i: number) => number) {
  const size = shape.reduce((a, b) => a * b, 1);
  const buffer = new Float32Array(arena.buffer, arena.alloc(4 * size)!, size);
  buffer.forEach((_, i) => (buffer[i] = fill(i)));
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { buffer, dtype: 'float32' as const, shape, strides, offset: 0 };
}

/**
 * A GEMM of three threads on its own arena, its workers started, with makers of arena copies of
 * tensors: as they are, and with the last two dimensions swapped in memory (viewed back).
 */
async function threadedGemm() {
  const arena = Arena.create(64 * 2 ** 20)!;
  const gemm = new WasmGemm(arena, 3);
  const inArena = (t: nb.Tensor) => {
    const values = t.dataSync();
    return arenaView(arena, [...t.shape], (i) => values[i]!);
  };
  const transposedInArena = (t: nb.Tensor) => {
    const v = inArena(t.transpose(-1, -2).contiguous());
    const swap = (x: number[]) => [...x.slice(0, -2), x.at(-1)!, x.at(-2)!];
    return { ...v, shape: swap(v.shape), strides: swap(v.strides) };
  };
  gemm.matmul(
    nb.zeros([2, 64, 64]) as never,
    [nb.ones([2, 64, 512]), nb.ones([2, 512, 64])] as never,
  ); // starts the workers
  for (let wait = 0; gemm.workersReady < 2 && wait < 200; wait++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  assert.equal(gemm.workersReady, 2);
  return { arena, gemm, inArena, transposedInArena };
}

describe('SIMD matmul gives the same floats as the plain-TS float32 kernel', () => {
  const check = (a: nb.Tensor, b: nb.Tensor): void => {
    const shape = nb.noGrad(() => a.matmul(b)).shape; // the op's own shape rule
    const [expected, actual] = [nb.zeros(shape), nb.zeros(shape)];
    matmulFloat32(expected as never, [a, b] as never);
    new WasmGemm(null).matmul(actual as never, [a, b] as never);
    assert.deepEqual(Array.from(actual.dataSync()), Array.from(expected.dataSync()));
  };

  test('a batch of small products shared between worker threads, the weights packed once', async () => {
    nb.manualSeed(19);
    const arena = Arena.create(64 * 2 ** 20)!;
    const gemm = new WasmGemm(arena, 3);
    // A convolution's per-sample products: 2.4 M multiply-adds each, 38 M in all.
    const [w, cols] = [nb.randn([1, 64, 288]), nb.randn([16, 1, 288, 121])];
    const [n, dense] = [nb.randn([16, 1, 64, 121]), nb.randn([16, 1, 121, 288])];
    gemm.matmul(nb.zeros([16, 1, 64, 121]) as never, [w, cols] as never); // starts the workers
    for (let wait = 0; gemm.workersReady < 2 && wait < 200; wait++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(gemm.workersReady, 2);
    for (const [a, b] of [
      [w, cols],
      [n, dense],
    ] as const) {
      const shape = nb.noGrad(() => a.matmul(b)).shape;
      // In the arena with whole tiles the kernel writes the output in place; else it copies it.
      const inArena = arenaView(arena, [...shape], () => NaN);
      const [expected, actual] = [nb.zeros(shape), nb.zeros(shape)];
      matmulFloat32(expected as never, [a, b] as never);
      gemm.matmul(actual as never, [a, b] as never);
      gemm.matmul(inArena as never, [a, b] as never);
      const want = Array.from(expected.dataSync());
      assert.deepEqual(Array.from(actual.dataSync()), want);
      assert.deepEqual(Array.from(inArena.buffer), want);
    }
  });

  test('on shapes that are not multiples of the 4×8 tile, including size 0 and 1', () => {
    nb.manualSeed(11);
    for (const [m, k, n] of [
      [1, 1, 1],
      [3, 5, 7],
      [4, 8, 8],
      [5, 9, 17],
      [13, 1, 3],
      [33, 64, 65],
      [64, 128, 10], // W2's logits: short rows copied out of the padded product one by one
      [2, 0, 3],
      [0, 4, 5],
    ]) {
      check(nb.randn([m!, k!]), nb.randn([k!, n!]));
    }
  });

  test('on transposed views and broadcast batches', () => {
    nb.manualSeed(12);
    check(nb.randn([9, 6]).T, nb.randn([9, 11]));
    check(nb.randn([6, 9]), nb.randn([11, 9]).T);
    check(nb.randn([3, 5, 6]), nb.randn([6, 10]));
    check(nb.randn([2, 1, 4, 3]), nb.randn([3, 3, 9]));
  });

  test('packing and output in SIMD, for tensors in the arena: row-major, transposed, odd sizes', () => {
    nb.manualSeed(14);
    const cases: [nb.Tensor, nb.Tensor][] = [
      [nb.randn([37, 130]), nb.randn([130, 45])], // A rows contiguous along k; B rows adjacent
      [nb.randn([130, 37]).T, nb.randn([45, 130]).T], // A rows adjacent; B rows along k
      [nb.randn([64, 257]), nb.randn([96, 257]).T], // x·Wᵀ; whole tiles: C written in place
      [nb.randn([65, 130]), nb.randn([130, 70])], // C in the arena, copied out of partial tiles
      // No stride 1 on either side (every other element): packed element by element.
      [
        nb.randn([38, 70, 2]).narrow(2, 0, 1).squeeze(2),
        nb.randn([70, 30, 2]).narrow(2, 1, 1).squeeze(2),
      ],
    ];
    for (const [a, b] of cases) {
      for (const x of [a, b])
        assert.ok((x.buffer as Float32Array).buffer instanceof SharedArrayBuffer);
      const shape = [a.shape[0]!, b.shape[1]!];
      const [expected, actual] = [nb.zeros(shape), nb.zeros(shape)];
      matmulFloat32(expected as never, [a, b] as never);
      cpuBackend.kernels.MatMul(actual as never, [a, b] as never, {});
      assert.deepEqual(Array.from(actual.dataSync()), Array.from(expected.dataSync()));
    }
  });

  test('transposed matrices in the arena are copied to dense ones in SIMD strips', () => {
    nb.manualSeed(15);
    for (const [r, c] of [
      [300, 70],
      [257, 64],
      [4, 4099],
    ]) {
      const d = nb.randn([r!, c!]);
      const t = d.T.contiguous(); // [c, r]
      const [D, T] = [d.dataSync(), t.dataSync()];
      assert.ok(T.buffer instanceof SharedArrayBuffer);
      for (let i = 0; i < c!; i++)
        for (let j = 0; j < r!; j++) assert.equal(T[i * r! + j], D[j * c! + i], `[${i}, ${j}]`);
    }
  });

  test('shared between worker threads, with panels split unevenly, by rows or by columns', async () => {
    nb.manualSeed(13);
    const gemm = new WasmGemm(Arena.create(64 * 2 ** 20), 3);
    const [a, b] = [nb.randn([4 * 37 + 3, 1200]), nb.randn([1200, 100])]; // 38 panels of A, 18 M MACs
    const shape = [a.shape[0]!, 100];
    const [expected, actual] = [nb.zeros(shape), nb.zeros(shape)];
    gemm.matmul(actual as never, [a, nb.ones([1200, 100])] as never); // starts the workers
    for (let wait = 0; gemm.workersReady < 2 && wait < 200; wait++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(gemm.workersReady, 2);
    matmulFloat32(expected as never, [a, b] as never);
    gemm.matmul(actual as never, [a, b] as never);
    assert.deepEqual(Array.from(actual.dataSync()), Array.from(expected.dataSync()));
    // Few rows and many columns: split by B's panels (38 of them, 7 M MACs).
    const [c, d] = [nb.randn([20, 1200]), nb.randn([1200, 300])];
    const [wide, wideExpected] = [nb.zeros([20, 300]), nb.zeros([20, 300])];
    matmulFloat32(wideExpected as never, [c, d] as never);
    gemm.matmul(wide as never, [c, d] as never);
    assert.deepEqual(Array.from(wide.dataSync()), Array.from(wideExpected.dataSync()));
  });

  test("a batch's operands in the arena packed in SIMD by the threads together, partial panels too", async () => {
    nb.manualSeed(20);
    const { gemm, inArena, transposedInArena } = await threadedGemm();
    // Products of 1.3 M and 3.3 M multiply-adds, shared as a batch: many operands packed one per
    // chunk (in two jobs), and two big ones cut into chunks. All with partial panels.
    for (const [count, m, k, n] of [
      [40, 4 * 9 + 3, 300, 8 * 12 + 5],
      [2, 4 * 30 + 1, 300, 8 * 10 + 3],
    ] as const) {
      const [a, b, w] = [nb.randn([count, m, k]), nb.randn([count, k, n]), nb.randn([m, k])];
      // Row-major A (rows contiguous along k) and B (panel rows adjacent), then their transposes;
      // last, weights against every sample (packed once).
      const [A, B, At, Bt, W] = [
        inArena(a),
        inArena(b),
        transposedInArena(a),
        transposedInArena(b),
        inArena(w),
      ];
      for (const [x, y, operands] of [
        [a, b, [A, B]],
        [a, b, [At, Bt]],
        [a, b, [A, Bt]],
        [w, b, [W, Bt]],
      ] as const) {
        const [expected, actual] = [nb.zeros([count, m, n]), nb.zeros([count, m, n])];
        matmulFloat32(expected as never, [x, y] as never);
        gemm.matmul(actual as never, operands as never);
        assert.deepEqual(Array.from(actual.dataSync()), Array.from(expected.dataSync()));
      }
    }
  });

  test('A read in place, unpacked, and split operands packed by the threads that multiply them', async () => {
    nb.manualSeed(21);
    const { arena, gemm, inArena, transposedInArena } = await threadedGemm();
    for (const [aShape, bShape, aT, bT] of [
      [[64, 300], [300, 96], false, false], // row-major A read in place, B packed; one thread
      [[64, 784], [784, 128], false, true], // W2's x·Wᵀ: A in place, Wᵀ packed by the threads
      [[128, 64], [64, 784], true, false], // W2's gradient gᵀ·x: Aᵀ (32 KiB) in place
      [[132, 200], [200, 304], true, false], // a longer Aᵀ packed first, B packed in the chunks
      [[260, 300], [300, 64], true, false], // Aᵀ packed in the chunks (split by rows)
      [[20, 1200], [1200, 300], false, false], // B packed in the chunks, its last panel partial
      [[400, 512], [512, 100], false, true], // split by rows, A in place; Bᵀ packed, partial
      [[520, 300], [300, 260], false, false], // split by rows; B (78,000 floats) packed by all threads
      [[3, 64, 400], [400, 200], false, false], // a batch in place against B packed once
      [[2, 128, 64], [2, 64, 784], true, false], // a batch of Aᵀ in place, each B packed
    ] as const) {
      const [a, b] = [nb.randn([...aShape]), nb.randn([...bShape])];
      const [A, B] = [
        aT ? transposedInArena(a) : inArena(a),
        bT ? transposedInArena(b) : inArena(b),
      ];
      const shape = [...nb.noGrad(() => a.matmul(b)).shape];
      const expected = nb.zeros(shape);
      matmulFloat32(expected as never, [a, b] as never);
      const want = Array.from(expected.dataSync());
      for (const out of [nb.zeros(shape), arenaView(arena, shape, () => NaN)]) {
        gemm.matmul(out as never, [A, B] as never);
        const got = out instanceof nb.Tensor ? out.dataSync() : out.buffer;
        assert.deepEqual(Array.from(got), want, `${aShape.join('×')} · ${bShape.join('×')}`);
      }
    }
  });

  test("2×2 max-pool windows in SIMD pick the plain kernel's elements: ties, NaN, odd widths", () => {
    nb.manualSeed(18);
    const attrs = {
      kernel: [2, 2],
      stride: [2, 2],
      padding: [0, 0, 0, 0],
      dilation: [1, 1],
      padValue: -Infinity,
    } as const;
    // Whole numbers tie often; a few NaN, one a window's second tap; width 27 leaves a tail.
    const values = nb.randint(-2, 3, [8, 8, 14, 27]).cast('float32');
    const x = nb.where(nb.rand([8, 8, 14, 27]).lt(0.01), NaN, values);
    const [simd, plain] = [0, 1].map(() => nb.zeros([8, 8, 7, 13], { dtype: 'int32' }));
    for (const t of [x, simd!]) assert.ok(t.dataSync().buffer instanceof SharedArrayBuffer);
    cpuBackend.kernels.WindowArgMax(simd as never, [x] as never, attrs);
    windowArgmaxKernel(null)(plain as never, [x] as never, attrs);
    assert.deepEqual(Array.from(simd!.dataSync()), Array.from(plain!.dataSync()));
  });

  test('comparisons into bool outputs in the arena: NaN, ties, signed zeros, broadcasts, odd tails', () => {
    nb.manualSeed(21);
    // Whole numbers tie often; 1% NaN; -0 against 0. 64 × 301 bools: in the arena, and a tail of 1.
    const ints = nb.randint(-2, 3, [64, 301]).cast('float32');
    const x = nb.where(nb.rand([64, 301]).lt(0.01), NaN, nb.where(ints.eq(0), -0, ints));
    const X = x.dataSync();
    const z = nb.where(
      nb.rand([64, 301]).lt(0.01),
      NaN,
      nb.randint(-2, 3, [64, 301]).cast('float32'),
    );
    const Z = z.dataSync();
    const reference = {
      eq: (a: number, b: number) => a === b,
      ne: (a: number, b: number) => a !== b,
      lt: (a: number, b: number) => a < b,
      le: (a: number, b: number) => a <= b,
      gt: (a: number, b: number) => a > b,
      ge: (a: number, b: number) => a >= b,
    };
    const row = nb.tensor(Float32Array.from({ length: 301 }, (_, j) => (j % 5) - 2));
    const column = nb
      .tensor(Float32Array.from({ length: 64 }, (_, i) => (i % 3) - 1))
      .reshape([64, 1]);
    for (const [name, want] of Object.entries(reference)) {
      const op = x[name as keyof typeof reference].bind(x);
      for (const [label, other, at] of [
        ['a scalar', 0, () => 0],
        ['a row', row, (i: number) => row.dataSync()[i % 301]!],
        ['a column', column, (i: number) => column.dataSync()[Math.floor(i / 301)]!],
        ['a tensor', z, (i: number) => Z[i]!],
      ] as const) {
        const got = op(other);
        assert.ok(got.dataSync().buffer instanceof SharedArrayBuffer, `${name} with ${label}`);
        const values = got.dataSync();
        for (let i = 0; i < X.length; i++)
          assert.equal(values[i], want(X[i]!, at(i)) ? 1 : 0, `${name} with ${label}, ${i}`);
      }
    }
  });

  test("a batch's convolution windows (im2col, col2im) in one call give the plain loops' floats", () => {
    nb.manualSeed(20);
    const base = { padding: [0, 0, 0, 0], dilation: [1, 1], stride: [1, 1], padValue: 0 };
    for (const [shape, attrs, narrowed] of [
      [[6, 5, 13, 13], { ...base, kernel: [3, 3] }, false], // W7's second convolution, smaller
      [[8, 4, 17, 15], { ...base, kernel: [3, 2], dilation: [2, 3], stride: [2, 1] }, false],
      [
        [8, 4, 17, 15],
        { ...base, kernel: [3, 3], padding: [1, 2, 0, 1], padValue: -Infinity },
        false,
      ],
      // Half of each sample's channels: samples not a plane stride apart (the loops per tap).
      [[8, 4, 17, 15], { ...base, kernel: [3, 3], padding: [1, 1, 1, 1] }, true],
    ] as const) {
      const [n, c, h, w] = shape;
      const [kh, kw] = attrs.kernel;
      const [top, bottom, left, right] = attrs.padding;
      const extent = (size: number, k: number, d: number) => size - d * (k - 1) - 1;
      const oh = Math.floor(extent(h + top + bottom, kh, attrs.dilation[0]) / attrs.stride[0]) + 1;
      const ow = Math.floor(extent(w + left + right, kw, attrs.dilation[1]) / attrs.stride[1]) + 1;
      const all = nb.randn([n, narrowed ? 2 * c : c, h, w]);
      const x = all.narrow(1, 0, c);
      const [fast, plain] = [0, 1].map(() => nb.zeros([n, c, kh, kw, oh, ow]));
      for (const t of [all, fast!]) assert.ok(t.dataSync().buffer instanceof SharedArrayBuffer);
      cpuBackend.kernels.Im2Col(fast as never, [x] as never, attrs as never);
      im2colKernel(null)(plain as never, [x] as never, attrs as never);
      assert.deepEqual(Array.from(fast!.dataSync()), Array.from(plain!.dataSync()));
      const cols = nb.randn([n, c, kh, kw, oh, ow]);
      const [back, backPlain] = [0, 1].map(() => nb.zeros([n, c, h, w]));
      const size = { ...attrs, size: [h, w] };
      cpuBackend.kernels.Col2Im(back as never, [cols] as never, size as never);
      col2imKernel(null)(backPlain as never, [cols] as never, size as never);
      assert.deepEqual(Array.from(back!.dataSync()), Array.from(backPlain!.dataSync()));
    }
  });

  test('gathers and scatter-adds by index in the arena match plain loops; a bad index is named', () => {
    nb.manualSeed(19);
    // [before, size, after] with the index along the middle (after 7) and along the last (after 1,
    // a pooling's picks); every operand big enough for the arena.
    for (const [before, size, after, along] of [
      [4, 200, 7, 160],
      [32, 676, 1, 169],
    ] as const) {
      const x = nb.where(
        nb.rand([before, size, after]).lt(0.01),
        NaN,
        nb.randn([before, size, after]),
      );
      const index = nb.randint(0, size, [before, along, after]);
      const src = nb.randn([before, along, after]);
      for (const t of [x, index, src]) assert.ok(t.dataSync().buffer instanceof SharedArrayBuffer);
      const [X, I, S] = [x.dataSync(), index.dataSync(), src.dataSync()];
      const gathered = nb.gather(x, 1, index).dataSync();
      const added = nb.zeros([before, size, after]);
      cpuBackend.kernels.ScatterAdd(added as never, [index, src] as never, {
        dim: 1,
        shape: [before, size, after],
      });
      const sums = new Float32Array(before * size * after);
      for (let a = 0, p = 0; a < before; a++)
        for (let k = 0; k < along; k++)
          for (let b = 0; b < after; b++, p++) {
            const at = (a * size + I[p]!) * after + b;
            assert.ok(Object.is(gathered[p], X[at]), `gather ${p}`);
            sums[at] = Math.fround(sums[at]! + S[p]!);
          }
      assert.deepEqual(Array.from(added.dataSync()), Array.from(sums));
      const bad = index.clone();
      bad.dataSync()[123] = size;
      assert.throws(() => nb.gather(x, 1, bad), new RegExp(`index ${size} is out of range`));
      bad.dataSync()[123] = -1;
      assert.throws(() => nb.gather(x, 1, bad), /index -1 is out of range/);
    }
  });

  test("a batch of per-channel rows (a convolution's bias) runs in SIMD, a launch per sample", () => {
    const arena = Arena.create(16 * 2 ** 20)!;
    const simd = new WasmElementwise(arena);
    const view = (shape: number[], fill: (i: number) => number) => arenaView(arena, shape, fill);
    const [n, c, hw] = [5, 3, 99]; // 1,485 elements: past the smallest SIMD output
    const x = view([n, c, hw], Math.sin);
    // The bias is copied in once for all samples (the same elements); an input on the JS heap that
    // differs between samples is copied in again for each.
    const bias = view([1, c, 1], (i) => i + 0.5);
    const heapX = { ...x, buffer: Float32Array.from(x.buffer) };
    const add = simd.kernel({ op: 'Add', args: [{ input: 0 }, { input: 1 }] }, () =>
      assert.fail('the SIMD kernel declined'),
    );
    for (const input of [x, heapX]) {
      const out = view([n, c, hw], () => NaN);
      add(out, [input, bias]);
      out.buffer.forEach((v, i) =>
        assert.equal(v, Math.fround(x.buffer[i]! + bias.buffer[Math.floor(i / hw) % c]!), `${i}`),
      );
    }
  });

  test('exp, log, sigmoid and tanh in SIMD: within 2 ulp of the plain-TS kernels on every 257th float', () => {
    const arena = Arena.create(32 * 2 ** 20)!;
    const simd = new WasmElementwise(arena);
    const chunk = 1 << 20; // a 1,000,003-element row: the last 3 go through the single-lane path
    const [x, out] = [0, 1].map(() => arenaView(arena, [chunk + 3], () => 0));
    const reference = {
      Exp: (v: number) => Math.exp(v),
      Log: (v: number) => Math.log(v),
      Sigmoid: (v: number) => 1 / (1 + Math.exp(-v)),
      Tanh: Math.tanh,
    };
    const bits = new Int32Array(x!.buffer.buffer, x!.buffer.byteOffset, x!.buffer.length);
    const outBits = new Int32Array(out!.buffer.buffer, out!.buffer.byteOffset, out!.buffer.length);
    const ordered = (b: number): number => (b < 0 ? -(b & 0x7fffffff) : b); // monotone in the float
    const wantBits = new Int32Array(1);
    const want = new Float32Array(wantBits.buffer);
    for (const [op, f] of Object.entries(reference)) {
      const kernel = simd.kernel({ op, args: [{ input: 0 }] }, () => assert.fail('declined'));
      let worst = { ulp: 0, at: 0 };
      for (let start = 0; start < 2 ** 32; start += 257 * bits.length) {
        bits.forEach((_, i) => (bits[i] = start + 257 * i)); // wraps through the negative floats
        kernel(out!, [x!]);
        for (let i = 0; i < bits.length; i++) {
          want[0] = f(x!.buffer[i]!);
          const ulp = Number.isNaN(want[0])
            ? Number.isNaN(out!.buffer[i]!)
              ? 0
              : Infinity
            : Math.abs(ordered(outBits[i]!) - ordered(wantBits[0]!));
          if (ulp > worst.ulp) worst = { ulp, at: x!.buffer[i]! };
        }
      }
      assert.ok(worst.ulp <= 2, `${op}: ${worst.ulp} ulp at ${worst.at}`);
    }
    // The special values, exactly.
    const special = [
      NaN,
      Infinity,
      -Infinity,
      0,
      -0,
      88.72,
      88.73,
      -87.4,
      -103.9,
      -104.5,
      1e-30,
      1e-45,
      1,
      -1,
    ];
    x!.buffer.fill(0).set(special);
    for (const [op, f] of Object.entries(reference)) {
      simd.kernel({ op, args: [{ input: 0 }] }, () => assert.fail('declined'))(out!, [x!]);
      special.forEach((v, i) => {
        const [got, expected] = [out!.buffer[i]!, Math.fround(f(v))];
        if (Number.isNaN(expected)) assert.ok(Number.isNaN(got), `${op}(${v})`);
        else if (!Number.isFinite(expected) || expected === 0)
          assert.ok(Object.is(got, expected), `${op}(${v}) = ${got}, not ${expected}`);
      });
    }
  });

  test('elementwise kernels shared between worker threads: by rows and along one row', async () => {
    const arena = Arena.create(64 * 2 ** 20)!; // null only without SharedArrayBuffer
    const simd = new WasmElementwise(arena, 3);
    const view = (shape: number[], fill: (i: number) => number) => arenaView(arena, shape, fill);
    const expr = {
      op: 'Add',
      args: [{ op: 'Mul', args: [{ input: 0 }, { input: 1 }] }, { input: 2 }],
    };
    const noFallback = () => assert.fail('the SIMD kernel declined');
    const [rows, cols] = [601, 503]; // 302,303 elements, split unevenly
    const x = view([rows, cols], (i) => Math.sin(i));
    const cases = {
      'one row (same-shape operands)': [
        view([rows, cols], (i) => i % 7),
        view([rows, cols], Math.cos),
      ],
      'by rows (a row and a column vector)': [
        view([cols], (i) => i / 3),
        view([rows, 1], (i) => -i),
      ],
    };
    for (const [label, [y, z]] of Object.entries(cases)) {
      const out = view([rows, cols], () => NaN);
      const kernel = simd.kernel(expr, noFallback);
      kernel(out, [x, y!, z!]); // the first big output starts the workers
      for (let wait = 0; simd.workersReady < 2 && wait < 200; wait++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      assert.equal(simd.workersReady, 2);
      out.buffer.fill(NaN);
      kernel(out, [x, y!, z!]);
      const at = (v: ReturnType<typeof arenaView>, r: number, c: number): number =>
        v.buffer[
          (v.shape[0] === 1 || v.shape.length === 1 ? 0 : r * v.strides[0]!) +
            (v.shape.at(-1) === 1 ? 0 : c)
        ]!;
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) {
          const want = Math.fround(Math.fround(at(x, r, c) * at(y!, r, c)) + at(z!, r, c));
          assert.equal(out.buffer[r * cols + c], want, `${label}: [${r}, ${c}]`);
        }
    }
  });

  test('gradients that scatter into a zeroed arena block (gather, slice, convolution) see no old contents', () => {
    /** Leaves freed arena blocks of `shape`'s size holding 7s, for the next tensors of that size. */
    const dirty = (shape: number[]): void => {
      const blocks = Array.from({ length: 6 }, () => nb.full(shape, 7));
      blocks.forEach((t) => t.dispose());
    };
    /** `x`'s gradient after backward() from `loss(x)`, taken over freshly dirtied blocks. */
    const gradient = (x: nb.Tensor, loss: (x: nb.Tensor) => nb.Tensor): Float32Array => {
      const out = loss(x);
      dirty([...x.shape]);
      out.backward();
      return x.grad!.dataSync() as Float32Array;
    };
    // gather (a dense index and gradient: the scatter-add's row loops), x[i][j] taken twice at
    // j = 3i mod 200 and each times 3; indexSelect (a broadcast index: the general loop), row 7
    // twice and row 42 once.
    const picks = Array.from({ length: 100 }, (_, i) => [(3 * i) % 200, (3 * i) % 200]);
    const index = nb.tensor(picks, { dtype: 'int32' });
    const weights = nb.full([100, 2], 3);
    const g = gradient(nb.zeros([100, 200], { requiresGrad: true }), (x) =>
      x.gather(1, index).mul(weights).sum(),
    ); // 80 KB
    g.forEach((value, k) => {
      const [i, j] = [Math.floor(k / 200), k % 200];
      assert.equal(value, j === (3 * i) % 200 ? 6 : 0, `gather [${i}, ${j}]`);
    });
    const rows = nb.tensor([7, 42, 7], { dtype: 'int32' });
    const gt = gradient(nb.zeros([300, 50], { requiresGrad: true }), (x) =>
      x.indexSelect(0, rows).sum(),
    ); // 60 KB
    gt.forEach((value, k) => {
      const row = Math.floor(k / 50);
      assert.equal(value, row === 7 ? 2 : row === 42 ? 1 : 0, `indexSelect ${k}`);
    });
    // narrow (unslice): ones over the window, zeros around it.
    const gv = gradient(nb.zeros([20000], { requiresGrad: true }), (x) =>
      x.narrow(0, 5000, 10).sum(),
    );
    gv.forEach((value, k) => assert.equal(value, k >= 5000 && k < 5010 ? 1 : 0, `narrow ${k}`));
    // A 1×1 convolution with stride 2 (col2im): the input's odd rows and columns get nothing.
    const kernel = nb.ones([1, 4, 1, 1]);
    const gi = gradient(nb.zeros([1, 4, 64, 64], { requiresGrad: true }), (x) =>
      nb.nn.functional.conv2d(x, kernel, null, { stride: 2 }).sum(),
    ); // 64 KB
    gi.forEach((value, k) => {
      const [r, c] = [Math.floor(k / 64) % 64, k % 64];
      assert.equal(value, r % 2 === 0 && c % 2 === 0 ? 1 : 0, `convolution ${k}`);
    });
  });

  test('sums over leading dimensions (bias gradients) add each column down the rows in float64, as the plain-TS sum does', async () => {
    // Values of mixed magnitude, so that float32 accumulation (or another order) would differ.
    const value = (i: number): number => (i % 7 === 0 ? 3e7 : 1) * Math.sin(i) + (i % 5) / 3;
    /** The reference: each column summed down the rows in a float64 number, then rounded. */
    const columnSums = (values: Float32Array, rows: number, cols: number): number[] =>
      Array.from({ length: cols }, (_, j) => {
        let sum = 0;
        for (let r = 0; r < rows; r++) sum += values[r * cols + j]!;
        return Math.fround(sum);
      });
    // [300, 37]: 32 columns in blocks of 16, 4 in a block of 4, the last in TS; a [37] result off
    // the arena. [3, 5000]: the result in the arena. [4, 50, 90]: two leading dimensions. [64,
    // 4000]: shared between threads, once the workers have started (an event-loop turn each).
    const cases: [number[], number[]][] = [
      [[300, 37], [0]],
      [[3, 5000], [0]],
      [
        [4, 50, 90],
        [0, 1],
      ],
      [[64, 4000], [0]],
      [[64, 4000], [0]],
    ];
    for (const [shape, dims] of cases) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: size }, (_, i) => value(i));
      values[size - 2] = NaN; // the second-to-last column's sum is NaN
      const x = nb.tensor(values).reshape(shape).add(0); // a new tensor: in the arena
      const rows = dims.reduce((n, d) => n * shape[d]!, 1);
      const expected = columnSums(values, rows, size / rows);
      assert.deepEqual([...x.sum(dims).dataSync()], expected, `${shape}`);
    }
  });

  test('indexSelect moves float32 blocks in the arena with one copy per index: rows, and columns', () => {
    // x[i][j] = 50·i + j, float32, 60 KB: in the arena
    const x = nb.arange(0, 15000, 1, { dtype: 'float32' }).reshape([300, 50]);
    const rows = Array.from({ length: 100 }, (_, r) => (r * 37) % 300);
    const cols = Array.from({ length: 30 }, (_, c) => (c * 7 + 3) % 50);
    const byRows = nb.indexSelect(x, 0, nb.tensor(rows, { dtype: 'int32' })).dataSync();
    rows.forEach((i, r) => {
      for (let j = 0; j < 50; j++) assert.equal(byRows[r * 50 + j], 50 * i + j, `row ${r}`);
    });
    const byCols = nb.indexSelect(x, 1, nb.tensor(cols, { dtype: 'int32' })).dataSync();
    for (let i = 0; i < 300; i++)
      cols.forEach((j, c) => assert.equal(byCols[i * 30 + c], 50 * i + j, `[${i}, ${c}]`));
    const outside = nb.tensor([...rows.slice(0, 99), 300], { dtype: 'int32' });
    assert.throws(() => nb.indexSelect(x, 0, outside), /index 300 is out of range/);
  });

  test('copy_ and clone within the arena copy every element, for each dtype, at offsets too', () => {
    // 8,000 elements, 8–64 KB: arena blocks from 16 KB (float32, int32, float64).
    const value = {
      float32: (i: number) => i / 4,
      float64: (i: number) => i / 3,
      int32: (i: number) => 7 * i - 9000,
      bool: (i: number) => (i % 3 === 0 ? 1 : 0),
    };
    for (const dtype of ['float32', 'float64', 'int32', 'bool'] as const) {
      const values = Array.from({ length: 8000 }, (_, i) => value[dtype](i));
      const expected = (from: number, count: number): number[] => values.slice(from, from + count);
      // Copied into a pool-allocated tensor: nb.tensor keeps its data where it is.
      const source = nb.zeros([8000], { dtype });
      nb.noGrad(() => source.copy_(nb.tensor(values, { dtype })));
      const whole = nb.zeros([8000], { dtype });
      nb.noGrad(() => whole.copy_(source));
      assert.deepEqual([...whole.dataSync()], values, `${dtype} copy_`);
      // A dense window at an offset, read (clone) and written (copy_).
      const window = source.reshape([100, 80]).narrow(0, 10, 80);
      assert.deepEqual([...window.clone().dataSync()], expected(800, 6400), `${dtype} clone`);
      const into = nb.zeros([100, 80], { dtype });
      nb.noGrad(() => into.narrow(0, 10, 80).copy_(source.narrow(0, 0, 6400).reshape([80, 80])));
      const written = [...into.dataSync()];
      assert.deepEqual(written.slice(800, 7200), expected(0, 6400), `${dtype} copy_ into a window`);
      assert.ok(
        written.slice(0, 800).every((v) => v === 0) && written.slice(7200).every((v) => v === 0),
        `${dtype}: only the window is written`,
      );
    }
  });

  test('a kernel that fails on a worker is reported, and the pool is not used again', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    // probe(address): reads and rewrites 16 bytes there; out of bounds, it traps.
    const f = new FunctionBuilder('probe', [ValType.i32]);
    const [address] = f.params as [never];
    f.get(address).get(address).v128Load(0).v128Store(0);
    const module = new WebAssembly.Module(buildModule([f], true));
    const { probe } = new WebAssembly.Instance(module, { env: { memory } }).exports as {
      probe: (address: number) => void;
    };
    const pool = WorkerPool.forMemory(memory, 2)!;
    const id = pool.kernelId(module, 'probe');
    for (let wait = 0; pool.ready < 2 && wait < 200; wait++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(pool.ready, 2);
    pool.run(id, [[0], [16], [32], [48]], ([a]) => probe(a!));
    // Every chunk traps on a worker; here each one only takes 5 ms, so the workers get some.
    const slowly = (): void => {
      for (const until = Date.now() + 5; Date.now() < until;);
    };
    const bad = Array.from({ length: 8 }, () => [1 << 30]);
    assert.throws(() => pool.run(id, bad, slowly), /a worker thread failed while running a kernel/);
    assert.equal(pool.ready, 0);
  });

  test('setNumThreads(1) keeps the started workers out of every job; bad counts are refused', () => {
    // In a process of its own: the setting is global, and the other tests use the workers.
    const dist = new URL('../', import.meta.url).href;
    const script = `
      const nb = await import('${dist}src/index.js');
      const { WorkerPool } = await import('${dist}src/backends/wasm/threads.js');
      const { buildModule, FunctionBuilder } = await import('${dist}src/backends/wasm/emitter.js');
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      // A kernel that traps wherever it runs: only a worker would run it (the caller's chunks go
      // to \`own\`), so a job that ends without an error had no chunk on a worker.
      const f = new FunctionBuilder('probe', [0x7f]);
      f.get(f.params[0]).get(f.params[0]).v128Load(0).v128Store(0);
      const module = new WebAssembly.Module(buildModule([f], true));
      const pool = WorkerPool.forMemory(memory, 1);
      const id = pool.kernelId(module, 'probe');
      for (let wait = 0; pool.ready < 1 && wait < 200; wait++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      const started = pool.ready;
      nb.setNumThreads(1);
      let here = 0;
      const slowly = () => { here++; for (const until = Date.now() + 5; Date.now() < until;); };
      pool.run(id, Array.from({ length: 8 }, () => [1 << 30]), slowly);
      const refused = [0, 1.5, NaN, -2].map((n) => {
        try { nb.setNumThreads(n); return 'accepted'; } catch (e) { return e.message; }
      });
      const one = { threads: nb.getNumThreads(), ready: pool.ready, info: nb.deviceInfo() };
      nb.setNumThreads(1000);
      console.log(JSON.stringify({ started, here, refused, one, capped: nb.getNumThreads() }));`;
    const file = join(mkdtempSync(join(tmpdir(), 'nabla-threads-')), 'threads.mjs');
    writeFileSync(file, script);
    const run = spawnSync(process.execPath, [file], {
      encoding: 'utf8',
      env: { ...process.env, NABLA_NUM_THREADS: '2' },
    });
    const out = JSON.parse(run.stdout) as {
      started: number;
      here: number;
      refused: string[];
      one: { threads: number; ready: number; info: string };
      capped: number;
    };
    assert.equal(out.started, 1, 'the worker started');
    assert.equal(out.here, 8, 'every chunk ran on the calling thread');
    assert.deepEqual(out.one, { threads: 1, ready: 0, info: 'cpu: WebAssembly SIMD, threads=1' });
    for (const [i, n] of ['0', '1.5', 'NaN', '-2'].entries())
      assert.equal(out.refused[i], `setNumThreads expects a whole number ≥ 1, got ${n}`);
    // NABLA_NUM_THREADS=2 (or the cores, if fewer) is the most nabla may start.
    assert.ok(out.capped <= 2);
    assert.match(run.stderr, /setNumThreads\(1000\): nabla may start \d threads here/);
  });

  test('bad NABLA_* settings are refused with the value named', () => {
    const script = "import('./dist/src/index.js').catch((e) => console.log(e.message))";
    const start = (name: string, value: string): string =>
      execFileSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        env: { ...process.env, [name]: value },
      });
    assert.match(
      start('NABLA_NUM_THREADS', 'many'),
      /NABLA_NUM_THREADS must be a whole number ≥ 1, got 'many'/,
    );
    assert.match(start('NABLA_NUM_THREADS', '0'), /got '0'/);
    assert.match(
      start('NABLA_CPU_ARENA_MB', 'lots'),
      /NABLA_CPU_ARENA_MB must be a number of MiB ≥ 0, got 'lots'/,
    );
    assert.match(start('NABLA_CPU_ARENA_MB', '-1'), /got '-1'/);
    assert.match(
      start('NABLA_CPU_KERNELS', 'gpu'),
      /NABLA_CPU_KERNELS must be 'js' or 'wasm', got 'gpu'/,
    );
  });

  test('a model trained with NABLA_CPU_KERNELS=js and =wasm ends with the same floats', () => {
    // 64×784·784×128 products go to the SIMD GEMM under wasm, and to plain TS under js.
    const script = `
      const nb = await import('./dist/src/index.js');
      nb.manualSeed(5);
      const model = new nb.nn.Sequential(new nb.nn.Linear(784, 128), new nb.nn.ReLU(), new nb.nn.Linear(128, 10));
      const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
      const x = nb.randn([64, 784]), y = nb.randint(0, 10, [64]);
      for (let i = 0; i < 3; i++) {
        const loss = nb.nn.functional.crossEntropy(model.forward(x), y);
        opt.zeroGrad(); loss.backward(); opt.step();
      }
      const bytes = nb.serialize(model.stateDict());
      console.log(Buffer.from(bytes).toString('base64'));`;
    const run = (kernels: string) =>
      execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: { ...process.env, NABLA_CPU_KERNELS: kernels },
      });
    assert.equal(run('js'), run('wasm'));
  });

  test('a product with no room for its scratch in WebAssembly memory does nothing and says so', () => {
    // The MatMul kernel then runs matmulFloat32, which the tests above prove gives the same floats.
    nb.manualSeed(16);
    const [a, b] = [nb.randn([40, 300]), nb.randn([300, 50])];
    const arena = Arena.create(64 * 2 ** 20)!;
    arena.alloc = () => null; // as when 4 GiB are taken
    const out = nb.zeros([40, 50]);
    assert.equal(new WasmGemm(arena).matmul(out as never, [a, b] as never), false);
    assert.equal(out.abs().sum().item(), 0);
  });

  test('with relaxed SIMD (a V8 flag in Node 20) the product uses fused multiply-adds, within float32 rounding', () => {
    // Fused, each multiply-add is rounded once, so the floats differ from the plain-TS kernel's:
    // each result is checked against float64 within k·2⁻²⁴·Σ|a·b| (the classic bound), on one
    // thread and shared between workers.
    const dist = new URL('../', import.meta.url).href;
    const script = `
      const nb = await import('${dist}src/index.js');
      const { WasmGemm } = await import('${dist}src/backends/wasm/gemm.js');
      const { Arena } = await import('${dist}src/backends/wasm/arena.js');
      const gemm = new WasmGemm(Arena.create(64 * 2 ** 20), 2);
      nb.manualSeed(16);
      let worst = 0;
      for (const [m, k, n] of [[37, 130, 45], [151, 1200, 100]]) {
        const [a, b] = [nb.randn([m, k]), nb.randn([k, n])];
        const out = nb.zeros([m, n]);
        if (m > 100) {
          gemm.matmul(out, [a, b]); // starts the worker
          for (let wait = 0; gemm.workersReady < 1 && wait < 200; wait++)
            await new Promise((resolve) => setTimeout(resolve, 25));
          if (gemm.workersReady < 1) throw new Error('the worker did not start');
        }
        gemm.matmul(out, [a, b]);
        const [A, B, C] = [a.dataSync(), b.dataSync(), out.dataSync()];
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let [exact, size] = [0, 0];
            for (let t = 0; t < k; t++) {
              exact += A[i * k + t] * B[t * n + j];
              size += Math.abs(A[i * k + t] * B[t * n + j]);
            }
            worst = Math.max(worst, Math.abs(C[i * n + j] - exact) / (k * 2 ** -24 * size));
          }
      }
      console.log(JSON.stringify({ fused: gemm.fused, info: nb.deviceInfo(), worst }));`;
    // A file, not -e: worker threads inherit the parent's arguments, and -e's would run it again.
    const file = join(mkdtempSync(join(tmpdir(), 'nabla-fma-')), 'fma.mjs');
    writeFileSync(file, script);
    const output = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', file], {
      encoding: 'utf8',
      env: { ...process.env, NABLA_NUM_THREADS: '1' },
    });
    const { fused, info, worst } = JSON.parse(output) as {
      fused: boolean;
      info: string;
      worst: number;
    };
    assert.ok(fused, 'relaxed SIMD validated');
    assert.match(info, /WebAssembly SIMD with relaxed-SIMD FMA/);
    assert.ok(worst <= 1, `error ${worst} of the bound`);
    assert.ok(!new WasmGemm(null).fused, 'without the flag, multiply + add');
  });

  test('NABLA_CPU_ARENA_MB=0 runs without an arena; NABLA_NUM_THREADS above the cores is capped', () => {
    const script = `
      const nb = await import('./dist/src/index.js');
      const { cpuMemoryStats } = await import('./dist/src/backends/cpu/index.js');
      const x = nb.ones([300, 300]);
      console.log(nb.matmul(x, x).sum().item(), cpuMemoryStats().arenaBudget);`;
    const run = (name: string, value: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: { ...process.env, [name]: value },
      });
    const noArena = run('NABLA_CPU_ARENA_MB', '0');
    assert.equal(noArena.stdout.trim(), '27000000 0', noArena.stderr);
    const many = run('NABLA_NUM_THREADS', '64');
    assert.match(many.stdout, /^27000000 /);
    assert.match(
      many.stderr,
      /NABLA_NUM_THREADS=64 is more than the \d+ cores here: using \d+ threads/,
    );
  });

  test('NABLA_CPU_KERNELS=js switches to the plain-TS kernels', () => {
    const script =
      "import('./dist/src/backends/cpu/index.js').then((m) => console.log(m.cpuKernels))";
    const run = (value: string) =>
      execFileSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        env: { ...process.env, NABLA_CPU_KERNELS: value },
      }).trim();
    assert.equal(run('js'), 'js');
    assert.equal(run('wasm'), 'wasm');
  });
});
