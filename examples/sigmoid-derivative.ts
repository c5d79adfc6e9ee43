/**
 * σ(x) = 1 / (1 + e^−x) and its derivative σ′(x) = σ(x)(1 − σ(x)), three ways: by the chain rule
 * through the composite 1/(1 + e^−x) (autograd over exp, add, div), by the closed form, and by the
 * sigmoid primitive's own gradient.
 */
import * as nb from '../src/index.js';
import { runIfMain, type ExampleOptions } from './run.js';

export function main(options: ExampleOptions = {}) {
  const log = options.log ?? console.log;
  const xs = [-4, -1, 0, 0.5, 3];
  const rows = xs.map((v) => {
    const x = nb.tensor(v, { dtype: 'float64', requiresGrad: true });
    // Chain rule through the pieces: d/dx (1 + e^−x)^−1 = e^−x / (1 + e^−x)².
    const composite = nb.div(1, nb.add(1, nb.exp(nb.neg(x))));
    const [byChainRule] = nb.grad(composite, x);
    const s = composite.item();
    const [byPrimitive] = nb.grad(nb.sigmoid(x), x);
    return {
      x: v,
      sigma: s,
      byChainRule: byChainRule!.item(),
      closedForm: s * (1 - s),
      byPrimitive: byPrimitive!.item(),
    };
  });
  log('x      σ(x)      chain rule   σ(1−σ)      primitive');
  for (const r of rows) {
    log(
      [r.x, r.sigma, r.byChainRule, r.closedForm, r.byPrimitive]
        .map((v) => v.toFixed(6).padStart(10))
        .join(' '),
    );
  }
  return rows;
}

runIfMain(import.meta.url, main);
