/** `npm run docs:images`: regenerates the pictures of README.md (docs/images) from the examples. */
import { copyFileSync } from 'node:fs';
import * as worked from '../examples/worked-example.js';
import * as boundaries from '../examples/decision-boundaries.js';
import * as handSet from '../examples/hand-set-network.js';
import { parseTrainArgs, runTrain } from '../src/cli/train.js';

const out = 'docs/images';
const log = (): void => undefined;
await worked.main({ out, log });
await boundaries.main({ out, log });
await handSet.main({ out, log });
const config = parseTrainArgs([
  '--dataset',
  'spirals',
  '--hidden',
  '64,64',
  '--epochs',
  '40',
  '--lr',
  '0.01',
  '--out',
  '/tmp/nabla-docs-spirals',
]);
if (config !== 'help') {
  await runTrain(config, log);
  for (const name of ['loss-curve', 'decision-boundary'])
    copyFileSync(`/tmp/nabla-docs-spirals/${name}.png`, `${out}/spirals-${name}.png`);
}
console.log(`pictures written to ${out}`);
