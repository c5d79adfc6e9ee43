/** Whether ops record a tape node for autograd (PyTorch's grad mode). */
let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` with gradient recording set to `on`, restoring the previous mode afterwards. */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/**
 * Runs `fn` without recording operations for autograd and returns its result, like
 * `with torch.no_grad():`. Synchronous: the mode is restored when `fn` returns.
 *
 * @example const pred = nb.noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
