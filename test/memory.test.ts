/**
 * A PyTorch-style user never disposes CPU tensors: a long training loop must keep its memory flat.
 * Batches are big enough (64 KB+) to go through the buffer pool.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as nb from '../src/index.js';
import { cpuMemoryStats } from '../src/backends/cpu/index.js';

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
