/**
 * The browser build and the playground in a real browser: Debian's Chromium, headless, driven by
 * puppeteer-core (never a downloaded browser), loads pages served from 127.0.0.1 (cross-origin
 * isolated), clicks through them and reads what they show. Screenshots go to dist/screenshots/.
 * Without Chromium these tests skip, naming the package (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import * as nb from '../src/index.js';
import { buildSite, serveSite } from '../scripts/site.js';

const CHROMIUM = '/usr/lib/chromium/chromium';
const skip = !existsSync(CHROMIUM) && 'needs Debian chromium';

/**
 * A test page: `body` fills `out` inside a try (after `import * as nb`), and the page shows it as
 * JSON in #result, with any error as out.error.
 */
function resultPage(body: string): string {
  return `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<pre id="result">pending</pre>
<script type="module">
  import * as nb from './nabla.js';
${body}  } catch (error) {
    out.error = String((error && error.stack) || error);
  }
  document.getElementById('result').textContent = JSON.stringify(out);
</script>`;
}

/** A page of its own beside the site: both entry points, imported as any page would. */
const SMOKE = resultPage(`
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
`);

/** The WebGPU device in a page (navigator.gpu): results and a few training steps against the CPU. */
const WEBGPU_SMOKE = resultPage(`
  const out = {};
  try {
    await nb.startDevice('webgpu');
    nb.manualSeed(3);
    const a = nb.randn([70, 50]);
    const b = nb.randn([50, 30]);
    const onGpu = await a.to('webgpu').matmul(b.to('webgpu')).relu().sum(1).data();
    const onCpu = a.matmul(b).relu().sum(1).dataSync();
    out.matmulError = Math.max(...onCpu.map((v, i) => Math.abs(v - onGpu[i])));
    const train = async (device) => {
      nb.manualSeed(4);
      const data = nb.datasets.xor({ n: 64, seed: 5 });
      const model = new nb.nn.Sequential(new nb.nn.Linear(2, 16), new nb.nn.Tanh(), new nb.nn.Linear(16, 2)).to(device);
      const opt = new nb.optim.Adam(model.parameters(), { lr: 0.05 });
      const [x, y] = [data.x.to(device), data.y.to(device)];
      let loss;
      for (let i = 0; i < 10; i++) {
        loss = nb.nn.functional.crossEntropy(model.forward(x), y);
        opt.zeroGrad(); loss.backward(); opt.step();
      }
      return loss.itemAsync();
    };
    out.losses = [await train('cpu'), await train('webgpu')];
`);

/**
 * A Worker page: nabla inside a module Worker of a cross-origin-isolated page starts worker threads
 * of its own for large products (the page's own thread may not wait on Atomics, so it runs alone).
 */
const THREADS_PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<pre id="result">pending</pre>
<script type="module">
  const worker = new Worker('./threads-worker.js', { type: 'module' });
  worker.onmessage = ({ data }) => (document.getElementById('result').textContent = JSON.stringify(data));
  worker.onerror = (e) => (document.getElementById('result').textContent = JSON.stringify({ error: e.message }));
