/** Warnings about results that may not be what the user meant: once per message, on stderr. */
const given = new Set<string>();

export function warn(message: string): void {
  if (given.has(message)) return;
  given.add(message);
  console.warn(message);
}
