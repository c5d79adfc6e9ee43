/**
 * The browser build, run by `npm run build`: both entry points as ES modules in dist/browser/
 * (`nabla.js`, `tf1.js`) that any page can import. Code they share, and what loads on first use
 * (Graphviz and resvg, only when a picture is drawn), go in chunks beside them.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
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
  logLevel: 'warning',
});
