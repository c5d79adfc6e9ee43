/**
 * API.md: both entry points work in a browser bundle. Each is bundled by esbuild for the browser
 * and evaluated in a bare context with only what browsers have (no process, require or Node
 * built-ins), then computes something.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { test } from 'node:test';
import { build } from 'esbuild';

async function loadBundle(entry: string): Promise<vm.Context> {
  const path = fileURLToPath(new URL(`../src/${entry}.js`, import.meta.url));
  const result = await build({
    entryPoints: [path],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'nabla',
    write: false,
    logLevel: 'error',
  });
  const context = vm.createContext({
    console,
    WebAssembly,
    TextEncoder,
    TextDecoder,
    URL,
    setTimeout,
  });
  vm.runInContext(result.outputFiles[0]!.text, context);
  return context;
}

test('the eager entry point runs from a browser bundle', async () => {
  const context = await loadBundle('index');
  const [J, dw, processType] = vm.runInContext(
    `(() => {
      const w = nabla.tensor(3, { requiresGrad: true });
      const J = nabla.tensor(5).sub(w.mul(2).add(4)).square();
      J.backward();
      return [J.item(), w.grad.item(), typeof process];
    })()`,
    context,
  ) as [number, number, string];
  assert.deepEqual([J, dw, processType], [25, 20, 'undefined']); // ∂/∂w (5 − (2w + 4))² = 20 at w = 3
});

test('the graph entry point runs from a browser bundle', async () => {
  const context = await loadBundle('tf1');
  const total = vm.runInContext(
    `(() => {
      const X = nabla.placeholder('float32', [null, 2]);
      const y = nabla.reduceSum(nabla.matmul(X, nabla.ones([2, 1])));
      return new nabla.Session().run(y, new Map([[X, [[1, 2], [3, 4]]]])).item();
    })()`,
    context,
  ) as number;
  assert.equal(total, 10);
});

test('the core bundle, minified and gzipped, Graphviz and resvg aside, stays within 150 KB', async () => {
  const { gzipSync } = await import('node:zlib');
  const entry = fileURLToPath(new URL('../src/index.js', import.meta.url));
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    splitting: true,
    outdir: 'bundle-size',
    write: false,
    logLevel: 'error',
  });
  const core = result.outputFiles.filter((f) => !/viz|resvg/.test(f.path));
  const gzipped = core.reduce((sum, f) => sum + gzipSync(f.contents, { level: 9 }).length, 0);
  assert.ok(gzipped <= 150 * 1024, `${gzipped} bytes gzipped`);
});
