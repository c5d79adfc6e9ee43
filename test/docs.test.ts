/** The documents a clone has: links that resolve inside the repo, and facts that agree. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

describe('documents', () => {
  for (const doc of ['README.md', 'docs/ARCHITECTURE.md']) {
    test(`${doc} links only to files in the repo`, () => {
      const links = [...read(doc).matchAll(/\]\(([^)#\s]+)\)/g)].map((m) => m[1]!);
      for (const link of links) {
        if (/^https?:/.test(link)) continue;
        assert.ok(!link.startsWith('..'), `${doc} links outside the repo: ${link}`);
        assert.ok(existsSync(join(root, dirname(doc), link)), `${doc}: ${link} does not exist`);
      }
      assert.doesNotMatch(read(doc), /\.\.\/shared\//);
    });
  }

  test('README and package.json agree on the Node version', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines;
    const stated = /Node ≥ ([\d.]+)/.exec(read('README.md'))?.[1];
    assert.equal(engines.node, `>=${stated}`);
  });

  test("npm start's outputs are ignored by git, so a run never changes tracked files", (t) => {
    const git = spawnSync('git', ['check-ignore', '-q', 'runs/mnist/history.json'], { cwd: root });
    if (git.error || !existsSync(join(root, '.git'))) return t.skip('needs git and a checkout');
    assert.equal(git.status, 0, 'runs/ is not ignored');
  });
});
