// The wire between kiln and Scaleway's APIs, shared by the retry loop (transport.ts) and the
// per-API modules (instance, block, network, marketplace): what a request and an answer are, the
// bounds of one call, what is reported of each attempt, and the helpers that read answers.
import { ScalewayError } from './errors.js';

export interface CallOptions {
  /** Cancels the call at once, during an attempt or a wait between attempts; the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Bound on the whole call, every attempt and wait included (for lists: every page). */
  deadlineMs?: number;
}

export interface RequestReport {
  method: string;
  /** Path and query of the request; holds no secret (the token travels in a header). */
  path: string;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** 1 for the first attempt of a call. */
  attempt: number;
  durationMs: number;
  /** What went wrong, when it did. */
  error?: string;
  /** The wait before the next attempt, when the client is going to retry (Retry-After or backoff). */
  retryInMs?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

/**
 * How a failure is handled:
 * - `read`: GET, PATCH — repeating is harmless.
 * - `delete`: repeating is harmless; a 404 after an attempt that may have taken effect is success.
 * - `action`: safe to repeat, but after an attempt that may have taken effect a 4xx (e.g. "action not
 *   allowed" because the server already changed state) is reported as AmbiguousError.
 * - `create`: never repeated once it may have reached Scaleway (AmbiguousError); repeated only when
 *   Scaleway certainly did not act on it (429, connection refused).
 */
export type CallKind = 'read' | 'delete' | 'action' | 'create';

/** One request as the retry loop takes it. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the API URL, starting with `/`. */
  path: string;
  query?: Query;
  json?: unknown;
  text?: string;
  kind: CallKind;
  /** For creates: what the caller can reconcile by. */
  createName?: string;
  createTags?: string[];
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** One path segment (an id, a user-data key), escaped. */
export function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** A list filter (tags, ids) as Scaleway's lists take it: comma-joined, or absent when empty. */
export function commaList(values: readonly string[] | undefined): string | undefined {
  return values && values.length > 0 ? values.join(',') : undefined;
}

/** The answer's body, which must be a JSON object (ScalewayError `invalid_response` otherwise). */
export function parseJson(answer: Answer): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(answer.text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ScalewayError(
    `Scaleway answered ${answer.status} with a body that is not a JSON object. The API URL may not point at the Scaleway Instance API.`,
    { status: answer.status, type: 'invalid_response', retryable: false },
  );
}

/** Every item of every page. */
export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...page);
  return all;
}
