// The refusals a real account meets, as fault kinds any route can be given (faults.ts): each is
// answered in Scaleway's exact shape for that route — what it names (the commercial type that is
// out of stock, the quota, the resource and action denied, the resource locked) is read from the
// request, as the real API would name it (reference/packer-today.md, "Scaleway's error answers").
import type { Zone } from './catalog.js';
import { ApiError, deniedAuthentication, locked, outOfStock, permissionsDenied } from './http.js';
import { QUOTA_KINDS, quotaRefusal, type QuotaKind } from './quotas.js';
import type { Simulation } from './simulation.js';

/** The fault kinds that answer as a refusal of the account (not a transient failure). */
export const REFUSAL_KINDS = ['out_of_stock', 'quotas_exceeded', 'permissions_denied', 'denied_authentication', 'precondition_failed', 'locked'] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

export function isRefusalKind(kind: string): kind is RefusalKind {
  return (REFUSAL_KINDS as readonly string[]).includes(kind);
}

/** The request a refusal answers. */
export interface RefusedRequest {
  method: string;
  /** The route's pattern (`/servers/{id}/action`, `/vpc/v2/regions/{region}/private-networks`). */
  pattern: string;
  api: 'instance' | 'block' | 'other';
  zone: Zone;
  params: Record<string, string>;
  body: string;
}

/** The collection a route acts on (`/servers/{id}/action` → `servers`, `/vpc/…/private-networks/{id}` → `private-networks`). */
function collectionOf(pattern: string): string {
  return pattern.split('/').filter((s) => s !== '' && !s.startsWith('{') && s !== 'action').at(-1) ?? '';
}

/** The resource type a route acts on, as the API names it in its errors. */
function resourceOf(request: RefusedRequest): string {
  const collection = collectionOf(request.pattern);
  if (request.api === 'block') return collection.replace(/s$/, '');
  if (request.api === 'instance') return `instance_${collection.replace(/s$/, '')}`;
  return collection.replace(/-/g, '_').replace(/s$/, '');
}

/** What a method does, in IAM's words. */
function actionOf(method: string, pattern: string): string {
  if (pattern.endsWith('/action')) return 'update';
  return { GET: 'read', POST: 'create', PATCH: 'update', DELETE: 'delete' }[method] ?? 'read';
}

function jsonFields(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The quota a create on this route counts against. */
function quotaKindOf(request: RefusedRequest): QuotaKind | undefined {
  const collection = collectionOf(request.pattern);
  const kind = request.api === 'block' ? `block_${collection}` : collection;
  return (QUOTA_KINDS as readonly string[]).includes(kind) ? (kind as QuotaKind) : undefined;
}

/** Scaleway's answer of `kind` to this request. */
export function refusalFor(kind: RefusalKind, request: RefusedRequest, sim: Simulation): ApiError {
  const body = jsonFields(request.body);
  const server = request.pattern.startsWith('/servers/{id}') ? sim.server(request.params.id ?? '') : undefined;
  const owner = (typeof body.project === 'string' && body.project) || (typeof body.project_id === 'string' && body.project_id) || server?.organization || '';
  switch (kind) {
    case 'out_of_stock': {
      const type = typeof body.commercial_type === 'string' ? body.commercial_type : server?.commercial_type;
      return outOfStock(type ?? resourceOf(request));
    }
    case 'quotas_exceeded': {
      const quotaKind = quotaKindOf(request);
      const current = quotaKind ? sim.quotas.count(quotaKind, owner) : 0;
      const commercialType = typeof body.commercial_type === 'string' ? body.commercial_type : undefined;
      const detail = { ...(commercialType ? { commercialType } : {}), volumeType: 'l_ssd' };
      return quotaRefusal(quotaKind ?? (request.api === 'block' ? 'block_volumes' : 'servers'), { quota: current, current }, detail);
    }
    case 'permissions_denied':
      return permissionsDenied(resourceOf(request), actionOf(request.method, request.pattern));
    case 'denied_authentication':
      return deniedAuthentication('expired');
    case 'precondition_failed':
      return new ApiError(412, {
        type: 'precondition_failed',
        message: 'precondition is not respected',
        precondition: 'resource_still_in_use',
        help_message: 'the resource is still used by another one: remove that first',
        resource: resourceOf(request),
        resource_id: request.params.id ?? '',
      });
    case 'locked':
      // A create is refused because its project is locked; anything else, because its resource is.
      return request.params.id ? locked(resourceOf(request), request.params.id) : locked('project', owner);
  }
}
