/**
 * Writes the op case table's inputs (and each case's cotangent) as JSON for generate.py, which
 * evaluates the same cases in PyTorch. Run through `npm run golden`.
 */
import { writeFileSync } from 'node:fs';
import * as nb from '../../src/index.js';
import { caseHash, cotangentValues, inputValues, type OpCase } from '../../test/cases/case.js';
import { ALL_CASES } from '../../test/cases/index.js';

function outputSize(c: OpCase, values: number[][]): number {
  const inputs = c.inputs.map((spec, i) =>
    nb.tensor(Float64Array.from(values[i]!), {
      shape: spec.shape,
      dtype: spec.dtype === 'int32' ? 'int32' : 'float64',
    }),
  );
  return c.nb(...inputs).size;
}

const exported = ALL_CASES.map((c) => {
  const values = inputValues(c);
  return {
    id: c.id,
    hash: caseHash(c),
    torch: c.torch,
    inputs: c.inputs.map((spec, i) => ({
      shape: spec.shape,
      dtype: spec.dtype,
      values: values[i],
    })),
    cotangent: cotangentValues(c, outputSize(c, values)),
  };
});
const path = process.argv[2] ?? 'scripts/golden/cases.json';
writeFileSync(path, JSON.stringify(exported));
console.log(`wrote ${exported.length} cases to ${path}`);
