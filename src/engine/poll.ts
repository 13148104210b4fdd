// Adaptive polling for the waiting phases: look soon after a change is likely (fast at first),
// then back off to a cap so a long wait does not flood the API.
import { sleep } from '../scaleway/index.js';

export interface PollOptions {
  signal: AbortSignal;
  /** Epoch ms after which the wait gives up (the phase deadline), or null. */
  deadlineAt: number | null;
  /** What is being waited for, for the timeout message: "server s-1 to be running". */
  what: string;
  initialMs?: number;
  factor?: number;
  maxMs?: number;
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeout';
  readonly retryable = false;
}

/** The delay before poll number `n` (0-based): initial × factor^n, capped. */
export function pollDelay(n: number, initialMs = 200, factor = 1.5, maxMs = 5_000): number {
  return Math.min(maxMs, Math.round(initialMs * factor ** n));
}

/**
 * Calls `check` until it returns a value other than undefined, waiting `pollDelay` between
 * calls. Errors from `check` propagate (the client already retried transient ones).
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, o: PollOptions): Promise<T> {
  for (let n = 0; ; n++) {
    const value = await check();
    if (value !== undefined) return value;
    let delay = pollDelay(n, o.initialMs, o.factor, o.maxMs);
    if (o.deadlineAt !== null) {
      const left = o.deadlineAt - Date.now();
      if (left <= 0) throw new WaitTimeoutError(`gave up waiting for ${o.what}: the phase deadline passed`);
      delay = Math.min(delay, left);
    }
    await sleep(delay, o.signal);
  }
}
