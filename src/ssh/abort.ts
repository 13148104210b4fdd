// Small helpers for AbortSignal-driven cancellation, shared by the communicator and the
// provisioners. `abortError` and `sleep` are kiln's shared ones (src/shared), re-exported here.
import { abortError } from '../shared/sleep.js';

export { abortError, sleep } from '../shared/sleep.js';

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** `promise`'s value, or `fallback` after `ms` (a timer that does not keep the process alive). */
export function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms).unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}
