/**
 * The browser build and the playground in a real browser: Debian's Chromium, headless, loads pages
 * served from 127.0.0.1 (cross-origin isolated) and the test reads what they computed from the
 * page. Without Chromium these tests skip, naming the package (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { buildSite, serveSite } from '../scripts/site.js';

const CHROMIUM = '/usr/lib/chromium/chromium';
const skip = !existsSync(CHROMIUM) && 'needs Debian chromium';
const run = promisify(execFile);

/** A page of its own beside the site: both entry points, imported as any page would. */
const SMOKE = `<!doctype html>
<meta charset="utf-8">
<pre id="result">pending</pre>
<script type="module">
  import * as nb from './nabla.js';
  import * as tf1 from './tf1.js';
  const out = {};
  try {
    const [x, y] = [nb.tensor(2), nb.tensor(5)];
    const w = nb.tensor(3, { requiresGrad: true });
    const b = nb.tensor(4, { requiresGrad: true });
    const J = y.sub(w.mul(x).add(b)).square();
    J.backward();
    out.worked = [J.item(), w.grad.item(), b.grad.item()];
    // XOR with an MLP: products large enough for the SIMD matmul, compiled by nb.jit.
    nb.manualSeed(1);
    const data = nb.datasets.xor({ n: 200, seed: 2 });
    const model = new nb.nn.Sequential(new nb.nn.Linear(2, 64), new nb.nn.Tanh(), new nb.nn.Linear(64, 2));
    const opt = new nb.optim.Adam(model.parameters(), { lr: 0.05 });
    const step = nb.jit((xb, yb) => {
      const loss = nb.nn.functional.crossEntropy(model.forward(xb), yb);
      opt.zeroGrad(); loss.backward(); opt.step();
      return loss;
    });
    for (let i = 0; i < 150; i++) step(data.x, data.y);
    out.accuracy = nb.noGrad(() => nb.metrics.accuracy(model.forward(data.x), data.y));
    const X = tf1.placeholder('float32', [null, 2]);
    const total = tf1.reduceSum(tf1.matmul(X, tf1.ones([2, 1])));
    out.graph = new tf1.Session().run(total, new Map([[X, [[1, 2], [3, 4]]]])).item();
    out.printed = String(nb.arange(3));
    out.isolated = globalThis.crossOriginIsolated;
  } catch (error) {
    out.error = String((error && error.stack) || error);
  }
  document.getElementById('result').textContent = JSON.stringify(out);
</script>`;

/** What Chromium made of a page: its DOM after scripts ran, and its console messages. */
async function visit(
  url: string,
  screenshot?: string,
): Promise<{ dom: string; console: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), 'nabla-chromium-'));
  const flags = [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--enable-logging=stderr',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=60000',
  ];
  const options = { encoding: 'utf8' as const, timeout: 100_000 };
  // Asynchronous, so that the server in this process can answer the browser.
  const { stdout, stderr } = await run(CHROMIUM, [...flags, '--dump-dom', url], options);
  if (screenshot) {
    const size = ['--window-size=1150,820', '--hide-scrollbars', `--screenshot=${screenshot}`];
    await run(CHROMIUM, [...flags, ...size, url], options);
  }
  return { dom: stdout, console: stderr.split('\n').filter((line) => line.includes(':CONSOLE')) };
}

const unescape = (html: string): string =>
  html
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

describe('in headless Chromium', { skip }, () => {
  let server: Server;
  let url: string;
  before(async () => {
    const dir = buildSite();
    writeFileSync(join(dir, 'smoke.html'), SMOKE);
    ({ server, url } = await serveSite(dir));
  });
  after(() => server?.close());

  test('both entry points run: backprop, a jitted training loop, a graph', async () => {
    const { dom, console } = await visit(`${url}smoke.html`);
    const text = /<pre id="result">([^<]*)<\/pre>/.exec(dom)?.[1];
    assert.ok(text && text !== 'pending', `no result in the page:\n${dom}`);
    const out = JSON.parse(unescape(text)) as Record<string, unknown>;
    assert.equal(out['error'], undefined, String(out['error']));
    assert.deepEqual(out['worked'], [25, 20, 10]);
    assert.ok((out['accuracy'] as number) > 0.9, `accuracy ${String(out['accuracy'])}`);
    assert.equal(out['graph'], 10);
    assert.equal(out['printed'], 'tensor([0, 1, 2], shape=[3], dtype=int32, device=cpu)');
    assert.equal(out['isolated'], true);
    assert.deepEqual(console, []);
  });

  test("playground (a): the worked example's values and gradients in the right nodes", async () => {
    const shots = join(process.cwd(), 'dist/screenshots');
    mkdirSync(shots, { recursive: true });
    const page = await visit(`${url}backprop.html#run`, join(shots, 'playground-backprop.png'));
    const nodes = new Map(
      [...page.dom.matchAll(/<g class="node[^"]*" data-name="([^"]+)">(.*?)<\/g>/g)].map((m) => [
        unescape(m[1]!),
        [...m[2]!.matchAll(/data-role="(?:value|grad)">([^<]*)</g)].map((t) => unescape(t[1]!)),
      ]),
    );
    assert.deepEqual(nodes.get('J'), ['= 25', '∂J/∂J = 1']);
    assert.deepEqual(nodes.get('z'), ['= −5', '∂J/∂z = −10']);
    assert.deepEqual(nodes.get('ŷ'), ['= 10', '∂J/∂ŷ = 10']);
    assert.deepEqual(nodes.get('b'), ['= 4', '∂J/∂b = 10']);
    assert.deepEqual(nodes.get('w'), ['= 3', '∂J/∂w = 20']);
    assert.deepEqual(nodes.get('x'), ['= 2', 'constant']);
    assert.match(
      page.dom,
      /Runs on: cpu — WebAssembly SIMD, threads=1 \(cross-origin isolated: yes\)/,
    );
    assert.deepEqual(page.console, []);
    const typed = await visit(
      `${url}backprop.html#program=${encodeURIComponent('sigmoid(w*x+b)')}`,
    );
    assert.match(typed.dom, /data-name="J"/);
    const bad = await visit(`${url}backprop.html#program=${encodeURIComponent('w*(x+')}`);
    assert.match(
      bad.dom,
      /<div id="message" role="alert">line 1: the formula ends too early<\/div>/,
    );
    assert.deepEqual(bad.console, []);
  });
});
