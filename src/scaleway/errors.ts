// Typed errors for everything the Scaleway API (or the way to it) can answer. Each carries the
// HTTP status (null when no answer came), Scaleway's error `type`, the resource when Scaleway named
// it, whether repeating the same call blindly is safe (`retryable`), and a message a person can act on.

/** Where a request went: used in messages and reports. Never holds a secret. */
export interface RequestContext {
  method: string;
  /** Path and query, e.g. `/instance/v1/zones/fr-par-1/servers?page=1`. */
  path: string;
}

export interface ScalewayErrorFields {
  status: number | null;
  type: string;
  resource?: string;
  resourceId?: string;
  retryable: boolean;
  request?: RequestContext;
  cause?: unknown;
}

export class ScalewayError extends Error {
  override name = 'ScalewayError';
  readonly status: number | null;
  /** Scaleway's error type (`not_found`, `invalid_arguments`, …), or kiln's own for network failures. */
  readonly type: string;
  readonly resource?: string;
  readonly resourceId?: string;
  /** True when the very same call may simply be repeated (later). */
  readonly retryable: boolean;
  readonly request?: RequestContext;

  constructor(message: string, fields: ScalewayErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.status = fields.status;
    this.type = fields.type;
    this.resource = fields.resource;
    this.resourceId = fields.resourceId;
    this.retryable = fields.retryable;
    this.request = fields.request;
  }
}

export class NotFoundError extends ScalewayError { override name = 'NotFoundError'; }

export interface ArgumentDetail { argument_name?: string; reason?: string; help_message?: string }
/** 400: `invalid_arguments` (with per-argument `details`) or the legacy `invalid_request_error`. */
export class InvalidArgumentsError extends ScalewayError {
  override name = 'InvalidArgumentsError';
  readonly details: ArgumentDetail[];
  constructor(message: string, fields: ScalewayErrorFields & { details: ArgumentDetail[] }) {
    super(message, fields);
    this.details = fields.details;
  }
}

/**
 * A refusal by the account's limits or rights — a quota, the zone's stock, a missing permission,
 * the key itself, a lock Scaleway holds. Waiting does not lift it within a build and it says
 * nothing about the state of the resource the call was about: never retried, never taken for
 * "an earlier attempt went through". The user acts (the message says how), then runs or resumes.
 */
export class AccountRefusalError extends ScalewayError {
  override name = 'AccountRefusalError';
}

export interface QuotaDetail { resource?: string; quota?: number; current?: number }
/** 403 `quotas_exceeded`, or the Instance API's 403 `invalid_request_error` "Quota exceeded for this resource." */
export class QuotaExceededError extends AccountRefusalError {
  override name = 'QuotaExceededError';
  readonly details: QuotaDetail[];
  constructor(message: string, fields: ScalewayErrorFields & { details: QuotaDetail[] }) {
    super(message, fields);
    this.details = fields.details;
  }
}

/** 412 `out_of_stock`: the zone has no capacity for the commercial type (`resource`). */
export class OutOfStockError extends AccountRefusalError { override name = 'OutOfStockError'; }

export interface PermissionDetail { resource?: string; action?: string }
/** 403 `permissions_denied`: the key's IAM principal lacks `action` on `resource`. */
export class PermissionDeniedError extends AccountRefusalError {
  override name = 'PermissionDeniedError';
  readonly details: PermissionDetail[];
  constructor(message: string, fields: ScalewayErrorFields & { details?: PermissionDetail[] }) {
    super(message, fields);
    this.details = fields.details ?? [];
  }
}

/** 401 `denied_authentication`: the secret key is unknown, expired or malformed (`reason`). */
export class UnauthorizedError extends AccountRefusalError {
  override name = 'UnauthorizedError';
  readonly reason?: string;
  constructor(message: string, fields: ScalewayErrorFields & { reason?: string }) {
    super(message, fields);
    this.reason = fields.reason;
  }
}

/** `locked`: Scaleway holds the resource (billing, abuse, maintenance); nothing changes it until unlocked. */
export class LockedError extends AccountRefusalError { override name = 'LockedError'; }

