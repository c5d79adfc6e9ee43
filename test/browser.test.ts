/**
 * The browser build in a real browser: Debian's Chromium, headless, loads a page served from
 * 127.0.0.1 (cross-origin isolated, as the playground will be) that imports dist/browser/nabla.js
 * and tf1.js, trains and explains, and writes what it computed into the page. Without Chromium
 * the test skips, naming the package (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const CHROMIUM = '/usr/lib/chromium/chromium';
const run = promisify(execFile);
const browserDir = fileURLToPath(new URL('../browser/', import.meta.url));

const PAGE = `<!doctype html>
<meta charset="utf-8">
<pre id="result">pending</pre>
<script type="module">
  import * as nb from './nabla.js';
  import * as tf1 from './tf1.js';
  const out = {};
  try {
    // The lecture's worked example, and its explanation.
    const [x, y] = [nb.tensor(2), nb.tensor(5)];
    const w = nb.tensor(3, { requiresGrad: true });
    const b = nb.tensor(4, { requiresGrad: true });
    const J = y.sub(w.mul(x).add(b)).square();
    J.backward();
    out.worked = [J.item(), w.grad.item(), b.grad.item()];
    out.explain = nb.explain(J).text().split('\\n')[0];
    // XOR with an MLP: products large enough for the SIMD matmul.
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
    // Graph mode.
    const X = tf1.placeholder('float32', [null, 2]);
    const total = tf1.reduceSum(tf1.matmul(X, tf1.ones([2, 1])));
    out.graph = new tf1.Session().run(total, new Map([[X, [[1, 2], [3, 4]]]])).item();
    out.printed = String(nb.arange(3));
    out.isolated = globalThis.crossOriginIsolated;
  } catch (error) {
    out.error = String(error && error.stack || error);
  }
  document.getElementById('result').textContent = JSON.stringify(out);
</script>`;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.html': 'text/html',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

/** Serves the page and dist/browser/, with the headers that make a page cross-origin isolated. */
function serve(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url!, 'http://x').pathname));
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    };
    if (path === '/index.html') {
      response.writeHead(200, { ...headers, 'Content-Type': TYPES['.html'] }).end(PAGE);
      return;
    }
    const file = join(browserDir, path);
    if (!file.startsWith(browserDir) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, { ...headers, 'Content-Type': type }).end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}/index.html` });
    }),
  );
}

test(
  'both entry points run in headless Chromium: backprop, a jitted training loop, a graph',
  { skip: !existsSync(CHROMIUM) && 'needs Debian chromium', timeout: 120_000 },
  async () => {
    const { server, url } = await serve();
    try {
      const profile = mkdtempSync(join(tmpdir(), 'nabla-chromium-'));
      const args = [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        `--user-data-dir=${profile}`,
        '--virtual-time-budget=60000',
        '--dump-dom',
        url,
      ];
      // Asynchronously, so that the server in this process can answer the browser.
      const result = await run(CHROMIUM, args, { encoding: 'utf8', timeout: 100_000 });
      const dom = String(result.stdout);
      const text = /<pre id="result">([^<]*)<\/pre>/.exec(dom)?.[1];
      assert.ok(
        text && text !== 'pending',
        `no result in the page:\n${dom}\n${String(result.stderr)}`,
      );
      const out = JSON.parse(text.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Record<
        string,
        unknown
      >;
      assert.equal(out['error'], undefined, String(out['error']));
      assert.deepEqual(out['worked'], [25, 20, 10]);
      assert.match(String(out['explain']), /^Backpropagation of J/);
      assert.ok((out['accuracy'] as number) > 0.9, `accuracy ${String(out['accuracy'])}`);
      assert.equal(out['graph'], 10);
      assert.equal(out['printed'], 'tensor([0, 1, 2], shape=[3], dtype=int32, device=cpu)');
      assert.equal(out['isolated'], true);
    } finally {
      server.close();
    }
  },
);
