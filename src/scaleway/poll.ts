// Adaptive polling while waiting on a Scaleway state (the build's waiting phases, gc's server
// stops). The delay before the next look is a small fraction of
// the time already waited: a state change is noticed at most that fraction late (~0.4 s on an
// 8 s boot), while an hour-long snapshot wait still backs off to a cap instead of flooding the API.
// With a prediction learnt from past waits (predict.ts), a wait does not look before the early end
// of the expected window, places a few looks evenly across it, and past it backs off as without one.
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
  /**
   * Inside a predicted window: how many looks are placed across it, evenly, the last at its end
   * (never closer than minMs). The one knob that trades API calls for lag once waits have history:
   * a change that is uniformly likely across the window is noticed on average width / (2 × N)
   * late, and even spacing is what minimises that for N looks. 1: a single look at the window's
   * end; 20: a look every tenth of the half-width (the schedule before exact durations). Looks
   * stay between minMs and maxMs apart whatever N says (see windowLookTimes).
   */
  windowLooks: number;
  /** While a sign is awaited (PollOptions.sign): the share of the time waited before a look anyway,
   * in case the sign never comes (then clamped to min/max). */
  signFraction: number;
}

export const POLL_SCHEDULE: Readonly<PollSchedule> = { fraction: 0.05, minMs: 250, maxMs: 10_000, windowLooks: 2, signFraction: 1 };

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
  /**
   * A sign of the change seen without the API (the server's SSH port answering), asked after each
   * look that missed: a promise that resolves when the change is probably done, or undefined when
   * there is nothing to watch yet. While it is pending, the next look waits for it, or for the
   * sparse schedule of `pollDelay(…, signed)` should the sign never come. Once a look made on the
   * sign has missed, the wait goes on with the plain schedule.
   */
  sign?: (signal: AbortSignal) => Promise<void> | undefined;
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeout';
  readonly retryable = false;
}

/** A window's look due this soon after now is the one just made (a timer that fired a little early). */
const JUST_LOOKED_MS = 20;

/**
 * When the looks inside a predicted window fall, counted from the action: `windowLooks` points
 * evenly spaced after its opening (expected − spread), the last one at its end (expected + spread),
 * never closer together than minMs (then fewer of them) nor further apart than maxMs (then more:
 * a wide window of a long wait is not looked at less carefully than the plain schedule would).
 * None at the opening itself: nothing is expected to be done there yet.
 */
export function windowLookTimes(prediction: WaitPrediction, schedule: Partial<PollSchedule> = {}): number[] {
  const { minMs, maxMs, windowLooks } = { ...POLL_SCHEDULE, ...schedule };
  const opens = prediction.expectedMs - prediction.spreadMs;
  const width = 2 * prediction.spreadMs;
  const n = Math.max(1, Math.ceil(width / maxMs), Math.min(Math.floor(windowLooks), Math.floor(width / minMs)));
  return Array.from({ length: n }, (_, k) => Math.round(opens + ((k + 1) * width) / n));
}

/**
 * The delay before the next poll, `elapsedMs` after the change started. With a prediction: until
 * the next of its window's looks (windowLookTimes), nothing; past the window's last look, the plain
 * schedule. While a sign is awaited (`signed`), the sign says when to look: the delay only bounds
 * how long a missing sign can hold the wait up — until the predicted window's end, then
 * signFraction × the time waited.
 */
export function pollDelay(elapsedMs: number, schedule: Partial<PollSchedule> = {}, prediction?: WaitPrediction, signed = false): number {
  const { fraction, minMs, maxMs, signFraction } = { ...POLL_SCHEDULE, ...schedule };
  const clamp = (ms: number) => Math.round(Math.min(maxMs, Math.max(minMs, ms)));
  const elapsed = Math.max(0, elapsedMs);
  if (signed) {
    const windowEnd = prediction ? prediction.expectedMs + prediction.spreadMs : 0;
    return elapsed < windowEnd ? Math.max(minMs, Math.round(windowEnd - elapsed)) : clamp(signFraction * elapsed);
  }
  if (prediction) {
    // Anchored on the action, not on the last look: a slow answer does not push every later look back.
    const next = windowLookTimes(prediction, schedule).find((at) => at > elapsed + JUST_LOOKED_MS);
    if (next !== undefined) return Math.round(next - elapsed);
  }
  return clamp(fraction * elapsed);
}

