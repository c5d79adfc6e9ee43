/**
 * The browser build, run by `npm run build`: both entry points as ES modules in dist/browser/
 * (`nabla.js`, `tf1.js`) that any page can import. Code they share, and what loads on first use
 * (Graphviz and resvg, only when a picture is drawn), go in chunks beside them.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
rmSync(join(root, 'dist/browser'), { recursive: true, force: true }); // no chunks of old builds
await build({
  absWorkingDir: root,
  entryPoints: { nabla: 'src/index.ts', tf1: 'src/tf1.ts' },
  outdir: 'dist/browser',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  // Dawn for Node; pages use navigator.gpu, and the import is never reached there.
  external: ['webgpu'],
  logLevel: 'warning',
});
