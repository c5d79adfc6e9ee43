/**
 * W4: tiny-op overhead. XOR (4 samples), 2 → 8 (tanh) → 1 (sigmoid), binary cross-entropy, plain SGD
 * with lr 0.1, 2,000 steps. steps/s. Written with raw tensors (no nn module needed).
 */
import * as nb from '../../src/index.js';
import { measure, report } from '../harness.js';

const STEPS = 2000;
const X = nb.tensor([
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
]);
const Y = nb.tensor([[0], [1], [1], [0]]);

function train(): number {
  nb.manualSeed(1);
  const params = [nb.randn([2, 8]), nb.zeros([8]), nb.randn([8, 1]), nb.zeros([1])].map((p) =>
    p.requiresGrad_(),
  );
  const [w1, b1, w2, b2] = params as [nb.Tensor, nb.Tensor, nb.Tensor, nb.Tensor];
  let loss = 0;
  for (let step = 0; step < STEPS; step++) {
    const p = X.matmul(w1).add(b1).tanh().matmul(w2).add(b2).sigmoid();
    const bce = Y.mul(p.log())
      .add(nb.sub(1, Y).mul(nb.sub(1, p).log()))
      .mean()
      .neg();
    for (const t of params) t.grad = null;
    bce.backward();
    nb.noGrad(() => {
      for (const t of params) t.dataSync().set(t.sub(t.grad!.mul(0.1)).dataSync());
    });
    if (step === STEPS - 1) loss = bce.item();
  }
  return loss;
}

let finalLoss = 0;
const run = measure(
  () => {
    finalLoss = train();
  },
  5,
  1,
);
report({
  workload: 'W4 XOR 2000 steps',
  'steps/s': STEPS / (run.median / 1000),
  'final loss': finalLoss,
});
