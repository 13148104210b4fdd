// The API client's retry settings and its reading of `Retry-After`. The backoff itself and `sleep`
// are kiln's shared ones (src/shared), re-exported here for the client's callers.
import type { RetryPolicy } from '../shared/backoff.js';

export { backoffDelay, type RetryPolicy } from '../shared/backoff.js';
export { sleep } from '../shared/sleep.js';

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
