// The one definition of exponential backoff with jitter in kiln. The API client uses it between
// request attempts; the engine's phase retries, the store's append retries and the SSH connect
// loop use it with their own policies.

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = never retry). */
  attempts: number;
  /** Delay after the first failed attempt, before jitter. */
  initialMs: number;
  /** Each further delay is the previous one times this. */
  factor: number;
  /** Cap on one delay, before jitter. */
  maxMs: number;
  /** 0..1: the share of a delay that is randomised (0 = exact delays, 1 = anywhere in [0, delay]). */
  jitter: number;
  /** No retry starts once this much time has passed since the first attempt (or would pass while waiting). */
  maxTotalMs: number;
}

/**
 * How long to wait after failed attempt number `attempt` (1-based) before the next one:
 * `min(maxMs, initialMs * factor^(attempt-1))`, of which the `jitter` share is taken off at random
 * ("equal jitter" for 0.5), so many clients that failed together do not retry together.
 * The result lies in `[base * (1 - jitter), base]`.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const base = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, exponent));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.max(0, Math.round(base * (1 - jitter * r)));
}
