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

export interface QuotaDetail { resource?: string; quota?: number; current?: number }
export class QuotaExceededError extends ScalewayError {
  override name = 'QuotaExceededError';
  readonly details: QuotaDetail[];
  constructor(message: string, fields: ScalewayErrorFields & { details: QuotaDetail[] }) {
    super(message, fields);
    this.details = fields.details;
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
export class UnauthorizedError extends ScalewayError { override name = 'UnauthorizedError'; }
export class PermissionDeniedError extends ScalewayError { override name = 'PermissionDeniedError'; }
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

const resourceNames: Record<string, string> = {
  instance_server: 'server',
  instance_volume: 'volume',
  instance_snapshot: 'snapshot',
  instance_image: 'image',
  instance_ip: 'IP',
  instance_bootscript: 'bootscript',
  instance_security_group: 'security group',
  instance_placement_group: 'placement group',
};

function describeResource(resource: string | undefined): string {
  if (!resource) return 'resource';
  return resourceNames[resource] ?? resource;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function objects(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
}

/** A short, single-line excerpt of a non-JSON body (5xx pages are often HTML or plain text). */
function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 160)}…` : flat;
}

/**
 * Maps an HTTP error answer to its typed error. `bodyText` is the raw body (JSON or not, maybe empty).
 * `retryAfterMs` is the parsed `Retry-After` header, when present.
 */
export function errorFromResponse(
  status: number,
  bodyText: string,
  request: RequestContext,
  retryAfterMs?: number,
): ScalewayError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = bodyText ? JSON.parse(bodyText) : {};
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (common for 5xx and 429): keep the text for the message.
  }
  const type = str(body.type) ?? (status === 429 ? 'too_many_requests' : status >= 500 ? 'server_error' : `http_${status}`);
  const apiMessage = str(body.message) ?? (Object.keys(body).length === 0 && bodyText ? snippet(bodyText) : undefined);
  const resource = str(body.resource);
  const resourceId = str(body.resource_id);
  const where = `${request.method} ${request.path} answered ${status} ${type}`;
  const base = { status, type, resource, resourceId, request };

  if (status === 404) {
    const what = `${describeResource(resource)}${resourceId ? ` ${resourceId}` : ''}`;
    return new NotFoundError(
      `Scaleway has no ${what} (${where}). It was deleted or never existed; check the id and the zone.`,
      { ...base, retryable: false },
    );
  }
  if (status === 401) {
    return new UnauthorizedError(
      `Scaleway refused the secret key (${where}). Check SCW_SECRET_KEY or the template's secret_key, and that the key is still valid.`,
      { ...base, retryable: false },
    );
  }
  if (status === 403 && type === 'quotas_exceeded') {
    const details: QuotaDetail[] = objects(body.details).map((d) => ({
      resource: str(d.resource), quota: num(d.quota), current: num(d.current),
    }));
    const list = details.map((d) => `${d.resource ?? 'resource'} (${d.current ?? '?'} of ${d.quota ?? '?'} used)`).join(', ');
    return new QuotaExceededError(
      `Scaleway quota reached${list ? `: ${list}` : ''} (${where}). Delete what you no longer need (\`kiln gc\` finds leftovers of failed builds) or ask Scaleway to raise the quota.`,
      { ...base, retryable: false, details },
    );
  }
  if (status === 403) {
    const denied = objects(body.details).map((d) => `${str(d.action) ?? '?'} on ${str(d.resource) ?? '?'}`).join(', ');
    return new PermissionDeniedError(
      `The secret key is not allowed to do this${denied ? ` (${denied})` : ''} (${where}). Grant the key's IAM application instance permissions in this project.`,
      { ...base, retryable: false },
    );
  }
  if (status === 400 || status === 422) {
    const details: ArgumentDetail[] = objects(body.details).map((d) => ({
      argument_name: str(d.argument_name), reason: str(d.reason), help_message: str(d.help_message),
    }));
    const list = details
      .map((d) => `${d.argument_name ?? '?'}: ${d.reason ?? 'invalid'}${d.help_message ? ` (${d.help_message})` : ''}`)
      .join('; ');
    const said = list || apiMessage || 'no reason given';
    return new InvalidArgumentsError(
      `Scaleway rejected the request: ${said} (${where}). Fix the value named here in the template or the call.`,
      { ...base, retryable: false, details },
    );
  }
  if (status === 409 && type === 'transient_state') {
    const currentState = str(body.current_state);
    const what = `${describeResource(resource)}${resourceId ? ` ${resourceId}` : ''}`;
    return new TransientStateError(
      `The ${what} is busy${currentState ? ` (${currentState})` : ''} (${where}). Try again once it has settled.`,
      { ...base, retryable: true, currentState },
    );
  }
  if (status === 409) {
    return new ConflictError(
      `Scaleway reports a conflict: ${apiMessage ?? 'no reason given'} (${where}).`,
      { ...base, retryable: false },
    );
  }
  if (status === 429) {
    return new RateLimitedError(
      `Scaleway is rate-limiting requests (${where}${retryAfterMs !== undefined ? `, retry after ${retryAfterMs} ms` : ''}). Slow down or try again shortly.`,
      { ...base, retryable: true, retryAfterMs },
    );
  }
  if (status >= 500) {
    return new ServerError(
      `Scaleway failed on its side (${where}${apiMessage ? `: ${apiMessage}` : ''}). This is usually temporary; try again later.`,
      { ...base, retryable: true },
    );
  }
  return new ScalewayError(
    `Unexpected answer from Scaleway (${where}${apiMessage ? `: ${apiMessage}` : ''}).`,
    { ...base, retryable: false },
  );
}