</script>`;
const THREADS_WORKER = `
import * as nb from './nabla.js';
try {
  nb.manualSeed(1);
  const a = nb.randn([300, 400]);
  const b = nb.randn([400, 500]);
  let c;
  // The workers start with the first large product and take chunks once they are up.
  for (let i = 0; i < 20; i++) {
    c = a.matmul(b);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Row 7 by hand, in float64: the threaded product must give the same values.
  const [ad, bd, cd] = [a.dataSync(), b.dataSync(), c.dataSync()];
  let maxError = 0;
  for (let j = 0; j < 500; j++) {
    let sum = 0;
    for (let k = 0; k < 400; k++) sum += ad[7 * 400 + k] * bd[k * 500 + j];
    maxError = Math.max(maxError, Math.abs(sum - cd[7 * 500 + j]));
  }
  postMessage({ info: nb.deviceInfo(), maxError });
} catch (e) {
  postMessage({ error: String(e && e.stack || e) });
}
`;

/** Chromium as the probe and the playground test it: system browser, no download, no sandbox. */
const LAUNCH = {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
  ],
};

/** Chromium with WebGPU on SwiftShader: it needs the GPU process the other tests switch off. */
function launchWithWebGpu(): Promise<Browser> {
  return puppeteer.launch({
    ...LAUNCH,
    args: [
      ...LAUNCH.args.filter((a) => a !== '--disable-gpu'),
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-vulkan=swiftshader',
      '--use-angle=swiftshader',
    ],
  });
}

/** Opens `url` in a new page, recording console errors and uncaught exceptions. */
async function open(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1150, height: 820 });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, errors };
}

const shots = join(process.cwd(), 'dist/screenshots');

describe('in headless Chromium', { skip, timeout: 180_000 }, () => {
  let server: Server;
  let url: string;
  let browser: Browser;
  before(async () => {
    const dir = buildSite();
    writeFileSync(join(dir, 'smoke.html'), SMOKE);
    writeFileSync(join(dir, 'webgpu.html'), WEBGPU_SMOKE);
    writeFileSync(join(dir, 'threads.html'), THREADS_PAGE);
    writeFileSync(join(dir, 'threads-worker.js'), THREADS_WORKER);
    ({ server, url } = await serveSite(dir));
    browser = await puppeteer.launch(LAUNCH);
    mkdirSync(shots, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  test('both entry points run: backprop, a jitted training loop, a graph', async () => {
    const { page, errors } = await open(browser, `${url}smoke.html`);
    await page.waitForFunction(() => document.getElementById('result')!.textContent !== 'pending');
    const out = JSON.parse(await page.$eval('#result', (e) => e.textContent!)) as Record<
      string,
      unknown
    >;
    assert.equal(out['error'], undefined, String(out['error']));
    assert.deepEqual(out['worked'], [25, 20, 10]);
    assert.ok((out['accuracy'] as number) > 0.9, `accuracy ${String(out['accuracy'])}`);
    assert.equal(out['graph'], 10);
    assert.equal(out['printed'], 'tensor([0, 1, 2], shape=[3], dtype=int32, device=cpu)');
    assert.equal(out['isolated'], true);
    assert.deepEqual(errors, []);
  });

  test('the webgpu device runs in a page (SwiftShader): products and training equal the cpu', async () => {
    const gpuBrowser = await launchWithWebGpu();
    try {
      const { page, errors } = await open(gpuBrowser, `${url}webgpu.html`);
      await page.waitForFunction(
        () => document.getElementById('result')!.textContent !== 'pending',
        { timeout: 120_000 },
      );
      const out = JSON.parse(await page.$eval('#result', (e) => e.textContent!)) as Record<
        string,
        unknown
      >;
      assert.equal(out['error'], undefined, String(out['error']));
      assert.ok(
        (out['matmulError'] as number) < 1e-3,
        `matmul error ${String(out['matmulError'])}`,
      );
      const [cpu, gpu] = out['losses'] as [number, number];
      assert.ok(
        Math.abs(cpu - gpu) < 1e-4 * Math.max(1, cpu),
        `losses ${cpu} (cpu), ${gpu} (webgpu)`,
      );
      assert.deepEqual(errors, []);
    } finally {
      await gpuBrowser.close();
    }
  });

  test('inside a Worker, products run on worker threads of its own, with the same values', async () => {
    const { page, errors } = await open(browser, `${url}threads.html`);
    await page.waitForFunction(() => document.getElementById('result')!.textContent !== 'pending', {
      timeout: 60_000,
    });
    const out = JSON.parse(await page.$eval('#result', (e) => e.textContent!)) as Record<
      string,
      unknown
    >;
    assert.equal(out['error'], undefined, String(out['error']));
    assert.match(
      String(out['info']),
      // Chromium validates relaxed SIMD, so the product's multiply-adds are fused.
      /^cpu: WebAssembly SIMD with relaxed-SIMD FMA, threads=([2-9]|\d\d) \(\d+ workers started\)$/,
    );
    assert.ok((out['maxError'] as number) < 1e-3, `max error ${String(out['maxError'])}`);
    assert.deepEqual(errors, []);
  });

  test("playground (a): the worked example's values and gradients in the right nodes", async () => {
    const { page, errors } = await open(browser, `${url}backprop.html`);
    await page.waitForFunction(() => document.body.dataset['ready'] === 'true');
    const texts = () =>
      page.$$eval('g.node', (nodes) =>
        Object.fromEntries(
          nodes.map((n) => [
            n.getAttribute('data-name'),
            Array.from(n.querySelectorAll('[data-role]'), (t) => t.textContent),
          ]),
        ),
      );
    // Stepping: every value after Forward on all nodes, no gradient yet; then Backward to the end.
    for (let i = 0; i < 8; i++) await page.click('#forward');
    assert.deepEqual((await texts())['J'], ['= 25', '']);
    for (let i = 0; i < 4; i++) await page.click('#backward');
    const nodes = await texts();
    assert.deepEqual(nodes['J'], ['= 25', '∂J/∂J = 1']);
    assert.deepEqual(nodes['z'], ['= −5', '∂J/∂z = −10']);
    assert.deepEqual(nodes['ŷ'], ['= 10', '∂J/∂ŷ = 10']);
    assert.deepEqual(nodes['b'], ['= 4', '∂J/∂b = 10']);
    assert.deepEqual(nodes['w'], ['= 3', '∂J/∂w = 20']);
    assert.deepEqual(nodes['x'], ['= 2', 'constant']);
    await page.screenshot({ path: join(shots, 'playground-backprop.png') });
    // One SGD step with α = 0.01: w = 3 − 0.01·20, b = 4 − 0.01·10.
    await page.click('#sgd');
    await page.click('#all');
    assert.deepEqual((await texts())['w']![0], '= 2.8');
    assert.match(
      await page.$eval('#footer', (e) => e.textContent!),
      /Runs on: cpu: WebAssembly SIMD with relaxed-SIMD FMA, threads=1 \(cross-origin isolated: yes\)/,
    );
    // A formula that does not parse is a message on the page, which keeps working.
    await page.$eval('#program', (e) => ((e as HTMLTextAreaElement).value = 'w*(x+'));
    await page.click('#build');
    assert.equal(
      await page.$eval('#message', (e) => e.textContent),
      'line 1: the formula ends too early',
    );
    await page.$eval('#program', (e) => ((e as HTMLTextAreaElement).value = 'sigmoid(w*x+b)'));
    await page.click('#build');
    await page.click('#all');
    assert.equal(await page.$eval('#message', (e) => e.textContent), '');
    assert.deepEqual(errors, []);
  });

  for (const mode of ['jit', 'eager', 'tf1']) {
    test(`playground (b): circles to >= 0.95 test accuracy (${mode}), a heatmap that is drawn`, async () => {
      const { page, errors } = await open(browser, `${url}train.html`);
      await page.select('#mode', mode);
      await page.click('#start');
      await page.waitForFunction(() => Number(document.body.dataset['step']) >= 600, {
        timeout: 120_000,
      });
      await page.click('#start'); // pause
      const accuracy = Number(await page.evaluate(() => document.body.dataset['accuracy']));
      assert.ok(accuracy >= 0.95, `test accuracy ${accuracy}`);
      // Not blank: the heatmap holds both classes' colours.
      const colours = await page.$eval('#heatmap', (c) => {
        const data = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 320, 320).data;
        const seen = new Set<string>();
        for (let i = 0; i < data.length; i += 4 * 97)
          seen.add(`${data[i]! >> 5},${data[i + 2]! >> 5}`);
        return seen.size;
      });
      assert.ok(colours > 4, `${colours} colours on the heatmap`);
      assert.match(
        await page.$eval('#footer', (e) => e.textContent!),
        /Runs on: cpu: WebAssembly SIMD with relaxed-SIMD FMA, threads=\d+.*, in a Worker \(cross-origin isolated: yes\)/,
      );
      if (mode === 'jit')
        await page.screenshot({ path: join(shots, 'playground-train.png'), fullPage: true });
      assert.deepEqual(errors, []);
    });
  }

  test('playground (b): circles to >= 0.95 on the webgpu device (jit)', async () => {
    const gpuBrowser = await launchWithWebGpu();
    try {
      const { page, errors } = await open(gpuBrowser, `${url}train.html`);
      await page.select('#device', 'webgpu');
      await page.click('#start');
      await page.waitForFunction(
        () =>
          // SwiftShader is slow: 200 steps (the cpu tests take 600) reach the same accuracy.
          Number(document.body.dataset['step']) >= 200 ||
          document.getElementById('message')!.textContent !== '',
        { timeout: 150_000 },
      );
      await page.click('#start'); // pause
      assert.equal(await page.$eval('#message', (e) => e.textContent), '');
      const accuracy = Number(await page.evaluate(() => document.body.dataset['accuracy']));
      assert.ok(accuracy >= 0.95, `test accuracy ${accuracy}`);
      assert.match(
        await page.$eval('#footer', (e) => e.textContent!),
        /Runs on: webgpu: .+, in a Worker .*webgpu: available/,
      );
      assert.deepEqual(errors, []);
    } finally {
      await gpuBrowser.close();
    }
  });

  test('playground (b): a learning rate too large is a message with a way back, not a frozen page', async () => {
    const { page, errors } = await open(browser, `${url}train.html`);
    await page.select('#optimizer', 'sgd');
    await page.$eval('#lr', (e) => ((e as HTMLInputElement).value = '1e38'));
    await page.$eval('#lr', (e) => e.dispatchEvent(new Event('change')));
    await page.click('#start');
    await page.waitForFunction(() => document.getElementById('message')!.textContent !== '', {
      timeout: 60_000,
    });
    assert.match(
      await page.$eval('#message', (e) => e.textContent!),
      /the loss became (NaN|Infinity) at step \d+: lower the learning rate and press Reset/,
    );
    assert.deepEqual(errors, []);
  });

  test('playground (c): one epoch of digits to >= 0.9, and a drawn vertical stroke reads as 1', async () => {
    const { page, errors } = await open(browser, `${url}digits.html`);
    await page.click('#train');
    await page.waitForFunction(() => document.body.dataset['accuracy'] !== undefined, {
      timeout: 120_000,
    });
    const accuracy = Number(await page.evaluate(() => document.body.dataset['accuracy']));
    assert.ok(accuracy >= 0.9, `test accuracy ${accuracy}`);
    const box = (await (await page.$('#pad'))!.boundingBox())!;
    await page.mouse.move(box.x + 140, box.y + 50);
    await page.mouse.down();
    for (let y = 50; y <= 230; y += 6) await page.mouse.move(box.x + 140, box.y + y);
    await page.mouse.up();
    await page.waitForFunction(() => document.body.dataset['best'] === '1', { timeout: 10_000 });
    await page.screenshot({ path: join(shots, 'playground-digits.png'), fullPage: true });
    // A model of another architecture is refused on the page, naming what differs.
    const other = nb.serialize(new nb.nn.Sequential(new nb.nn.Linear(784, 64)).stateDict());
    const file = join(shots, 'other.safetensors');
    writeFileSync(file, other);
    const input = (await page.$('#file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(file);
    await page.waitForFunction(() => document.getElementById('message')!.textContent !== '');
    assert.match(
      await page.$eval('#message', (e) => e.textContent!),
      /loadStateDict: .*(missing keys|shape)/,
    );
    assert.deepEqual(errors, []);
  });
});
