/**
 * Logistic regression trained twice from the same start: once with gradients written by hand (the
 * NumPy way: ∂J/∂w = Xᵀ(p − y)/N, ∂J/∂b = mean(p − y) for the mean binary cross-entropy), once with
 * autograd. Both reach the same weights.
 */
import * as nb from '../src/index.js';
import { runIfMain, type ExampleOptions } from './run.js';

export function main(options: ExampleOptions = {}) {
  const log = options.log ?? console.log;
  nb.manualSeed(0);
  const { x: points, y: labels } = nb.datasets.moons({ n: 200, noise: 0.2, seed: 3 });
  const X = points.cast('float64');
  const y = labels.cast('float64').unsqueeze(1);
  const n = X.shape[0]!;
  const [lr, steps] = [0.5, options.quick ? 100 : 500];
  const w0 = nb.randn([2, 1], { dtype: 'float64' }).mul(0.1);

  // By hand: forward, then the derivative of the mean BCE through the sigmoid, in closed form.
  let w = w0.clone();
  let b = nb.zeros([1], { dtype: 'float64' });
  for (let i = 0; i < steps; i++) {
    const p = X.matmul(w).add(b).sigmoid();
    const error = p.sub(y); // ∂J/∂logit = p − y
    w = w.sub(X.T.matmul(error).div(n).mul(lr));
    b = b.sub(error.mean(0).mul(lr));
  }

  // Autograd: the same model and loss, gradients from backward().
  const wa = w0.clone().requiresGrad_();
  const ba = nb.zeros([1], { dtype: 'float64', requiresGrad: true });
  const optimizer = new nb.optim.SGD([wa, ba], { lr });
  for (let i = 0; i < steps; i++) {
    const loss = nb.nn.functional.bce(X.matmul(wa).add(ba).sigmoid(), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  const byHand = [...(w.toArray() as number[][]).flat(), b.item()];
  const byAutograd = [...(wa.toArray() as number[][]).flat(), ba.item()];
  log(
    `by hand:     w = [${byHand.slice(0, 2).map((v) => v.toFixed(6))}], b = ${byHand[2]!.toFixed(6)}`,
  );
  log(
    `by autograd: w = [${byAutograd.slice(0, 2).map((v) => v.toFixed(6))}], b = ${byAutograd[2]!.toFixed(6)}`,
  );
  return { byHand, byAutograd };
}

runIfMain(import.meta.url, main);
