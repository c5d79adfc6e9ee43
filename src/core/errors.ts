/**
 * Errors a user can act on: each names the op, the shapes involved and the user's own line of code
 * (the first stack frame outside nabla), so a mistake deep in a model points back at its cause.
 */

/**
 * The directory of nabla's own files (…/src/ or …/dist/src/), whose stack frames are skipped; null
 * inside a bundle (import.meta.url is gone there, and every frame is in one file anyway).
 */
const LIBRARY_PATH: string | null = (() => {
  try {
    const url: unknown = import.meta.url;
    return typeof url === 'string' ? decodeURIComponent(new URL('..', url).pathname) : null;
  } catch {
    return null;
  }
})();

export class NablaError extends Error {
  override name = 'NablaError';
  constructor(
    message: string,
    /** The op being run or built when the error happened, if any. */
    readonly op?: string,
    /** `file:line:column` of the user's call, when it could be found. */
    readonly callSite?: string,
  ) {
    super(message);
  }
}

/** The first stack frame that is not inside nabla or Node itself, as `file:line:column`. */
export function userCallSite(): string | undefined {
  return callSiteIn(new Error().stack ?? '');
}

/** The first frame of `stack` (an Error's) outside nabla and Node, as `file:line:column`. */
export function callSiteIn(stack: string): string | undefined {
  for (const line of stack.split('\n').slice(1)) {
    // The location is the whole text in parentheses, or after "at ": a frame of Node's own
    // (node:internal/modules/esm/module_job:325:25) must not match from its inner slash.
    const match = /(?:\(|^at )((?:file:\/\/|\/|[A-Za-z]:\\)[^()]*?):(\d+):(\d+)\)?\s*$/.exec(
      line.trim(),
    );
    if (!match) continue;
    const file = match[1]!;
    const path = file.startsWith('file://') ? decodeURIComponent(new URL(file).pathname) : file;
    if (LIBRARY_PATH && path.startsWith(LIBRARY_PATH)) continue;
    return `${path}:${match[2]}:${match[3]}`;
  }
  return undefined;
}

/** Builds an error for `op` whose message ends with the user's call site. */
export function opError(op: string, message: string): NablaError {
  const site = userCallSite();
  const where = site ? ` (at ${site})` : '';
  return new NablaError(`${op}: ${message}${where}`, op, site);
}

/** A shape for display, with sizes unknown until a graph runs (-1) shown as `?`. */
export function displayShape(shape: readonly number[]): string {
  return formatShape(shape.map((d) => (d < 0 ? null : d)));
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : d)).join(', ')}]`;
}
