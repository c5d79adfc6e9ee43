/** Eager dispatch overhead: one elementwise op on 1-element tensors, grad off and on. */
import * as nb from '../../src/index.js';
import { measure, report } from '../harness.js';

const N = 200_000;
const a = nb.tensor([1.5]);
const b = nb.tensor([2.5]);
const off = measure(() => {
  for (let i = 0; i < N; i++) nb.add(a, b);
});
const w = nb.tensor([1.5], { requiresGrad: true });
const on = measure(() => {
  for (let i = 0; i < N; i++) nb.add(w, b);
});
report({
  workload: 'dispatch',
  'grad off µs/op': (off.median * 1000) / N,
  'grad on µs/op': (on.median * 1000) / N,
});
