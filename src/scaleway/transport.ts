// The one retry loop every call to a Scaleway API goes through (the per-API modules build the
// requests: instance.ts, block.ts, network.ts, marketplace.ts).
//
// Retries are kiln's own loop around ky with ky's `retry: 0`, not ky's built-in retry, because:
// - creates must never be repeated after they may have reached Scaleway: they end in an
//   AmbiguousError instead, which ky's retry cannot express;
// - the wait between attempts is `backoffDelay` (jittered, the same function the engine's phase
//   retries use), and ky's retry has no jitter;
// - each attempt is reported through `onRequest` with its number and the delay before the next one;
// - the whole call (every attempt and every wait) is bounded by the caller's signal and deadline.
// ky 1's own `timeout` stops at the answer's headers; a per-attempt AbortSignal also bounds reading
// the body, so `requestTimeoutMs` is implemented with that instead (ky `timeout: false`).
import ky from 'ky';
import { errorFromResponse } from './error-answers.js';
import {
  AccountRefusalError,
  AmbiguousError,
  NetworkError,
  RateLimitedError,
  ScalewayError,
  ServerError,
  type RequestContext,
} from './errors.js';
import { backoffDelay, defaultRequestRetry, parseRetryAfter, sleep, type RetryPolicy } from './retry.js';
import { parseJson, type Answer, type CallOptions, type Query, type RequestReport, type RequestSpec } from './wire.js';
import { kilnVersion } from './version.js';
import { normalizeZone } from './zones.js';

export interface ClientOptions {
  /** e.g. `https://api.scaleway.com` (a trailing `/` is fine). */
  apiUrl: string;
  /** `fr-par-1`, … (legacy `par1`/`ams1` accepted). */
  zone: string;
  /** SECRET: sent only as the `X-Auth-Token` header, never reported. */
  secretKey: string;
  /** Default `project` of created resources. */
  projectId?: string;
  /** Used for created resources when no project is known (legacy accounts). */
  organizationId?: string;
  /** Defaults to `kiln/<version>`. */
  userAgent?: string;
  /** Retries of idempotent requests; defaults to `defaultRequestRetry`. */
  retry?: RetryPolicy;
  /** Called after every attempt (success or not); for the event log and `--debug`. */
  onRequest?: (report: RequestReport) => void;
  /** Bound on one attempt, answer body included; default 30 s. */
  requestTimeoutMs?: number;
  /** Items per page of list calls, 1..100 (Scaleway's maximum, the default). */
  pageSize?: number;
}


/** One call's bounds: the caller's signal, the deadline, and both combined. */
interface CallScope {
  signal?: AbortSignal;
  caller?: AbortSignal;
  deadline?: AbortSignal;
  deadlineMs?: number;
  startedAt: number;
}

