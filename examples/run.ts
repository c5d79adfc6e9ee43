/** Shared by the examples: run `main` when the file is executed directly, write pictures. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as nb from '../src/index.js';

export interface ExampleOptions {
  /** Smaller data / fewer steps (used by the tests). */
  quick?: boolean;
  /** Where pictures go (default examples/out). */
  out?: string;
  /** Where text goes (default the console). */
  log?: (line: string) => void;
}

/** Runs `main` if `moduleUrl` is the program Node was started with. */
export function runIfMain(
  moduleUrl: string,
  main: (options: ExampleOptions) => Promise<unknown> | unknown,
): void {
  if (process.argv[1] && moduleUrl === pathToFileURL(process.argv[1]).href) {
    void Promise.resolve(main({ quick: process.argv.includes('--quick') }));
  }
}

/** Writes an SVG and its PNG rendering; returns the PNG's path. */
export async function savePicture(
  options: ExampleOptions,
  name: string,
  svg: string,
): Promise<string> {
  const dir = options.out ?? 'examples/out';
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.svg`), svg);
  const png = join(dir, `${name}.png`);
  writeFileSync(png, await nb.viz.svgToPng(svg));
  return png;
}
