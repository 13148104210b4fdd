// Adaptive polling while waiting on a Scaleway state (the build's waiting phases, gc's server
// stops). The delay before the next look is a small fraction of
// the time already waited: a state change is noticed at most that fraction late (~0.4 s on an
// 8 s boot), while an hour-long snapshot wait still backs off to a cap instead of flooding the API.
// With a prediction learnt from past waits (predict.ts), a wait does not look before the early end
// of the expected window, looks densely through it, and past it backs off as without one.
import type { WaitPrediction } from './predict.js';
import { sleep } from './retry.js';

/** The one polling schedule: next delay = clamp(fraction × elapsed, minMs, maxMs). */
export interface PollSchedule {
  /** Share of the time already waited to wait before the next look. */
  fraction: number;
  /** Floor of the delay, so a young wait does not hammer the API. */
  minMs: number;
  /** Cap of the delay, reached by long waits (fraction × elapsed ≥ maxMs). */
  maxMs: number;
  /** Inside a predicted window: the share of its half-width between looks (then clamped to min/max). */
  windowFraction: number;
}

export const POLL_SCHEDULE: Readonly<PollSchedule> = { fraction: 0.05, minMs: 250, maxMs: 10_000, windowFraction: 0.1 };

export interface PollOptions {
  signal: AbortSignal;
  /** Epoch ms after which the wait gives up (the phase deadline), or null. */
  deadlineAt: number | null;
  /** What is being waited for, for the timeout message: "server s-1 to be running". */
  what: string;
  /** Overrides of POLL_SCHEDULE (tests use tiny delays). */
  schedule?: Partial<PollSchedule>;
  /** When the change is expected, counted from the action that started it; none: the plain schedule. */
  prediction?: WaitPrediction;
  /** How long ago the change started (its action), when the wait begins later than it. */
  elapsedMs?: number;
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeout';
  readonly retryable = false;
}

/**
 * The delay before the next poll, `elapsedMs` after the change started. With a prediction: until
 * its window opens (expected − spread), nothing but the wait for it; inside the window, a look every
 * windowFraction × spread (clamped); past the window, the plain schedule.
 */
export function pollDelay(elapsedMs: number, schedule: Partial<PollSchedule> = {}, prediction?: WaitPrediction): number {
  const { fraction, minMs, maxMs, windowFraction } = { ...POLL_SCHEDULE, ...schedule };
  const clamp = (ms: number) => Math.round(Math.min(maxMs, Math.max(minMs, ms)));
  const elapsed = Math.max(0, elapsedMs);
  if (prediction) {
    const opens = prediction.expectedMs - prediction.spreadMs;
    if (elapsed < opens) return Math.round(opens - elapsed);
    if (elapsed <= prediction.expectedMs + prediction.spreadMs) return clamp(windowFraction * prediction.spreadMs);
  }
  return clamp(fraction * elapsed);
}

/** The delay before the first look: none, unless a prediction says the change cannot be done yet. */
export function firstPollDelay(elapsedMs: number, prediction?: WaitPrediction): number {
  if (!prediction) return 0;
  return Math.max(0, Math.round(prediction.expectedMs - prediction.spreadMs - Math.max(0, elapsedMs)));
}

/**
 * Calls `check` until it returns a value other than undefined, waiting `pollDelay` between
 * calls. Errors from `check` propagate (the client already retried transient ones).
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, o: PollOptions): Promise<T> {
  const startedAt = Date.now() - Math.max(0, o.elapsedMs ?? 0);
  const untilDeadline = (delay: number): number => {
    if (o.deadlineAt === null) return delay;
    const left = o.deadlineAt - Date.now();
    if (left <= 0) throw new WaitTimeoutError(`gave up waiting for ${o.what}: the phase deadline passed`);
    return Math.min(delay, left);
  };
  const first = firstPollDelay(Date.now() - startedAt, o.prediction);
  // Even a deadline inside the predicted quiet time gets its look before giving up.
  if (first > 0) await sleep(o.deadlineAt === null ? first : Math.max(0, Math.min(first, o.deadlineAt - Date.now())), o.signal);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(untilDeadline(pollDelay(Date.now() - startedAt, o.schedule, o.prediction)), o.signal);
  }
}
