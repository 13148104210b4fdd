// Scaleway's error answers → kiln's typed errors (errors.ts), each with a message that says what
// happened, which resource, quota or permission it is about, and what to do. Decided by the body's
// `type` first, as Scaleway's SDKs decide (scaleway-sdk-go scw/errors.go; reference/packer-today.md
// "Scaleway's error answers"), with the Instance API's own forms (a quota as 403
// `invalid_request_error`, a missing resource as `unknown_resource`), then by the HTTP status.
import {
  ConflictError,
  InvalidArgumentsError,
  LockedError,
  NotFoundError,
  OutOfStockError,
  PermissionDeniedError,
  PreconditionFailedError,
  QuotaExceededError,
  RateLimitedError,
  ScalewayError,
  ServerError,
  TransientStateError,
  UnauthorizedError,
  type ArgumentDetail,
  type PermissionDetail,
  type QuotaDetail,
  type RequestContext,
} from './errors.js';

const resourceNames: Record<string, string> = {
  instance_server: 'server',
  instance_volume: 'volume',
  instance_snapshot: 'snapshot',
  instance_image: 'image',
  instance_ip: 'IP',
  instance_bootscript: 'bootscript',
  instance_security_group: 'security group',
  instance_placement_group: 'placement group',
  instance_private_nic: 'private NIC',
};