/** Connection errors that mean the request never left this machine, so Scaleway cannot have acted on it. */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(e: unknown): string | undefined {
  for (let current: unknown = e, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeTransportError(e: unknown): string {
  const code = errorCode(e);
  const cause = (e as { cause?: { message?: unknown } }).cause;
  const detail = typeof cause?.message === 'string' ? cause.message : e instanceof Error ? e.message : String(e);
  return code && !detail.includes(code) ? `${detail} (${code})` : detail;
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The account and zone a client speaks for, and the loop that carries its calls. */
export class Transport {
  readonly zone: string;
  /** Without a trailing `/`. */
  readonly apiUrl: string;
  /** Default owner of created resources (the per-API modules word it as their API wants). */
  readonly projectId?: string;
  readonly organizationId?: string;
  /** Items per page of list calls, 1..100. */
  readonly pageSize: number;
  readonly #secretKey: string;
  readonly #userAgent: string;
  readonly #retry: RetryPolicy;
  readonly #onRequest?: (report: RequestReport) => void;
  readonly #requestTimeoutMs: number;

  constructor(options: ClientOptions) {
    let url: URL;
    try {
      url = new URL(options.apiUrl);
    } catch {
      throw new Error(`api_url "${options.apiUrl}" is not a URL. Use e.g. https://api.scaleway.com (or SCW_API_URL).`);
    }
    if (!options.secretKey) {
      throw new Error('No Scaleway secret key. Set SCW_SECRET_KEY, secret_key in the template, or secret_key in the Scaleway config file.');
    }
    this.apiUrl = url.href.replace(/\/+$/, '');
    this.zone = normalizeZone(options.zone);
    this.#secretKey = options.secretKey;
    this.projectId = options.projectId;
    this.organizationId = options.organizationId;
    this.#userAgent = options.userAgent ?? `kiln/${kilnVersion()}`;
    this.#retry = options.retry ?? defaultRequestRetry;
    this.#onRequest = options.onRequest;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.pageSize = Math.min(100, Math.max(1, Math.floor(options.pageSize ?? 100)));
  }

  #startCall(o: CallOptions = {}): CallScope {
    const deadline = o.deadlineMs !== undefined ? AbortSignal.timeout(Math.max(0, o.deadlineMs)) : undefined;
    const signals = [o.signal, deadline].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    return { signal, caller: o.signal, deadline, deadlineMs: o.deadlineMs, startedAt: performance.now() };
  }

  /** One call: its attempts and the waits between them, bounded by the caller's signal and deadline. */
  call(spec: RequestSpec, o?: CallOptions): Promise<Answer> {
    return this.#send(spec, this.#startCall(o));
  }

  /** Every page of a list, Instance-style: `page`/`per_page` in the query, `X-Total-Count` in the answer. */
  async *pages<T>(
    path: string,
    key: string,
    filter: Query,
    o: CallOptions | undefined,
    itemsOf: (value: unknown) => T[] = arrayOf as (value: unknown) => T[],
  ): AsyncGenerator<T[]> {
    const scope = this.#startCall(o);
    const perPage = this.pageSize;
    for (let page = 1; ; page++) {
      const answer = await this.#send({ method: 'GET', path, query: { ...filter, page, per_page: perPage }, kind: 'read' }, scope);
      const items = itemsOf(parseJson(answer)[key]);
      if (items.length === 0) return;
      yield items;
      // X-Total-Count is authoritative; without it, a short page is the last one.
      const total = answer.headers.get('x-total-count');
      if (total !== null && Number.isFinite(Number(total))) {
        if (page >= Math.ceil(Number(total) / perPage)) return;
      } else if (items.length < perPage) {
        return;
      }
    }
  }

  #report(report: RequestReport): void {
    try {
      this.#onRequest?.(report);
    } catch {
      // A failing observer must not change the outcome of the call it observes.
    }
  }

  /** One call: attempts, waits and the decision between them. */
  async #send(spec: RequestSpec, scope: CallScope): Promise<Answer> {
    const url = new URL(this.apiUrl + spec.path);
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const request: RequestContext = { method: spec.method, path: url.pathname + url.search };
    const headers: Record<string, string> = {
      'X-Auth-Token': this.#secretKey,
      'User-Agent': this.#userAgent,
      Accept: 'application/json',
    };
    if (spec.text !== undefined) headers['Content-Type'] = 'text/plain';

    // Set once an attempt may have reached Scaleway and been acted on (an answer of 5xx, a reset,
    // a timeout): from then on a repeat may find the work already done.
    let mayHaveTakenEffect = false;
    // The retry budget (maxTotalMs) is per request; the caller's deadline is per call (all pages of a list).
    const requestStartedAt = performance.now();

    for (let attempt = 1; ; attempt++) {
      if (scope.caller?.aborted) throw scope.caller.reason;
      if (scope.deadline?.aborted) {
        throw new NetworkError(
          `${request.method} ${request.path} was not sent: the call's deadline of ${scope.deadlineMs} ms had passed.`,
          { status: null, type: 'deadline_exceeded', retryable: true, request },
        );
      }
      const attemptTimer = AbortSignal.timeout(this.#requestTimeoutMs);
      const attemptSignal = scope.signal ? AbortSignal.any([scope.signal, attemptTimer]) : attemptTimer;
      const began = performance.now();
      const elapsed = () => Math.round(performance.now() - began);
      let failure: ScalewayError;
      let sent: boolean;
      try {
        const response = await ky(url, {
          method: spec.method,
          headers,
          json: spec.json,
          body: spec.text,
          signal: attemptSignal,
          timeout: false,
          retry: 0,
          throwHttpErrors: false,
        });
        const text = await response.text();
        if (response.ok) {
          this.#report({ ...request, status: response.status, attempt, durationMs: elapsed() });
          return { status: response.status, headers: response.headers, text };
        }
        if (response.status === 404 && spec.kind === 'delete' && mayHaveTakenEffect) {
          // An earlier attempt of this DELETE may have gone through before its answer was lost:
          // the resource being gone now is exactly what the caller asked for.
          this.#report({ ...request, status: 404, attempt, durationMs: elapsed() });
          return { status: 204, headers: response.headers, text: '' };
        }
        const retryAfterMs = response.status === 429 ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
        failure = errorFromResponse(response.status, text, request, retryAfterMs);
        sent = response.status >= 500;
        if (spec.kind === 'action' && mayHaveTakenEffect && response.status >= 400 && response.status < 500 && response.status !== 429 && !(failure instanceof AccountRefusalError)) {
          // The repeat was refused, most likely because the first attempt already changed the server's state
          // (a refusal of the account — quota, stock, permission — says nothing of that: it stands as it is).
          failure = new AmbiguousError(
            `${request.method} ${request.path} was refused on a retry (${failure.type}) after an earlier attempt may have succeeded. Check the server's state before acting again.`,
            { status: response.status, type: 'ambiguous', resource: failure.resource, resourceId: failure.resourceId, retryable: false, request, cause: failure },
          );
        }
      } catch (e) {
        if (scope.caller?.aborted) {
          this.#report({ ...request, status: null, attempt, durationMs: elapsed(), error: 'aborted by the caller' });
          throw scope.caller.reason;
        }
        const deadlineHit = scope.deadline?.aborted === true;
        const timedOut = !deadlineHit && attemptTimer.aborted;
        if (!(e instanceof TypeError) && !deadlineHit && !timedOut) throw e; // a bug, not the network
        const code = errorCode(e);
        sent = !notSentCodes.has(code ?? '');
        const what = deadlineHit
          ? `no answer within the call's deadline of ${scope.deadlineMs} ms`
          : timedOut
            ? `no answer within ${this.#requestTimeoutMs} ms`
            : describeTransportError(e);
        failure = new NetworkError(
          `Could not reach Scaleway at ${new URL(this.apiUrl).host} for ${request.method} ${request.path}: ${what}. Check the network and api_url; kiln retries calls that are safe to repeat.`,
          { status: null, type: deadlineHit ? 'deadline_exceeded' : timedOut ? 'timeout' : code ?? 'network_error', retryable: true, request, cause: e },
        );
      }

      if (sent && spec.method !== 'GET') mayHaveTakenEffect = true;
      if (spec.kind === 'create' && sent) {
        const failedWith = failure;
        failure = new AmbiguousError(
          `${request.method} ${request.path} failed after Scaleway may have received it (${failedWith.status ?? failedWith.type}): ` +
            `"${spec.createName ?? '?'}" may exist anyway. Look it up by name or tags before creating it again.`,
          { status: failedWith.status, type: 'ambiguous', retryable: false, request, cause: failedWith, requestName: spec.createName, requestTags: spec.createTags },
        );
      }

      const clientRetries =
        !scope.deadline?.aborted &&
        (failure instanceof RateLimitedError || failure instanceof ServerError || failure instanceof NetworkError);
      const delay =
        failure instanceof RateLimitedError && failure.retryAfterMs !== undefined
          ? failure.retryAfterMs
          : backoffDelay(this.#retry, attempt);
      const now = performance.now();
      const inTime =
        now - requestStartedAt + delay <= this.#retry.maxTotalMs &&
        (scope.deadlineMs === undefined || now - scope.startedAt + delay < scope.deadlineMs);
      const retrying = clientRetries && attempt < this.#retry.attempts && inTime;

      this.#report({
        ...request,
        status: failure.status,
        attempt,
        durationMs: elapsed(),
        error: failure.message,
        ...(retrying ? { retryInMs: delay } : {}),
      });
      if (!retrying) throw failure;
      try {
        await sleep(delay, scope.signal);
      } catch (reason) {
        if (scope.caller?.aborted) throw scope.caller.reason;
        throw failure; // the deadline ended the wait: the last failure says most
      }
    }
  }
}
