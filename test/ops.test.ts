/**
 * Every case of the op table against PyTorch (values and gradients, float64 and float32) and against
 * float64 finite differences (first and second order).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import { caseHash, cotangentValues, inputValues, type OpCase } from './cases/case.js';
import { ALL_CASES } from './cases/index.js';
import { OP_CASES } from './cases/ops.js';
import { assertClose, loadGoldens, type GoldenRun } from './helpers/golden.js';

const goldens = loadGoldens('ops.json');

const TOLERANCE = {
  float64: { out: 1e-7, grad: 1e-7 },
  float32: { out: 1e-5, grad: 1e-4 },
} as const;

function makeInputs(c: OpCase, dtype: 'float32' | 'float64'): nb.Tensor[] {
  const values = inputValues(c);
  return c.inputs.map((spec, i) => {
    const isFloat = spec.dtype === 'float';
    const t = nb.tensor(Float64Array.from(values[i]!), {
      shape: spec.shape,
      dtype: isFloat ? dtype : 'int32',
    });
    return isFloat ? t.requiresGrad_() : t;
  });
}

function checkAgainst(c: OpCase, dtype: 'float32' | 'float64', golden: GoldenRun): void {
  const inputs = makeInputs(c, dtype);
  const out = c.nb(...inputs);
  assert.deepEqual(out.shape, golden.shape, 'output shape');
  assert.equal(out.dtype, golden.dtype, 'output dtype');
  const tol = TOLERANCE[dtype];
  assertClose(out.dataSync(), golden.out, tol.out, tol.out / 10, `${dtype} output`);
  if (!golden.grads) {
    assert.equal(out.requiresGrad, false, 'PyTorch gives no gradient here');
    return;
  }
  const differentiable = inputs.filter((t) => t.requiresGrad);
  const cotangent = nb.tensor(cotangentValues(c, out.size), {
    shape: out.shape,
    dtype: out.dtype as 'float32',
  });
  const grads = nb.grad([out], differentiable, { gradOutputs: [cotangent], allowUnused: true });
  grads.forEach((g, k) => {
    assert.deepEqual(g.shape, differentiable[k]!.shape, `gradient ${k} shape`);
    assertClose(g.dataSync(), golden.grads![k]!, tol.grad, tol.grad / 10, `${dtype} gradient ${k}`);
  });
}

describe('ops match PyTorch', () => {
  test(`goldens come from torch ${goldens.torch}`, () => assert.ok(goldens.torch));
  for (const c of ALL_CASES) {
    test(c.id, () => {
      const golden = goldens.cases[c.id];
      assert.ok(golden, `no golden for ${c.id}: run npm run golden`);
      assert.equal(golden.hash, caseHash(c), `golden for ${c.id} is stale: run npm run golden`);
      checkAgainst(c, 'float64', golden.float64);
      checkAgainst(c, 'float32', golden.float32);
    });
  }
});

describe('gradients match finite differences (float64)', () => {
  for (const c of ALL_CASES.filter((c) => c.gradOrder > 0)) {
    test(`${c.id} (order ${c.gradOrder})`, () => {
      const report = nb.gradcheck(c.nb, makeInputs(c, 'float64'), { order: c.gradOrder as 1 | 2 });
      assert.ok(report.ok, report.failures.slice(0, 3).join('\n'));
    });
  }
});

describe('the case table covers API.md', () => {
  // API.md's "Operations" section, one name per op.
  const API_OPS = `add sub mul div neg pow square sqrt exp log abs sign clamp round maximum minimum
    sigmoid tanh relu leakyRelu softmax logSoftmax matmul transpose T reshape flatten squeeze unsqueeze
    expand cat stack slice narrow gather indexSelect where eq ne lt le gt ge sum mean max min argmax
    argmin`.split(/\s+/);
  test('every API op has a case', () => {
    const covered = new Set(OP_CASES.map((c) => c.op));
    assert.deepEqual(
      API_OPS.filter((op) => !covered.has(op)),
      [],
    );
  });
  test('every API op is a function and a method', () => {
    const tensor = nb.ones([2, 2]);
    const functionsOnly = new Set(['cat', 'stack']);
    const methodsOnly = new Set(['T']);
    for (const op of API_OPS) {
      if (!methodsOnly.has(op))
        assert.equal(typeof (nb as Record<string, unknown>)[op], 'function', `nb.${op}`);
      if (!functionsOnly.has(op)) assert.ok(op in tensor, `t.${op}`);
    }
  });
});
