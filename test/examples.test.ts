/** Every lecture example runs (quick mode) and gives the lecture's results. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { tempDir } from './helpers/files.js';
import * as worked from '../examples/worked-example.js';
import * as sigmoid from '../examples/sigmoid-derivative.js';
import * as handSet from '../examples/hand-set-network.js';
import * as boundaries from '../examples/decision-boundaries.js';
import * as regression from '../examples/regression.js';
import * as mnist from '../examples/mnist.js';
import * as tf1Program from '../examples/tf1-program.js';
import * as pytorchLoop from '../examples/pytorch-loop.js';
import * as byHand from '../examples/logistic-by-hand.js';

const quiet = () => ({ quick: true, out: tempDir(), log: () => undefined });
const isPng = (path: string): boolean => readFileSync(path).subarray(1, 4).toString() === 'PNG';

describe('examples', () => {
  test('worked example: J = 25, ∂J/∂w = 20, ∂J/∂b = 10; one SGD step gives w = 1, b = 3', async () => {
    const r = await worked.main(quiet());
    assert.deepEqual([r.J, r.dw, r.db], [25, 20, 10]);
    assert.ok(Math.abs(r.w - 1) < 1e-6 && Math.abs(r.b - 3) < 1e-6);
  });

  test("σ′ by the chain rule equals σ(1 − σ) and the primitive's gradient", () => {
    for (const row of sigmoid.main(quiet())) {
      assert.ok(Math.abs(row.byChainRule - row.closedForm) < 1e-12);
      assert.ok(Math.abs(row.byPrimitive - row.closedForm) < 1e-12);
    }
  });

  test('the hand-set network answers yes only inside its wedge', async () => {
    const r = await handSet.main(quiet());
    assert.deepEqual(
      r.outputs.map((p) => p > 0.5),
      [false, true, false, false],
    );
    assert.ok(isPng(r.picture));
  });

  test('decision boundaries: logistic regression cannot separate the circles, the MLPs can', async () => {
    const [logistic, shallow, deep] = await boundaries.main(quiet());
    assert.ok(logistic!.accuracy < 0.7, `logistic ${logistic!.accuracy}`);
    assert.ok(
      shallow!.accuracy > 0.95 && deep!.accuracy > 0.95,
      `${shallow!.accuracy} ${deep!.accuracy}`,
    );
    for (const r of [logistic, shallow, deep]) assert.ok(isPng(r!.picture));
  });

  test('multi-output regression reaches the noise level of both outputs', () => {
    const r = regression.main(quiet());
    assert.ok(r.rmse[0]! < 12 && r.rmse[1]! < 6, JSON.stringify(r.rmse));
  });

  test('MNIST with softmax cross-entropy learns (quick: 2 epochs on 2,000 digits)', () => {
    assert.ok(mnist.main(quiet()).accuracy > 0.85);
  });

  test('the TF1-style program learns XOR; its batch dimension stays unknown in the graph', () => {
    const r = tf1Program.main(quiet());
    assert.deepEqual(r.outputShape, [-1, 1]);
    assert.deepEqual(
      r.predictions.map((p) => Math.round(p)),
      [0, 1, 1, 0],
    );
  });

  test('the PyTorch-style loop logs detached losses and fits the spirals', () => {
    const r = pytorchLoop.main(quiet());
    assert.equal(r.lossesRequireGrad, false);
    assert.ok(r.accuracy > 0.95);
  });

  test('logistic regression: hand-written gradients and autograd reach the same weights', () => {
    const r = byHand.main(quiet());
    r.byHand.forEach((v, i) =>
      assert.ok(Math.abs(v - r.byAutograd[i]!) < 1e-9, `${v} vs ${r.byAutograd[i]}`),
    );
  });
});
