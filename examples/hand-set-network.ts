/**
 * The slides' hand-set two-layer network: no training, just the weights written down.
 * Each neuron is (w₁, w₂, bias) with a sigmoid:
 *   h₁ = σ(−7·x₁ − 5·x₂ + 60),  h₂ = σ(4·x₁ − 5·x₂ − 5),  out = σ(7·h₁ + 7·h₂ − 9).
 * h₁ and h₂ each cut the plane with a line; the output neuron needs both (7 + 7 − 9 > 0, but
 * 7 − 9 < 0): an AND, so the network says "yes" inside the wedge between the two lines.
 */
import * as nb from '../src/index.js';
import { runIfMain, savePicture, type ExampleOptions } from './run.js';

export async function main(options: ExampleOptions = {}) {
  const log = options.log ?? console.log;
  const hidden = new nb.nn.Linear(2, 2);
  const output = new nb.nn.Linear(2, 1);
  nb.noGrad(() => {
    hidden.weight.copy_(
      nb.tensor([
        [-7, -5],
        [4, -5],
      ]),
    );
    hidden.bias!.copy_(nb.tensor([60, -5]));
    output.weight.copy_(nb.tensor([[7, 7]]));
    output.bias!.copy_(nb.tensor([-9]));
  });
  const net = new nb.nn.Sequential(hidden, new nb.nn.Sigmoid(), output, new nb.nn.Sigmoid());
  const probes = nb.tensor([
    [2, 1],
    [5, 1],
    [1, 8],
    [9, 5],
  ]);
  const out = nb.noGrad(() => net.forward(probes)).toArray() as number[][];
  (probes.toArray() as number[][]).forEach(([a, b], i) =>
    log(`x = (${a}, ${b}) → ${out[i]![0]!.toFixed(4)}`),
  );
  // Label a grid of points by the network's own answer, and draw its decision region.
  const grid = nb.rand([400, 2]).mul(12);
  const labels = nb
    .noGrad(() => net.forward(grid))
    .squeeze(1)
    .ge(0.5)
    .cast('int32');
  const picture = await savePicture(
    options,
    'hand-set-network',
    nb.viz.decisionBoundary((x) => net.forward(x), grid, labels, {
      title: 'hand-set 2-layer network: h₁ AND h₂',
    }),
  );
  return { outputs: out.map((r) => r[0]!), picture };
}

runIfMain(import.meta.url, main);
