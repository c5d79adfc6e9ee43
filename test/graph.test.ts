/**
 * Graph mode runs the same op registry: every case of the table, built on placeholders and run in a
 * Session, matches the PyTorch goldens, and its symbolic gradients (tf1.gradients) match too —
 * with all graph passes, and with none (each pass keeps the values).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf1 from '../src/tf1.js';
import { cotangentValues, inputValues, type OpCase } from './cases/case.js';
import { ALL_CASES } from './cases/index.js';
import { assertClose, loadGoldens } from './helpers/golden.js';

const goldens = loadGoldens('ops.json');
const TOLERANCE = {
  float64: { out: 1e-7, grad: 1e-7 },
  float32: { out: 1e-5, grad: 1e-4 },
} as const;

function runCase(c: OpCase, dtype: 'float32' | 'float64', passes: readonly tf1.PassName[]): void {
  const graph = new tf1.Graph();
  const values = inputValues(c);
  const placeholders = c.inputs.map((spec) =>
    tf1.placeholder(spec.dtype === 'int32' ? 'int32' : dtype, spec.shape, 'x', graph),
  );
  const out = c.nb(...placeholders);
  assert.equal(out.isSymbolic, true, 'ops on placeholders build nodes');
  const golden = goldens.cases[c.id]![dtype];
  const feeds = new Map(
    c.inputs.map((spec, i) => [
      placeholders[i]!,
      tf1.tensor(Float64Array.from(values[i]!), {
        shape: spec.shape,
        dtype: spec.dtype === 'int32' ? 'int32' : dtype,
      }),
    ]),
  );
  const differentiable = placeholders.filter((p) => p.requiresGrad);
  const cotangent = tf1.tensor(cotangentValues(c, golden.out.length), {
    shape: golden.shape,
    dtype: golden.dtype as 'float32',
  });
  const grads = golden.grads ? tf1.gradients(out, differentiable, [cotangent]) : [];
  const sess = new tf1.Session(graph, { passes });
  // The first run goes op by op; the second replays the plan in buffers it keeps (compile/replay).
  for (const run of ['first run', 'replay'])
    checkRun(
      c,
      dtype,
      `${dtype} ${run}`,
      sess.run([out, ...grads.map((g) => g ?? out)], feeds),
      grads,
    );
}

function checkRun(
  c: OpCase,
  dtype: 'float32' | 'float64',
  label: string,
  fetched: readonly tf1.Tensor[],
  grads: readonly (tf1.Tensor | null)[],
): void {
  const golden = goldens.cases[c.id]![dtype];
  const tol = TOLERANCE[dtype];
  assert.deepEqual(fetched[0]!.shape, golden.shape);
  assertClose(fetched[0]!.dataSync(), golden.out, tol.out, tol.out / 10, `${label} output`);
  grads.forEach((g, k) => {
    const expected = golden.grads![k]!;
    if (!g)
      return assert.ok(
        expected.every((v) => v === 0),
        `gradient ${k} is missing`,
      );
    assertClose(
      fetched[k + 1]!.contiguous().dataSync(),
      expected,
      tol.grad,
      tol.grad / 10,
      `${label} gradient ${k}`,
    );
  });
}

for (const [label, passes] of [
  ['all passes', tf1.ALL_PASSES],
  ['no passes', []],
] as const) {
  describe(`graph mode matches PyTorch (${label})`, () => {
    for (const c of ALL_CASES) {
      test(c.id, () => {
        runCase(c, 'float64', passes);
        runCase(c, 'float32', passes);
      });
    }
  });
}
