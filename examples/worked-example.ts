/**
 * The lecture's worked example: J = ((w·x + b) − y)² at x = 2, y = 5, w = 3, b = 4.
 * Forward pass, backpropagation node by node, then one gradient-descent step with α = 0.1.
 *
 *   npm run build && node dist/examples/worked-example.js
 */
import * as nb from '../src/index.js';
import { runIfMain, savePicture, type ExampleOptions } from './run.js';

export async function main(options: ExampleOptions = {}) {
  const log = options.log ?? console.log;
  const x = nb.tensor(2);
  const y = nb.tensor(5);
  // The parameters we learn: autograd tracks every op that uses them.
  const w = nb.tensor(3, { requiresGrad: true });
  const b = nb.tensor(4, { requiresGrad: true });

  // The graph of the slides, one node per line.
  const q = w.mul(x); //       q = w·x
  const yHat = q.add(b); //    ŷ = q + b
  const z = y.sub(yHat); //    z = y − ŷ
  const J = z.square(); //     J = z²

  // Reverse mode: ∂J/∂J = 1, then the chain rule at each node back to the leaves — shown step by
  // step by nb.explain, then done for real by backward(), which fills w.grad and b.grad.
  const explanation = nb.explain(J, { names: { w, x, b, y, q, ŷ: yHat, z, J } });
  log(explanation.text());
  await savePicture(options, 'worked-example-graph', await explanation.svg());
  J.backward();

  // One step of gradient descent: θ ← θ − α ∂J/∂θ, outside the graph (noGrad).
  const alpha = 0.1;
  nb.noGrad(() => {
    w.copy_(w.sub(w.grad!.mul(alpha)));
    b.copy_(b.sub(b.grad!.mul(alpha)));
  });
  log(`after one step with α = ${alpha}: w = ${w.item()}, b = ${b.item()}`);
  return {
    J: J.item(),
    dw: w.grad!.item(),
    db: b.grad!.item(),
    w: w.item(),
    b: b.item(),
    explanation,
  };
}

runIfMain(import.meta.url, main);