/**
 * The delay before the first look: none, unless a prediction says the change cannot be done yet,
 * then the window's first look (windowLookTimes). A wait with a sign (`signed`) looks first halfway
 * to the window: that look only learns what the sign needs (the server's address), and the sign
 * then says when to look again; a first look in the window would come late whenever the window,
 * learnt from few waits, opens late.
 */
export function firstPollDelay(elapsedMs: number, prediction?: WaitPrediction, signed = false, schedule: Partial<PollSchedule> = {}): number {
  if (!prediction) return 0;
  const at = signed ? (prediction.expectedMs - prediction.spreadMs) / 2 : windowLookTimes(prediction, schedule)[0]!;
  return Math.max(0, Math.round(at - Math.max(0, elapsedMs)));
}

/** How a look came about: on the schedule, or on a sign (PollOptions.sign). */
export type LookCause = 'schedule' | 'sign';

/**
 * Calls `check` until it returns a value other than undefined, waiting `pollDelay` between
 * calls (or for a sign, see PollOptions.sign). Errors from `check` propagate (the client already
 * retried transient ones).
 */
export async function pollUntil<T>(check: (cause: LookCause) => Promise<T | undefined>, o: PollOptions): Promise<T> {
  const startedAt = Date.now() - Math.max(0, o.elapsedMs ?? 0);
  const untilDeadline = (delay: number): number => {
    if (o.deadlineAt === null) return delay;
    const left = o.deadlineAt - Date.now();
    if (left <= 0) throw new WaitTimeoutError(`gave up waiting for ${o.what}: the phase deadline passed`);
    return Math.min(delay, left);
  };
  const first = firstPollDelay(Date.now() - startedAt, o.prediction, o.sign !== undefined, o.schedule);
  // Even a deadline inside the predicted quiet time gets its look before giving up.
  if (first > 0) await sleep(o.deadlineAt === null ? first : Math.max(0, Math.min(first, o.deadlineAt - Date.now())), o.signal);
  let cause: LookCause = 'schedule';
  // A look on a sign that still missed (the sign came before the state): the plain schedule from then on.
  let signMissed = false;
  for (;;) {
    const lookedAt = Date.now();
    const value = await check(cause);
    if (value !== undefined) return value;
    if (cause === 'sign') signMissed = true;
    const round = new AbortController();
    const stop = () => round.abort(o.signal.reason);
    o.signal.addEventListener('abort', stop, { once: true });
    try {
      // The delay first: a deadline that has passed throws here, before a sign is asked for whose
      // promise would then reject unhandled when the round is aborted.
      const watchSign = !signMissed && o.sign !== undefined;
      const delay = untilDeadline(pollDelay(Date.now() - startedAt, o.schedule, o.prediction, watchSign));
      const sign = watchSign ? o.sign!(round.signal) : undefined;
      if (!sign) {
        await sleep(delay, o.signal);
        cause = 'schedule';
      } else {
        // Neither loser may reject unhandled once the round is over; a sign that fails is no sign.
        const never = new Promise<never>(() => undefined);
        const timer = sleep(delay, round.signal).then(() => 'schedule' as const, () => never);
        const seen = sign.then(() => 'sign' as const, () => never);
        const aborted = new Promise<never>((_, reject) => round.signal.addEventListener('abort', () => reject(round.signal.reason), { once: true }));
        aborted.catch(() => undefined);
        cause = await Promise.race([timer, seen, aborted]);
        // A sign that is there at once (a look just missed it): not faster than the schedule's floor.
        const gap = lookedAt + { ...POLL_SCHEDULE, ...o.schedule }.minMs - Date.now();
        if (cause === 'sign' && gap > 0) await sleep(untilDeadline(gap), o.signal);
      }
    } finally {
      o.signal.removeEventListener('abort', stop);
      round.abort();
    }
  }
}
