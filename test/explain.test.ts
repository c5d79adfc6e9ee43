/** nb.explain and nb.viz: the lecture's numbers in the right nodes; valid, renderable pictures. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import * as tf1 from '../src/tf1.js';

function lecture() {
  const [x, y] = [nb.tensor(2), nb.tensor(5)];
  const w = nb.tensor(3, { requiresGrad: true });
  const b = nb.tensor(4, { requiresGrad: true });
  const q = w.mul(x);
  const yHat = q.add(b);
  const z = y.sub(yHat);
  const J = z.square();
  return { J, names: { w, x, b, y, q, ŷ: yHat, z, J } };
}

const PNG = [0x89, 0x50, 0x4e, 0x47];

describe('nb.explain', () => {
  test('reproduces the slides: ∂J/∂J = 1, ∂J/∂z = 2z = −10, ∂J/∂ŷ = 10, ∂J/∂b = 10, ∂J/∂q = 10, ∂J/∂w = 20', () => {
    const { J, names } = lecture();
    const e = nb.explain(J, { names });
    const grad = (name: string) =>
      (e.nodes.find((n) => n.name === name) ?? e.leaves.find((l) => l.name === name))!.grad!.item();
    assert.deepEqual(['J', 'z', 'ŷ', 'b', 'q', 'w'].map(grad), [1, -10, 10, 10, 10, 20]);
    const square = e.nodes.find((n) => n.name === 'J')!;
    assert.deepEqual(
      [square.formula, square.inputs[0]!.localRule, square.inputs[0]!.local],
      ['J = z²', '2z', -10],
    );
    assert.deepEqual(
      e.nodes.map((n) => n.formula),
      ['q = w · x', 'ŷ = q + b', 'z = y − ŷ', 'J = z²'],
    );
    const text = e.text();
    assert.match(text, /J = z²\s+= 25\n\s+∂J\/∂J = 1\n\s+→ z: ∂J\/∂z = 2z = −10;/);
    assert.match(text, /z = y − ŷ\s+= −5\n\s+∂J\/∂z = −10/);
    assert.match(text, /→ ŷ: ∂z\/∂ŷ = −1;\s+∂J\/∂z · ∂z\/∂ŷ = −10 · −1 = 10/);
    assert.match(text, /w = 3\s+∂J\/∂w = 20/);
    assert.match(
      e.markdown(),
      /\| `ŷ = q \+ b` \| 10 \| 10 \| q: ∂ŷ\/∂q = 1 → 10<br>b: ∂ŷ\/∂b = 1 → 10 \|/,
    );
  });

  test('works after backward() too, as API.md promises, with the same numbers', () => {
    const before = lecture();
    const expected = nb.explain(before.J, { names: before.names }).text();
    const after = lecture();
    after.J.backward();
    assert.equal(nb.explain(after.J, { names: after.names }).text(), expected);
    assert.equal(after.names.w.grad!.item(), 20); // explaining adds nothing to .grad
    const kept = lecture();
    kept.J.backward({ retainGraph: true });
    assert.equal(nb.explain(kept.J, { names: kept.names }).text(), expected);
  });

  test('after backward() freed an activation of an nn module, it names it and says what to do', () => {
    const model = new nb.nn.Sequential(
      new nb.nn.Linear(2, 3),
      new nb.nn.ReLU(),
      new nb.nn.Linear(3, 1),
    );
    const L = model.forward(nb.ones([1, 2])).sum();
    L.backward();
    assert.throws(
      () => nb.explain(L),
      (e: unknown) =>
        e instanceof nb.NablaError &&
        /explain: the value of h\d+ \(shape \[1, 3\]\) was freed by backward\(\).*loss\.backward\(\{ retainGraph: true \}\)/.test(
          e.message,
        ),
    );
    const M = model.forward(nb.ones([1, 2])).sum();
    M.backward({ retainGraph: true });
    assert.ok(nb.explain(M).nodes.length > 0);
  });

  test('summarises large tensors and names unnamed nodes', () => {
    const x = nb.randn([32, 10]);
    const w = nb.randn([10, 3], { requiresGrad: true });
    const e = nb.explain(x.matmul(w).relu().mean());
    assert.match(e.text(), /h1 = in\d+ @ in\d+\s+= shape \[32, 3\]: mean/);
    assert.throws(() => nb.explain(nb.ones([2])), /the loss has no graph/);
  });

  test('its SVG is valid and renders to PNG', async () => {
    const { J, names } = lecture();
    const e = nb.explain(J, { names });
    const svg = await e.svg();
    assert.match(svg, /^<\?xml[\s\S]*<svg[\s\S]*J = z²[\s\S]*<\/svg>\s*$/);
    assert.deepEqual([...(await e.png()).subarray(0, 4)], PNG);
  });
});

describe('nb.viz', () => {
  test('graph() draws an eager result and a tf1 graph', async () => {
    const { J, names } = lecture();
    const picture = nb.viz.graph(J, { names, values: true });
    assert.match(picture.dot, /label="ŷ = q \+ b\\n= 10"/);
    assert.match(await picture.svg(), /<svg/);
    const g = new tf1.Graph();
    const x = tf1.placeholder('float32', [null, 2], 'x', g);
    tf1.sigmoid(tf1.matmul(x, tf1.ones([2, 1])));
    assert.match(nb.viz.graph(g).dot, /"x" -> "MatMul_0" \[label="\[\?, 2\]"\]/);
    assert.match(await nb.viz.graph(g).svg(), /Sigmoid/);
  });

  test('plots are valid SVG and render', async () => {
    const chart = nb.viz.lineChart([{ name: 'loss', values: [1, 0.5, 0.25] }], { title: 'loss' });
    assert.match(chart, /^<svg[\s\S]*<polyline[^>]*points="[\d., ]+"[\s\S]*<\/svg>$/);
    const { x, y } = nb.datasets.xor({ n: 40 });
    const regions = nb.viz.decisionBoundary((p) => p.sum(1).gt(1).cast('float32'), x, y, {
      resolution: 10,
    });
    assert.equal((regions.match(/<rect/g) ?? []).length, 101);
    assert.equal((regions.match(/<circle/g) ?? []).length, 40);
    assert.deepEqual([...(await nb.viz.svgToPng(chart)).subarray(0, 4)], PNG);
    assert.deepEqual(nb.viz.ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});
