/** Command-line values: each bad one is a UsageError naming the flag and what it takes. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export function choice<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}; got '${value}'`);
  }
  return value as T;
}

export function positive(flag: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `--${flag} must be a positive ${integer ? 'integer' : 'number'}; got '${value}'`,
    );
  }
  return n;
}

/** Seeds are 32-bit (nb.manualSeed's range): a larger one would silently act as another. */
export function seedOf(value: string): number {
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 4294967295)
    throw new UsageError(`--seed must be an integer from 0 to 4294967295; got '${value}'`);
  return seed;
}

/** Node's strict parseArgs, its complaints (an unknown flag, a missing value) as UsageErrors. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; strict: true; options: T }>>['values'] {
  try {
    return parseArgs({ args, strict: true, options }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
