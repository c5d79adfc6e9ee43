/** `npm run playground`: builds the site into dist/site/ and serves it on 127.0.0.1. */
import { buildSite, serveSite } from './site.js';

const port = Number(process.env['PORT'] ?? 8080);
const dir = buildSite();
const { url } = await serveSite(dir, port);
console.log(`nabla playground: ${url}  (static files in ${dir}; Ctrl-C to stop)`);
