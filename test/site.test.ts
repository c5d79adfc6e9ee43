/** The playground's formula language (site/expression.js), without a browser. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
// @ts-expect-error: the site is plain JavaScript, a client of the library like any page
import { evaluate, parseProgram, ParseError } from '../../site/expression.js';

interface Program {
  lines: { name: string; tree: unknown }[];
  inputs: string[];
}

function run(text: string, values: Record<string, number>): number {
  const program = parseProgram(text) as Program;
  const env = new Map(Object.entries(values).map(([k, v]) => [k, nb.tensor(v)]));
  let last = nb.tensor(0);
  for (const { name, tree } of program.lines) {
    last = evaluate(nb, tree, env) as nb.Tensor;
    env.set(name, last);
  }
  return last.item();
}

describe('the playground formula language', () => {
  test("the lecture's program: named steps, inputs in order of appearance", () => {
    const text = 'q = w*x\nŷ = q + b\nz = y - ŷ\nJ = z^2';
    assert.deepEqual((parseProgram(text) as Program).inputs, ['w', 'x', 'b', 'y']);
    assert.equal(run(text, { w: 3, x: 2, b: 4, y: 5 }), 25);
  });

  test('a single formula: precedence, unary minus, powers, functions', () => {
    assert.equal(run('2 + 3 * 4 ^ 2 - -1', {}), 51);
    assert.equal(run('(1 + 2) * 3', {}), 9);
    assert.ok(Math.abs(run('sigmoid(w*x + b)', { w: 1, x: 0, b: 0 }) - 0.5) < 1e-7);
    assert.equal(run('relu(-x) + abs(-x)', { x: 3 }), 3);
    assert.equal(run('w · x − 1', { w: 2, x: 5 }), 9);
  });

  test('errors say where the text went wrong', () => {
    const refused = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parseProgram(text),
        (e: unknown) => e instanceof ParseError && pattern.test((e as Error).message),
      );
    refused('w*(x+', /line 1: the formula ends too early/);
    refused('cosh(x)', /unknown function 'cosh'/);
    refused('w * $', /line 1: cannot read '\$'/);
    refused('a = 1\nb = (2', /line 2: expected '\)' at the end/);
    refused('', /write a formula/);
    refused('x y', /unexpected 'y'/);
  });
});
