/**
 * A PyTorch-style user never disposes CPU tensors: a long training loop must keep its memory flat.
 * Batches are big enough (64 KB+) to go through the buffer pool.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as nb from '../src/index.js';
import { cpuMemoryStats } from '../src/backends/cpu/index.js';
import { BufferPool } from '../src/backends/cpu/pool.js';
import { Arena } from '../src/backends/wasm/arena.js';

/**
 * PyTorch-style training of inputs → hidden (ReLU) → 10 on one fixed batch of 128, never disposing
 * anything; `each` sees every step number. Returns the model's first weight and the optimizer.
 */
function train(
  inputs: number,
  hidden: number,
  steps: number,
  each: (step: number) => void,
): [nb.Tensor, nb.optim.Optimizer] {
  const model = new nb.nn.Sequential(
    new nb.nn.Linear(inputs, hidden),
    new nb.nn.ReLU(),
    new nb.nn.Linear(hidden, 10),
  );
  const opt = new nb.optim.Adam(model.parameters());
  const x = nb.randn([128, inputs]);
  const y = nb.randint(0, 10, [128]);
  for (let step = 1; step <= steps; step++) {
    const loss = nb.nn.functional.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    each(step);
  }
  return [model.parameters()[0]!, opt];
}

test('memory plateaus over 1,500 training steps without dispose()', () => {
  nb.manualSeed(0);
  const used = (): number => {
    const m = process.memoryUsage();
    return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
  };
  const samples: number[] = [];
  train(256, 64, 1500, (step) => step % 100 === 0 && samples.push(used()));
  const early = Math.max(...samples.slice(0, 5));
  const late = Math.max(...samples.slice(-5));
  // Each step allocates ~1.5 MB; a leak would add > 1 GB over the last 1,000 steps.
  assert.ok(late < early + 64, `memory grew from ${early.toFixed(0)} MB to ${late.toFixed(0)} MB`);
});

test('a synchronous training loop reuses its arena memory: activations and gradients are freed', () => {
  nb.manualSeed(1);
  const arena: number[] = [];
  const [weight, opt] = train(64, 256, 200, (step) => {
    if (step % 20 === 0) arena.push(cpuMemoryStats().arenaBytes);
  });
  // Each step makes ~1 MB of arena tensors; all of it comes back by the next step.
  assert.equal(arena.at(-1), arena[0], `arena grew: ${arena.join(', ')}`);
  // Gradients follow their parameter's dense layout (the weight is used transposed).
  assert.ok(weight.grad!.isContiguous);
  const kept = weight.grad!.clone();
  const dropped = weight.grad!;
  opt.zeroGrad();
  assert.ok(dropped.isDisposed && weight.grad === null);
  assert.equal(kept.shape[0], 256);
  // A gradient the user assigned stays the user's.
  const mine = nb.ones([256, 64]);
  weight.grad = mine;
  opt.zeroGrad();
  assert.ok(!mine.isDisposed && weight.grad === null);
});

test("a CNN's windows, pooling indices and normalization temporaries are freed by backward", () => {
  nb.manualSeed(2);
  const nn = nb.nn;
  const model = new nn.Sequential(
    new nn.Conv2d(1, 8, 3),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Dropout(0.25),
    new nn.Flatten(),
    new nn.Linear(8 * 5 * 5, 10),
  );
  const opt = new nb.optim.Adam(model.parameters());
  const x = nb.rand([32, 1, 12, 12]);
  const y = nb.randint(0, 10, [32]);
  const arena: number[] = [];
  for (let step = 1; step <= 30; step++) {
    const loss = nb.nn.functional.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    if (step % 10 === 0) arena.push(cpuMemoryStats().arenaBytes);
  }
  // Each step makes ~1 MB of arena tensors (im2col's windows the largest); all of it comes back.
  assert.equal(arena.at(-1), arena[0], `arena grew: ${arena.join(', ')}`);
});

test('a loop that disposes what it makes forces no collection, however full its data keeps the arena', () => {
  let collections = 0;
  const pool = new BufferPool(Arena.create(32 * 2 ** 20), () => collections++);
  pool.alloc('float32', 5 * 2 ** 20); // 20 MiB of data, held throughout: past half the budget
  collections = 0; // (its own growth may call for one)
  for (let i = 0; i < 400; i++) pool.release(pool.alloc('float32', 2 ** 18)); // 1 MiB, disposed
  assert.equal(collections, 0, '400 MiB allocated and released');
  for (let i = 0; i < 10; i++) pool.alloc('float32', 2 ** 18); // 1 MiB each, never released
  assert.equal(collections, 1, 'a quarter budget (8 MiB) of growth');
});

test('arena blocks nobody disposed come back before the arena is full', async () => {
  // V8 collects by JS heap growth, and 1 MiB blocks held by tiny views barely grow it: without a
  // forced collection this loop reserved the whole 32 MiB, and later buffers left the arena.
  const pool = new BufferPool(Arena.create(32 * 2 ** 20));
  for (let i = 0; i < 200; i++) {
    pool.alloc('float32', 2 ** 18);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { arenaBytes, arenaBudget } = pool.stats();
  assert.ok(arenaBytes <= arenaBudget * 0.75, `reserved ${arenaBytes} of ${arenaBudget} bytes`);
});