function describeResource(resource: string | undefined): string {
  if (!resource) return 'resource';
  return resourceNames[resource] ?? resource.replace(/_/g, ' ');
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

/** The zone a request was about (`/…/zones/fr-par-1/…`), when its path names one. */
function zoneOf(request: RequestContext): string | undefined {
  return /\/zones\/([^/?]+)/.exec(request.path)?.[1];
}

/** Which of Scaleway's APIs a request went to, by its path. */
function apiOf(request: RequestContext): 'instance' | 'block' | 'vpc' | 'marketplace' | undefined {
  return /^\/(instance|block|vpc|marketplace)\//.exec(request.path)?.[1] as ReturnType<typeof apiOf>;
}

/** The kind of resource a request creates or changes, from its path (`/…/snapshots/{id}` → "snapshots"). */
function collectionOf(request: RequestContext): string {
  const segments = request.path.split('?')[0]!.split('/').filter((s) => s !== '' && !/^[0-9a-f-]{36}$/i.test(s) && s !== 'action');
  return (segments.at(-1) ?? 'resources').replace(/_/g, ' ');
}

/** The IAM permission set that grants what an API call needs (Scaleway's names). */
const PERMISSION_SETS = {
  instance: 'InstancesFullAccess',
  block: 'BlockStorageFullAccess',
  vpc: 'PrivateNetworksFullAccess',
  marketplace: 'InstancesFullAccess',
} as const;

const AUTH_REASONS: Record<string, string> = {
  not_found: 'the key does not exist (deleted, or mistyped)',
  expired: 'the key has expired',
  invalid_argument: 'the key is empty or malformed',
};

const PRECONDITIONS: Record<string, string> = {
  resource_still_in_use: 'the resource is still in use',
  attribute_must_be_set: 'an attribute must be set',
};

/** A commercial type as Scaleway spells them (`PRO2-XXS`, `DEV1-S`, `POP2-2C-8G-WIN`, `C1`). */
const COMMERCIAL_TYPE = /^[A-Z0-9]+(-[A-Z0-9]+)*$/;

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
  const zone = zoneOf(request);
  const inZone = zone ? ` in ${zone}` : '';

  // ---- refusals of the account: decided by type, whatever the status ----------------------
  const instanceQuota = type === 'invalid_request_error' && /quota exceeded for this resource/i.test(apiMessage ?? '');
  if (type === 'quotas_exceeded' || instanceQuota) {
    const details: QuotaDetail[] = instanceQuota
      ? [{ resource }]
      : objects(body.details).map((d) => ({ resource: str(d.resource), quota: num(d.quota), current: num(d.current) }));
    // The Instance API names the quota but not its figures.
    const list = details
      .map((d) => `${d.resource ?? 'a quota'}${d.quota !== undefined ? ` (${d.current ?? '?'} of ${d.quota} used)` : ''}`)
      .join(', ');
    const things = collectionOf(request);
    return new QuotaExceededError(
      `Scaleway quota reached: ${list || 'a quota of the organization'}${inZone} (${where}). No more ${things} can be made until it allows: ` +
        `delete ${things} you no longer need (\`kiln gc\` lists what failed builds left behind), or raise the quota in the Scaleway console ` +
        `(Organization → Quotas) or through Scaleway's support.`,
      { ...base, retryable: false, details },
    );
  }
  if (type === 'out_of_stock') {
    const what = !resource ? 'the capacity this request needs' : COMMERCIAL_TYPE.test(resource) ? `commercial type ${resource}` : resource;
    return new OutOfStockError(
      `Scaleway is out of stock of ${what}${inZone} (${where}). This lasts longer than a build waits: set another commercial_type ` +
        `(or another zone) in the template, or try again later.`,
      { ...base, retryable: false },
    );
  }
  if (type === 'permissions_denied') {
    const details: PermissionDetail[] = objects(body.details).map((d) => ({ resource: str(d.resource), action: str(d.action) }));
    const denied = details.map((d) => `${d.action ?? '?'} ${d.resource ?? '?'}`).join(', ');
    const set = PERMISSION_SETS[apiOf(request) ?? 'instance'];
    return new PermissionDeniedError(
      `The secret key is not allowed to ${denied || 'do this'} (${where}): its IAM application or user lacks the permission. ` +
        `Add ${set} to one of its IAM policies for this project (Scaleway console → IAM → Policies), or use a key that has it.`,
      { ...base, retryable: false, details },
    );
  }
  if (type === 'denied_authentication' || status === 401) {
    const reason = str(body.reason);
    const why = (reason && AUTH_REASONS[reason]) ?? 'Scaleway did not accept it';
    return new UnauthorizedError(
      `Scaleway refused the secret key: ${why} (${where}). Check SCW_SECRET_KEY or the template's secret_key` +
        `${reason === 'expired' ? ', and create a new key in the Scaleway console (IAM → API keys)' : ', and that the key is still valid'}.`,
      { ...base, retryable: false, ...(reason ? { reason } : {}) },
    );
  }
  if (type === 'locked') {
    const what = `${describeResource(resource)}${resourceId ? ` ${resourceId}` : ''}`;
    return new LockedError(
      `Scaleway has locked the ${what} (${where}): nothing can change it until Scaleway unlocks it. ` +
        `Its page in the Scaleway console says why (often billing or an abuse report); Scaleway's support can lift it.`,
      { ...base, retryable: false },
    );
  }

  // ---- the rest, by type, then by status ------------------------------------------------------
  if (type === 'not_found' || type === 'unknown_resource' || status === 404) {
    const what = `${describeResource(resource)}${resourceId ? ` ${resourceId}` : ''}`;
    return new NotFoundError(
      `Scaleway has no ${what} (${where}). It was deleted or never existed; check the id and the zone.`,
      { ...base, retryable: false },
    );
  }
  if (type === 'precondition_failed') {
    const precondition = str(body.precondition);
    const said = (precondition && PRECONDITIONS[precondition]) ?? apiMessage ?? 'a precondition does not hold';
    const help = str(body.help_message);
    // Still in use: waiting does not free it (nothing kiln does will); the user removes what uses it.
    const what = resource ? `the ${describeResource(resource)}${resourceId ? ` ${resourceId}` : ''}` : 'it';
    const todo =
      precondition === 'resource_still_in_use'
        ? ` Something still uses ${what} (a volume attached to a server, a snapshot an image is made from): detach or delete what uses it, then build again (or \`kiln resume\` a kept build).`
        : '';
    return new PreconditionFailedError(
      `Scaleway refused the call: ${said}${help ? ` (${help})` : ''} (${where}).${todo}`,
      { ...base, retryable: false, ...(precondition ? { precondition } : {}) },
    );
  }
  if (type === 'transient_state') {
    const currentState = str(body.current_state);
    const what = `${describeResource(resource)}${resourceId ? ` ${resourceId}` : ''}`;
    return new TransientStateError(
      `The ${what} is busy${currentState ? ` (${currentState})` : ''} (${where}). Try again once it has settled.`,
      { ...base, retryable: true, currentState },
    );
  }
  if (type === 'invalid_arguments' || type === 'invalid_request_error' || status === 400 || status === 422) {
    // The Instance API lists its argument problems as `fields: {name: [messages]}`.
    const fields = typeof body.fields === 'object' && body.fields !== null ? Object.entries(body.fields as Record<string, unknown>) : [];
    const details: ArgumentDetail[] = [
      ...objects(body.details).map((d) => ({ argument_name: str(d.argument_name), reason: str(d.reason), help_message: str(d.help_message) })),
      ...fields.flatMap(([name, messages]) =>
        (Array.isArray(messages) ? messages : [messages]).map((m) => ({ argument_name: name, reason: 'constraint', help_message: str(m) })),
      ),
    ];
    const list = details
      .map((d) => `${d.argument_name ?? '?'}: ${d.reason ?? 'invalid'}${d.help_message ? ` (${d.help_message})` : ''}`)
      .join('; ');
    const said = list || apiMessage || 'no reason given';
    return new InvalidArgumentsError(
      `Scaleway rejected the request: ${said} (${where}). Fix the value named here in the template or the call.`,
      { ...base, retryable: false, details },
    );
  }
  if (status === 403) {
    return new PermissionDeniedError(
      `Scaleway refused the call (${where}${apiMessage ? `: ${apiMessage}` : ''}). The secret key may lack a permission for this project.`,
      { ...base, retryable: false },
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
  if (status === 412) {
    // The Instance API's own 412s ("server should be stopped") carry no `precondition`.
    return new PreconditionFailedError(`Scaleway refused the call: ${apiMessage ?? 'a precondition does not hold'} (${where}).`, { ...base, retryable: false });
  }
  return new ScalewayError(
    `Unexpected answer from Scaleway (${where}${apiMessage ? `: ${apiMessage}` : ''}).`,
    { ...base, retryable: false },
  );
}
