/**
 * CPU memory in the WebAssembly arena, and the SIMD elementwise kernels that work on it in place,
 * checked against the plain-TS reference kernels.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as nb from '../src/index.js';
import { Arena, sizeClass } from '../src/backends/wasm/arena.js';
import { cpuBackend, cpuMemoryStats } from '../src/backends/cpu/index.js';
import { elementwise } from '../src/backends/cpu/elementwise.js';
import type { FusedExpr } from '../src/backends/backend.js';

describe('arena allocator', () => {
  test('size classes are 64-byte aligned and waste at most an eighth', () => {
    for (const bytes of [1, 63, 64, 65, 1000, 16384, 16385, 100_000, 4_000_000, 123_456_789]) {
      const size = sizeClass(bytes);
      assert.ok(size >= bytes && size % 64 === 0, `${bytes} → ${size}`);
      assert.ok(size <= Math.max(64, bytes * 1.125 + 64), `${bytes} → ${size}`);
    }
  });

  test('blocks are distinct, freed blocks are reused, and the budget is kept', () => {
    const arena = Arena.create(1 << 20, 1 << 16)!;
    const a = arena.alloc(20_000)!;
    const b = arena.alloc(20_000)!;
    assert.ok(a % 64 === 0 && b % 64 === 0 && Math.abs(a - b) >= sizeClass(20_000));
    arena.release(a, 20_000);
    assert.equal(arena.alloc(19_000), a, 'same size class: the freed block comes back');
    while (arena.alloc(100_000) !== null); // fill up to the budget
    assert.ok(arena.reservedBytes <= 1 << 20);
    assert.equal(arena.alloc(100_000), null);
    assert.notEqual(arena.alloc(100_000, true), null, 'kernel scratch may pass the budget');
  });
});

describe('tensors in the arena', () => {
  test('large tensors live in the arena; small ones on the JS heap', () => {
    const big = nb.zeros([64, 64]).dataSync();
    const small = nb.zeros([4]).dataSync();
    assert.ok(big.buffer instanceof SharedArrayBuffer);
    assert.ok(!(small.buffer instanceof SharedArrayBuffer));
  });

  test('a dataSync() view stays valid after its tensor is disposed and the memory reused', () => {
    const t = nb.arange(0, 8192);
    const whole = t.dataSync();
    const part = t.slice(0, 100, 200).dataSync();
    t.dispose();
    for (let i = 0; i < 20; i++) nb.noGrad(() => nb.ones([8192]).mul(7)); // would reuse freed blocks
    assert.equal(whole[8191], 8191);
    assert.deepEqual(Array.from(part.subarray(0, 3)), [100, 101, 102]);
  });

  test('blocks of tensors nobody disposed come back through the garbage collector', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const churn = (): void => {
      for (let i = 0; i < 50; i++) nb.noGrad(() => nb.ones([100_000]).add(1));
    };
    churn();
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10)); // FinalizationRegistry callbacks
    const before = cpuMemoryStats().arenaBytes;
    churn();
    assert.equal(cpuMemoryStats().arenaBytes, before, 'the second churn reused the first one');
  });

  test('a synchronous loop that never disposes stays within the budget, with right results', () => {
    const script = `
      import('./dist/src/index.js').then(async (nb) => {
        const { cpuMemoryStats } = await import('./dist/src/backends/cpu/index.js');
        const x = nb.arange(0, 50000);
        let y;
        for (let i = 0; i < 200; i++) y = nb.noGrad(() => x.mul(2).add(i));
        const { arenaBytes, arenaBudget } = cpuMemoryStats();
        console.log(JSON.stringify({ ok: arenaBytes <= arenaBudget, last: y.dataSync()[49999] }));
      });`;
    const output = execFileSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NABLA_CPU_ARENA_MB: '4' },
    });
    assert.deepEqual(JSON.parse(output), { ok: true, last: 2 * 49999 + 199 });
  });
});

test('without SharedArrayBuffer (a browser page without cross-origin isolation) all still runs', () => {
  const script = `
    import('./dist/src/index.js').then(async (nb) => {
      const { cpuMemoryStats } = await import('./dist/src/backends/cpu/index.js');
      const a = nb.ones([100, 100]);
      const y = a.matmul(a).add(1).relu();
      console.log(JSON.stringify({ arena: cpuMemoryStats().arenaBudget, y: y.dataSync()[9999] }));
    });`;
  const output = execFileSync(process.execPath, ['--no-harmony-sharedarraybuffer', '-e', script], {
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(output), { arena: 0, y: 101 });
});

describe('SIMD elementwise kernels match the reference kernels', () => {
  nb.manualSeed(21);
  const EXPRESSIONS: Record<string, string> = {
    Add: 'a + b',
    Sub: 'a - b',
    Mul: 'a * b',
    Div: 'a / b',
    Maximum: '(a !== a || b !== b ? NaN : Math.max(a, b))',
    Minimum: '(a !== a || b !== b ? NaN : Math.min(a, b))',
    Neg: '-a',
    Abs: 'Math.abs(a)',
    Sqrt: 'Math.sqrt(a)',
    Square: 'a * a',
    Relu: 'Math.max(a, 0)',
  };
  const ARITY: Record<string, number> = { Neg: 1, Abs: 1, Sqrt: 1, Square: 1, Relu: 1 };

  /** The op through nb (SIMD where it can) and through the plain-TS kernel, elementwise equal. */
  const check = (name: string, inputs: nb.Tensor[]): void => {
    const arity = ARITY[name] ?? 2;
    const args = inputs.slice(0, arity);
    const actual = cpuBackend.kernels[name as 'Add'];
    const shape = nb.noGrad(() =>
      arity === 1 ? nb.add(args[0]!, 0) : nb.add(args[0]!, args[1]!),
    ).shape;
    const [got, want] = [nb.zeros(shape), nb.zeros(shape)];
    actual(got as never, args as never, {} as never);
    elementwise(EXPRESSIONS[name]!, arity)(want as never, args as never);
    const [g, w] = [got.dataSync(), want.dataSync()];
    assert.equal(g.length, w.length);
    for (let i = 0; i < w.length; i++)
      assert.ok(Object.is(g[i], w[i]), `${name} element ${i}: ${g[i]} vs ${w[i]}`);
  };

  const specials = (n: number): nb.Tensor => {
    const t = nb.randn([n]);
    t.dataSync().set([NaN, 0, -0, Infinity, -Infinity, -1, 1e-30]);
    return t;
  };

  test('same shapes, with a tail that is not a multiple of 4, and special values', () => {
    for (const name of Object.keys(EXPRESSIONS)) {
      check(name, [specials(4099), nb.randn([4099]).abs().add(0.5)]);
      check(name, [nb.randn([37, 129]), specials(37 * 129).reshape([37, 129])]);
    }
  });

  test('scalars, row vectors, column vectors and views with offsets', () => {
    const x = nb.randn([41, 131]);
    for (const name of ['Add', 'Sub', 'Mul', 'Div', 'Maximum']) {
      check(name, [x, nb.tensor(0.75)]);
      check(name, [nb.tensor(-1.5), x]);
      check(name, [x, nb.randn([131])]);
      check(name, [nb.randn([41, 1]), x]);
      check(name, [x.slice(0, 1), nb.randn([131])]);
      check(name, [x.T, nb.randn([131, 41])]); // strided: the plain-TS kernel runs it
      check(name, [x.slice(1, 0, 100), nb.randn([100]).reshape([1, 100]).expand([41, 100])]);
    }
  });

  test('bool operands (masks) and small operands from outside the arena', () => {
    const x = nb.randn([64, 301]);
    const mask = x.gt(0); // 19 KB of bools: in the arena
    assert.ok(mask.dataSync().buffer instanceof SharedArrayBuffer);
    check('Mul', [x, mask]);
    check('Mul', [mask, x]);
    const bias = nb.randn([301]); // 1.2 KB: on the JS heap, copied in for the kernel
    assert.ok(!(bias.dataSync().buffer instanceof SharedArrayBuffer));
    check('Add', [x, bias]);
    check('Sub', [nb.randn([64, 1]), x]);
  });

  test('a fused chain gives, in SIMD and in plain TS, exactly what its ops give one by one', () => {
    const expr: FusedExpr = {
      op: 'Add',
      args: [
        { op: 'Mul', args: [{ input: 0 }, { input: 1 }] },
        {
          op: 'Div',
          args: [{ op: 'Relu', args: [{ op: 'Neg', args: [{ input: 2 }] }] }, { input: 3 }],
        },
      ],
    };
    const [a, b, c] = [nb.randn([5000]), nb.randn([5000]), nb.randn([5000])];
    const d = nb.tensor(0.1, { dtype: 'float64' }); // a float64 scalar: used as float32, like PyTorch
    const fused = cpuBackend.fuse!(expr, 4)!;
    const simd = nb.zeros([5000]);
    fused(simd as never, [a, b, c, d] as never);
    // The same values outside the arena take the plain-TS loop.
    const onHeap = [a, b, c].map((t) => nb.tensor(Float32Array.from(t.dataSync())));
    const plain = nb.tensor(new Float32Array(5000));
    fused(plain as never, [...onHeap, d] as never);
    const byOps = nb.noGrad(() => a.mul(b).add(c.neg().relu().div(d)));
    const [S, P, E] = [simd.dataSync(), plain.dataSync(), byOps.dataSync()];
    assert.ok(!(P.buffer instanceof SharedArrayBuffer));
    for (let i = 0; i < 5000; i++) {
      assert.ok(Object.is(S[i], E[i]) && Object.is(P[i], E[i]), `${i}: ${S[i]}, ${P[i]}, ${E[i]}`);
    }
  });

  test('comparisons in a fused chain (a ReLU gradient) give 1 or 0 as in plain TS, NaN included', () => {
    const x = specials(4099);
    // Against x's specials: ±0 against each other, NaN against numbers, and some equal values.
    const y = nb.randn([4099]);
    y.dataSync().set([-0, 0, NaN, Infinity, 1e-30, NaN, -Infinity]);
    y.dataSync().set(x.dataSync().subarray(100, 200), 100);
    const dy = nb.randn([4099]);
    for (const op of ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual']) {
      for (const [label, right] of [
        ['tensor', y],
        ['scalar', nb.tensor(0)],
      ] as const) {
        const expr: FusedExpr = {
          op: 'Mul',
          args: [{ input: 2 }, { op, args: [{ input: 0 }, { input: 1 }] }],
        };
        const fused = cpuBackend.fuse!(expr, 3)!;
        const simd = nb.zeros([4099]);
        fused(simd as never, [x, right, dy] as never);
        const onHeap = [x, right, dy].map((t) =>
          nb.tensor(Float32Array.from(t.dataSync()), { shape: t.shape }),
        );
        const plain = nb.tensor(new Float32Array(4099));
        fused(plain as never, onHeap as never);
        const [S, P] = [simd.dataSync(), plain.dataSync()];
        assert.ok(
          S.buffer instanceof SharedArrayBuffer && !(P.buffer instanceof SharedArrayBuffer),
        );
        for (let i = 0; i < 4099; i++)
          assert.ok(Object.is(S[i], P[i]), `${op} (${label}) element ${i}: ${S[i]} vs ${P[i]}`);
      }
    }
  });
});
