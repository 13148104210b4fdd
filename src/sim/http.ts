// The HTTP vocabulary of the simulated API: Scaleway's error bodies, replies with exactly
// `Content-Type: application/json` (clients reject a charset suffix), and route matching.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ArgumentDetail {
  argument_name: string;
  reason: 'required' | 'constraint' | 'format' | 'unknown';
  help_message: string;
}

/** A request Scaleway would refuse: becomes the reply as it is. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown> | undefined,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body?.message === 'string' ? body.message : `HTTP ${status}`);
  }
}

export function invalidArguments(...details: ArgumentDetail[]): ApiError {
  return new ApiError(400, { type: 'invalid_arguments', message: 'invalid argument(s)', details });
}

export function invalidRequest(message: string): ApiError {
  return new ApiError(400, { type: 'invalid_request_error', message });
}

export type ResourceKind = 'instance_server' | 'instance_volume' | 'instance_snapshot' | 'instance_image' | 'instance_ip' | 'instance_bootscript' | 'instance_user_data' | 'instance_private_nic' | 'instance_security_group' | 'private_network';

export function notFound(resource: ResourceKind, resourceId: string): ApiError {
  return new ApiError(404, { type: 'not_found', message: 'resource is not found', resource, resource_id: resourceId });
}

/** Scaleway's answer when a resource is still used (a block snapshot an image links, an attached volume). */
export function stillInUse(resource: string, id: string, help: string): ApiError {
  return new ApiError(412, { type: 'precondition_failed', message: 'precondition is not respected', precondition: 'resource_still_in_use', help_message: help, resource, resource_id: id });
}

/** Scaleway's answer to a change of a resource that is still changing (a volume being created or snapshotted). */
export function transientState(resource: string, id: string, state: string): ApiError {
  return new ApiError(409, { type: 'transient_state', message: 'resource is in a transient state', resource, resource_id: id, current_state: state });
}

/** Scaleway's answer to a change of what the caller may only read (the marketplace's images and snapshots). */
export function permissionsDenied(resource: string, action: string): ApiError {
  return new ApiError(403, { type: 'permissions_denied', message: 'insufficient permissions', details: [{ resource, action }] });
}

/** A token Scaleway does not know (`not_found`), or one it knew that has `expired`. */
export function deniedAuthentication(reason: 'not_found' | 'expired' = 'not_found'): ApiError {
  return new ApiError(401, { type: 'denied_authentication', message: 'authentication is denied', method: 'api_key', reason });
}

/** No capacity left for `resource` (a commercial type) in the zone. */
export function outOfStock(resource: string): ApiError {
  return new ApiError(412, { type: 'out_of_stock', message: 'resource is out of stock', resource });
}

/**
 * A quota of the organization is reached. The Instance API says so in its own words and names the
 * quota only; the other APIs answer the standard `quotas_exceeded` with the figures.
 */
export function quotaExceeded(api: 'instance' | 'standard', quota: { resource: string; quota: number; current: number }): ApiError {
  if (api === 'instance') return new ApiError(403, { type: 'invalid_request_error', message: 'Quota exceeded for this resource.', resource: quota.resource });
  return new ApiError(403, { type: 'quotas_exceeded', message: 'quota(s) exceeded for this resource', details: [quota] });
}

/** Scaleway holds the resource (billing, abuse): nothing may change it. */
export function locked(resource: string, resourceId: string): ApiError {
  return new ApiError(423, { type: 'locked', message: 'resource is locked', resource, resource_id: resourceId });
}

export interface Reply {
  status: number;
  /** Sent as JSON. Absent: no body (204). */
  json?: unknown;
  /** Sent as text/plain instead of JSON (user_data). */
  text?: string;
  headers?: Record<string, string>;
}

export function sendReply(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let body: string | undefined;
  if (reply.json !== undefined) {
    body = JSON.stringify(reply.json);
    headers['Content-Type'] = 'application/json';
  } else if (reply.text !== undefined) {
    body = reply.text;
    headers['Content-Type'] = 'text/plain';
  }
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(reply.status, headers);
  res.end(body);
}

export function errorReply(error: ApiError): Reply {
  return { status: error.status, json: error.body, headers: error.headers };
}

/** Largest request body accepted (user data and JSON bodies are small). */
const MAX_BODY_BYTES = 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(invalidArguments({ argument_name: 'body', reason: 'constraint', help_message: 'request body larger than 1 MiB' }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parses a JSON object body, answering like Scaleway when it is not one. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw invalidArguments({ argument_name: 'body', reason: 'format', help_message: `the body is not valid JSON: ${(error as Error).message}` });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidArguments({ argument_name: 'body', reason: 'format', help_message: 'the body must be a JSON object' });
  return value as Record<string, unknown>;
}

/** Matches `/servers/{id}/action` against `/servers/abc/action`; returns the `{…}` values. */
export function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment.startsWith('{') && segment.endsWith('}')) {
      if (got[i] === '') return undefined;
      params[segment.slice(1, -1)] = decodeURIComponent(got[i]!);
    } else if (segment !== got[i]) return undefined;
  }
  return params;
}