/** 412 `precondition_failed`: e.g. `resource_still_in_use`, or the Instance API's "server should be stopped". */
export class PreconditionFailedError extends ScalewayError {
  override name = 'PreconditionFailedError';
  readonly precondition?: string;
  constructor(message: string, fields: ScalewayErrorFields & { precondition?: string }) {
    super(message, fields);
    this.precondition = fields.precondition;
  }
}

/** 409 transient_state: the resource is busy (e.g. snapshotting); retry once it has settled. */
export class TransientStateError extends ScalewayError {
  override name = 'TransientStateError';
  readonly currentState?: string;
  constructor(message: string, fields: ScalewayErrorFields & { currentState?: string }) {
    super(message, fields);
    this.currentState = fields.currentState;
  }
}
/** 409 other than transient_state (e.g. a name that must be unique is taken). */
export class ConflictError extends ScalewayError { override name = 'ConflictError'; }
export class RateLimitedError extends ScalewayError {
  override name = 'RateLimitedError';
  /** What `Retry-After` asked for, when it was sent. */
  readonly retryAfterMs?: number;
  constructor(message: string, fields: ScalewayErrorFields & { retryAfterMs?: number }) {
    super(message, fields);
    this.retryAfterMs = fields.retryAfterMs;
  }
}
export class ServerError extends ScalewayError { override name = 'ServerError'; }
/** No HTTP answer: refused, reset, DNS, per-attempt timeout or the call's deadline. */
export class NetworkError extends ScalewayError { override name = 'NetworkError'; }

/**
 * A create (server, snapshot, image) failed AFTER the request may have reached Scaleway (timeout,
 * reset, 5xx): the resource may exist. Not retryable blindly: look it up by `requestName` /
 * `requestTags` first, and create again only if it is not there.
 */
export class AmbiguousError extends ScalewayError {
  override name = 'AmbiguousError';
  readonly requestName?: string;
  readonly requestTags: string[];
  constructor(message: string, fields: ScalewayErrorFields & { requestName?: string; requestTags?: string[] }) {
    super(message, fields);
    this.requestName = fields.requestName;
    this.requestTags = fields.requestTags ?? [];
  }
}

const noAnswer: Record<string, string> = {
  timeout: 'no answer in time',
  deadline_exceeded: 'no answer in time',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  ECONNREFUSED: 'connection refused',
};

/**
 * What Scaleway answered to the call behind `error` (its cause chain is followed, so a phase error
 * wrapping an AmbiguousError still knows): the HTTP status ('502'), or why no answer came
 * ('connection reset', 'no answer in time'); undefined when the error did not come from an API call.
 */
export function answerOf(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof ScalewayError) {
      if (current.status !== null) return String(current.status);
      if (current.type !== 'ambiguous') return noAnswer[current.type] ?? current.type;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Connections never made: nothing listens at the API URL, or its host name does not resolve. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND']);

/**
 * Whether `error` says the API URL answers nothing at all (refused, or no such host) — a wrong
 * SCW_API_URL or a `kiln sim` not started, rather than a blip of a working connection.
 */
export function isUnreachable(error: unknown): boolean {
  return error instanceof NetworkError && UNREACHABLE.has(error.type);
}

/** Whether repeating the same call is safe and may succeed. Non-Scaleway errors (bugs, aborts) are not retryable. */
export function isRetryable(e: unknown): boolean {
  return e instanceof ScalewayError && e.retryable;
}


/**
 * Whether a refusal may only mean that the resource was not in the state the call needs — the
 * Instance API's `invalid_request_error` ("server should be stopped"), the same as a 412 without a
 * named precondition, a resource still in use, a conflict, a transient state: a fresh look at the
 * resource decides what to do. Never a refusal of the account, nor arguments Scaleway named as wrong.
 */
export function refusedForItsState(e: unknown): boolean {
  if (e instanceof InvalidArgumentsError) return e.type === 'invalid_request_error' && e.details.length === 0;
  return e instanceof PreconditionFailedError || e instanceof ConflictError || e instanceof TransientStateError;
}
