/**
 * Rendering with maintained WebAssembly builds, loaded on first use: Graphviz (@viz-js/viz) lays
 * out DOT as SVG; resvg (@resvg/resvg-wasm) rasterises SVG to PNG. PNG text needs a font file:
 * DejaVu Sans is looked up in the usual Linux places (Debian: fonts-dejavu-core), or pass fontFiles.
 */
import { NablaError } from '../core/errors.js';
import { nodeModule } from '../engine/node.js';

type Viz = Awaited<ReturnType<typeof import('@viz-js/viz').instance>>;
let viz: Promise<Viz> | null = null;

/** DOT → SVG with Graphviz. */
export async function dotToSvg(dot: string): Promise<string> {
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  const result = (await viz).render(dot, { format: 'svg' });
  if (result.status !== 'success') {
    throw new NablaError(
      `Graphviz could not render the graph: ${result.errors.map((e) => e.message).join('; ')}`,
    );
  }
  return result.output;
}

const FONT_PATHS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
];

let resvg: Promise<typeof import('@resvg/resvg-wasm')> | null = null;

async function loadResvg(): Promise<typeof import('@resvg/resvg-wasm')> {
  const module = await import('@resvg/resvg-wasm');
  const require = nodeModule('node:module').createRequire(import.meta.url);
  const wasm = nodeModule('node:fs').readFileSync(
    require.resolve('@resvg/resvg-wasm/index_bg.wasm'),
  );
  await module.initWasm(wasm);
  return module;
}

export interface PngOptions {
  /** Pixels per SVG unit. */
  scale?: number;
  /** Font files for the text; default: DejaVu Sans where installed. */
  fontFiles?: readonly string[];
}

/** SVG → PNG bytes with resvg. */
export async function svgToPng(
  svg: string,
  { scale = 2, fontFiles }: PngOptions = {},
): Promise<Uint8Array> {
  resvg ??= loadResvg();
  const { Resvg } = await resvg;
  const fs = nodeModule('node:fs');
  const fonts = (fontFiles ?? FONT_PATHS.filter((p) => fs.existsSync(p)).slice(0, 1)).map(
    (p) => new Uint8Array(fs.readFileSync(p)),
  );
  const image = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { fontBuffers: fonts, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return image.render().asPng();
}
