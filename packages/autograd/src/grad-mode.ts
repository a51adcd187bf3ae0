/** @file Grad mode: whether ops are recorded on the tape. Scoped and exception-safe, like torch.no_grad. */

let gradEnabled = true;

/** Whether ops are currently recorded on the tape (true unless inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Set grad mode for the duration of `fn` and restore the previous mode afterwards, also when `fn` throws.
 * Prefer `noGrad` / `enableGrad`; this is the primitive both are built on.
 */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Run `fn` without recording ops on the tape (evaluation, parameter updates). Results of ops inside do not
 * require grad. The previous mode is restored when `fn` returns or throws.
 * @example const updated = noGrad(() => sub(w, mul(lr, w.grad!)));
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Run `fn` with the tape on, even inside `noGrad`. The previous mode is restored afterwards. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
