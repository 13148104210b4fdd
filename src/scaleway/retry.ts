// The one definition of exponential backoff with jitter in kiln. The API client uses it between
// request attempts; the engine's phase retries and the SSH connect loop reuse it with their own
// policies.

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

/** Per-request retries of the API client: about 0.5 s, 1 s, 2 s, 4 s; never more than 60 s in all. */
export const defaultRequestRetry: RetryPolicy = {
  attempts: 5,
  initialMs: 500,
  factor: 2,
  maxMs: 10_000,
  jitter: 0.5,
  maxTotalMs: 60_000,
};

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

/**
 * The wait a `Retry-After` header asks for, in ms: delta-seconds or an HTTP date.
 * Undefined when absent or unreadable (then the caller backs off on its own).
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
