// What every route of the simulated APIs shares: the request a route is handed, the route
// itself, argument checking that collects every problem before answering 400, and the Instance
// API's lists (paging, newest first, the filters every list takes).
import type { Zone } from '../catalog.js';
import { invalidArguments, parseJsonObject, type ArgumentDetail, type Reply } from '../http.js';
import type { RequestContext } from '../scheduler.js';
import type { Simulation } from '../simulation.js';
import type { Owned } from '../world.js';

/** A request as a route sees it: the zone resolved, the path's `{…}` values, the raw body. */
export interface ApiRequest {
  zone: Zone;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The raw body (JSON for most routes, text for user_data). */
  body: string;
  ctx: RequestContext;
  /** Absolute URL of a path under this zone, for Location headers. */
  locationOf(path: string): string;
}

/** One method on one path pattern of an API, and its handler. */
export interface Route {
  method: string;
  /** Relative to `/instance/v1/zones/{zone}` for Instance routes; absolute for the marketplace. */
  pattern: string;
  marketplace?: boolean;
  /** An absolute path of another API (VPC: `/vpc/v2/regions/{region}/…`) that, unlike the marketplace, needs the token. */
  absolute?: boolean;
  /** A create: a `ghost_create` fault performs it and then answers 500. */
  create?: boolean;
  handle(sim: Simulation, request: ApiRequest): Promise<Reply> | Reply;
}

// ---- argument checking ---------------------------------------------------------------------

/** Reads a JSON body field by field, collecting every problem before answering 400. */
export class Args {
  readonly problems: ArgumentDetail[] = [];
  constructor(readonly body: Record<string, unknown>) {}

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  string(name: string, required: true): string;
  string(name: string, required?: false): string | undefined;
  string(name: string, required = false): string | undefined {
    const value = this.body[name];
    if (value === undefined || value === null || (value === '' && !required)) {
      if (required) this.problems.push({ argument_name: name, reason: 'required', help_message: `${name} is required` });
      return required ? '' : undefined;
    }
    if (typeof value !== 'string' || (required && value === '')) {
      this.problems.push({ argument_name: name, reason: 'format', help_message: `${name} must be a non-empty string` });
      return required ? '' : undefined;
    }
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      this.problems.push({ argument_name: name, reason: 'format', help_message: `${name} must be true or false` });
      return undefined;
    }
    return value;
  }

  integer(name: string): number | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.problems.push({ argument_name: name, reason: 'format', help_message: `${name} must be a non-negative integer` });
      return undefined;
    }
    return value;
  }

  tags(): string[] {
    const value = this.body.tags;
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((tag) => typeof tag !== 'string')) {
      this.problems.push({ argument_name: 'tags', reason: 'format', help_message: 'tags must be an array of strings' });
      return [];
    }
    return value as string[];
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const value = fallback === undefined ? this.string(name, true) : this.string(name);
    if (value === undefined || value === '') return fallback ?? allowed[0]!;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push({ argument_name: name, reason: 'constraint', help_message: `${name} must be one of ${allowed.join(', ')}` });
      return fallback ?? allowed[0]!;
    }
    return value as T;
  }

  /** Scaleway resources belong to a project; older clients send the organization instead. */
  owner(): { project: string; organization: string } {
    const project = this.string('project');
    const organization = this.string('organization');
    if (!project && !organization)
      this.problems.push({ argument_name: 'project', reason: 'required', help_message: 'project (or organization) is required' });
    return { project: project ?? organization ?? '', organization: organization ?? project ?? '' };
  }

  problem(detail: ArgumentDetail): void {
    this.problems.push(detail);
  }

  done(): void {
    if (this.problems.length > 0) throw invalidArguments(...this.problems);
  }
}

export function jsonBody(text: string): Args {
  return new Args(parseJsonObject(text));
}

// ---- lists ---------------------------------------------------------------------------------

export function paginate<T>(items: T[], query: URLSearchParams): { page: T[]; total: number } {
  const problems: ArgumentDetail[] = [];
  const page = positiveInt(query.get('page'), 1, 'page', problems);
  const perPage = positiveInt(query.get('per_page'), 50, 'per_page', problems);
  if (perPage > 100) problems.push({ argument_name: 'per_page', reason: 'constraint', help_message: 'per_page must be between 1 and 100' });
  if (problems.length > 0) throw invalidArguments(...problems);
  return { page: items.slice((page - 1) * perPage, page * perPage), total: items.length };
}

export function positiveInt(raw: string | null, fallback: number, name: string, problems: ArgumentDetail[]): number {
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    problems.push({ argument_name: name, reason: 'format', help_message: `${name} must be an integer >= 1` });
    return fallback;
  }
  return value;
}

export function listReply<T>(key: string, items: T[], query: URLSearchParams, present: (item: T) => unknown): Reply {
  const { page, total } = paginate(items, query);
  return { status: 200, json: { [key]: page.map(present) }, headers: { 'X-Total-Count': String(total) } };
}

/** Newest first, like Scaleway's default `creation_date_desc`. */
export function newestFirst<T extends Owned>(items: Iterable<T>): T[] {
  return [...items].sort((a, b) => b.seq - a.seq);
}

/** The filters every resource list shares. */
export function ownedFilter(query: URLSearchParams, zone: Zone): (item: Owned) => boolean {
  const name = query.get('name');
  const project = query.get('project');
  const organization = query.get('organization');
  const tags = (query.get('tags') ?? '').split(',').filter((tag) => tag !== '');
  return (item) =>
    item.zone === zone &&
    (!name || item.name.includes(name)) &&
    (!project || item.project === project) &&
    (!organization || item.organization === organization) &&
    tags.every((tag) => item.tags.includes(tag));
}
