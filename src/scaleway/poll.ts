// Adaptive polling while waiting on a Scaleway state (the build's waiting phases, gc's server
// stops). The delay before the next look is a small fraction of
// the time already waited: a state change is noticed at most that fraction late (~0.4 s on an
// 8 s boot), while an hour-long snapshot wait still backs off to a cap instead of flooding the API.
import { sleep } from './retry.js';

/** The one polling schedule: next delay = clamp(fraction × elapsed, minMs, maxMs). */
export interface PollSchedule {
  /** Share of the time already waited to wait before the next look. */
  fraction: number;
  /** Floor of the delay, so a young wait does not hammer the API. */
  minMs: number;
  /** Cap of the delay, reached by long waits (fraction × elapsed ≥ maxMs). */
  maxMs: number;
}

export const POLL_SCHEDULE: Readonly<PollSchedule> = { fraction: 0.05, minMs: 250, maxMs: 10_000 };

export interface PollOptions {
  signal: AbortSignal;
  /** Epoch ms after which the wait gives up (the phase deadline), or null. */
  deadlineAt: number | null;
  /** What is being waited for, for the timeout message: "server s-1 to be running". */
  what: string;
  /** Overrides of POLL_SCHEDULE (tests use tiny delays). */
  schedule?: Partial<PollSchedule>;
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeout';
  readonly retryable = false;
}

/** The delay before the next poll, `elapsedMs` after the wait started. */
export function pollDelay(elapsedMs: number, schedule: Partial<PollSchedule> = {}): number {
  const { fraction, minMs, maxMs } = { ...POLL_SCHEDULE, ...schedule };
  return Math.round(Math.min(maxMs, Math.max(minMs, fraction * Math.max(0, elapsedMs))));
}

/**
 * Calls `check` until it returns a value other than undefined, waiting `pollDelay` between
 * calls. Errors from `check` propagate (the client already retried transient ones).
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, o: PollOptions): Promise<T> {
  const startedAt = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    let delay = pollDelay(Date.now() - startedAt, o.schedule);
    if (o.deadlineAt !== null) {
      const left = o.deadlineAt - Date.now();
      if (left <= 0) throw new WaitTimeoutError(`gave up waiting for ${o.what}: the phase deadline passed`);
      delay = Math.min(delay, left);
    }
    await sleep(delay, o.signal);
  }
}
