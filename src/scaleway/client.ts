// The Scaleway Instance API client kiln uses for everything it does in the cloud.
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
import {
  AmbiguousError,
  NetworkError,
  RateLimitedError,
  ScalewayError,
  ServerError,
  errorFromResponse,
  type RequestContext,
} from './errors.js';
import { BlockApi } from './block.js';
import { pickMarketplaceImage } from './marketplace.js';
import { backoffDelay, defaultRequestRetry, parseRetryAfter, sleep, type RetryPolicy } from './retry.js';
import type {
  Arch,
  Bootscript,
  CreateImageRequest,
  CreateServerRequest,
  CreateSnapshotRequest,
  Image,
  ImageFilter,
  Ip,
  IpFilter,
  MarketplaceImage,
  Server,
  ServerAction,
  ServerFilter,
  ServerType,
  Snapshot,
  SnapshotFilter,
  Task,
  Volume,
  VolumeFilter,
} from './types.js';
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

export interface CallOptions {
  /** Cancels the call at once, during an attempt or a wait between attempts; the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Bound on the whole call, every attempt and wait included (for lists: every page). */
  deadlineMs?: number;
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

/** One request as the retry loop takes it (shared by the per-API modules). */
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

export class ScalewayClient {
  readonly zone: string;
  readonly apiUrl: string;
  readonly #secretKey: string;
  readonly #projectId?: string;
  readonly #organizationId?: string;
  readonly #userAgent: string;
  readonly #retry: RetryPolicy;
  readonly #onRequest?: (report: RequestReport) => void;
  readonly #requestTimeoutMs: number;
  readonly #pageSize: number;
  /** The Block Storage API (SBS volumes and their snapshots), through this client's retry loop. */
  readonly block: BlockApi;

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
    this.#projectId = options.projectId;
    this.#organizationId = options.organizationId;
    this.#userAgent = options.userAgent ?? `kiln/${kilnVersion()}`;
    this.#retry = options.retry ?? defaultRequestRetry;
    this.#onRequest = options.onRequest;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#pageSize = Math.min(100, Math.max(1, Math.floor(options.pageSize ?? 100)));
    this.block = new BlockApi({
      zone: this.zone,
      pageSize: this.#pageSize,
      projectId: this.#projectId ?? this.#organizationId,
      call: (spec, o) => this.#call(spec, o),
    });
  }

  // ---- servers -------------------------------------------------------------------------------

  /** Never retried once it may have reached Scaleway: AmbiguousError (with name and tags) on timeout, reset or 5xx. */
  async createServer(body: CreateServerRequest, o?: CallOptions): Promise<Server> {
    const json = { ...body, ...this.#owner(body) };
    const answer = await this.#call(
      { method: 'POST', path: this.#zonePath('/servers'), json, kind: 'create', createName: body.name, createTags: body.tags },
      o,
    );
    return this.#field<Server>(answer, 'server');
  }

  async getServer(id: string, o?: CallOptions): Promise<Server> {
    return this.#field<Server>(await this.#call({ method: 'GET', path: this.#zonePath(`/servers/${enc(id)}`), kind: 'read' }, o), 'server');
  }

  /** `name` matches as a substring (Scaleway's rule); each of `tags` must be present exactly. */
  listServers(filter: ServerFilter = {}, o?: CallOptions): Promise<Server[]> {
    return collect(this.listServersPaged(filter, o));
  }

  listServersPaged(filter: ServerFilter = {}, o?: CallOptions): AsyncIterable<Server[]> {
    const servers = filter.ids && filter.ids.length > 0 ? filter.ids.join(',') : undefined;
    return this.#pages<Server>(this.#zonePath('/servers'), 'servers', { name: filter.name, tags: tagList(filter.tags), project: filter.project, servers }, o);
  }

  /** Retried like any safe call; if a retry is refused after an earlier attempt may have worked, AmbiguousError: check the server's state. */
  async serverAction(id: string, action: ServerAction, o?: CallOptions): Promise<Task> {
    const answer = await this.#call(
      { method: 'POST', path: this.#zonePath(`/servers/${enc(id)}/action`), json: { action }, kind: 'action' },
      o,
    );
    return this.#field<Task>(answer, 'task');
  }

  /** Scaleway deletes only stopped servers (400 otherwise); `serverAction(id, 'terminate')` also removes a running one. */
  async deleteServer(id: string, o?: CallOptions): Promise<void> {
    await this.#call({ method: 'DELETE', path: this.#zonePath(`/servers/${enc(id)}`), kind: 'delete' }, o);
  }

  async setUserData(id: string, key: string, value: string, o?: CallOptions): Promise<void> {
    await this.#call(
      { method: 'PATCH', path: this.#zonePath(`/servers/${enc(id)}/user_data/${enc(key)}`), text: value, kind: 'read' },
      o,
    );
  }

  async updateServer(id: string, patch: { name?: string; tags?: string[] }, o?: CallOptions): Promise<Server> {
    const answer = await this.#call({ method: 'PATCH', path: this.#zonePath(`/servers/${enc(id)}`), json: patch, kind: 'read' }, o);
    return this.#field<Server>(answer, 'server');
  }

  // ---- volumes -------------------------------------------------------------------------------

  async getVolume(id: string, o?: CallOptions): Promise<Volume> {
    return this.#field<Volume>(await this.#call({ method: 'GET', path: this.#zonePath(`/volumes/${enc(id)}`), kind: 'read' }, o), 'volume');
  }

  listVolumes(filter: VolumeFilter = {}, o?: CallOptions): Promise<Volume[]> {
    return collect(this.listVolumesPaged(filter, o));
  }

  listVolumesPaged(filter: VolumeFilter = {}, o?: CallOptions): AsyncIterable<Volume[]> {
    return this.#pages<Volume>(this.#zonePath('/volumes'), 'volumes', { name: filter.name, tags: tagList(filter.tags), project: filter.project }, o);
  }

  async updateVolume(id: string, patch: { name?: string; tags?: string[] }, o?: CallOptions): Promise<Volume> {
    const answer = await this.#call({ method: 'PATCH', path: this.#zonePath(`/volumes/${enc(id)}`), json: patch, kind: 'read' }, o);
    return this.#field<Volume>(answer, 'volume');
  }

  /** Scaleway deletes only volumes not attached to a server. */
  async deleteVolume(id: string, o?: CallOptions): Promise<void> {
    await this.#call({ method: 'DELETE', path: this.#zonePath(`/volumes/${enc(id)}`), kind: 'delete' }, o);
  }

  // ---- snapshots -----------------------------------------------------------------------------

  /** Ambiguous like createServer: reconcile by name/tags on AmbiguousError. */
  async createSnapshot(body: CreateSnapshotRequest, o?: CallOptions): Promise<Snapshot> {
    const json = { ...body, ...this.#owner(body) };
    const answer = await this.#call(
      { method: 'POST', path: this.#zonePath('/snapshots'), json, kind: 'create', createName: body.name, createTags: body.tags },
      o,
    );
    return this.#field<Snapshot>(answer, 'snapshot');
  }

  async getSnapshot(id: string, o?: CallOptions): Promise<Snapshot> {
    return this.#field<Snapshot>(await this.#call({ method: 'GET', path: this.#zonePath(`/snapshots/${enc(id)}`), kind: 'read' }, o), 'snapshot');
  }

  listSnapshots(filter: SnapshotFilter = {}, o?: CallOptions): Promise<Snapshot[]> {
    return collect(this.listSnapshotsPaged(filter, o));
  }

  listSnapshotsPaged(filter: SnapshotFilter = {}, o?: CallOptions): AsyncIterable<Snapshot[]> {
    return this.#pages<Snapshot>(this.#zonePath('/snapshots'), 'snapshots', { name: filter.name, tags: tagList(filter.tags), project: filter.project }, o);
  }

  async deleteSnapshot(id: string, o?: CallOptions): Promise<void> {
    await this.#call({ method: 'DELETE', path: this.#zonePath(`/snapshots/${enc(id)}`), kind: 'delete' }, o);
  }

  // ---- images --------------------------------------------------------------------------------

  /** Ambiguous like createServer: reconcile by name/tags on AmbiguousError. `public` is always false. */
  async createImage(body: CreateImageRequest, o?: CallOptions): Promise<Image> {
    const json = { ...body, public: false, ...this.#owner(body) };
    const answer = await this.#call(
      { method: 'POST', path: this.#zonePath('/images'), json, kind: 'create', createName: body.name, createTags: body.tags },
      o,
    );
    return this.#field<Image>(answer, 'image');
  }

  async getImage(id: string, o?: CallOptions): Promise<Image> {
    return this.#field<Image>(await this.#call({ method: 'GET', path: this.#zonePath(`/images/${enc(id)}`), kind: 'read' }, o), 'image');
  }

  listImages(filter: ImageFilter = {}, o?: CallOptions): Promise<Image[]> {
    return collect(this.listImagesPaged(filter, o));
  }

  listImagesPaged(filter: ImageFilter = {}, o?: CallOptions): AsyncIterable<Image[]> {
    return this.#pages<Image>(
      this.#zonePath('/images'),
      'images',
      { name: filter.name, public: filter.public, arch: filter.arch, project: filter.project, tags: tagList(filter.tags) },
      o,
    );
  }

  async deleteImage(id: string, o?: CallOptions): Promise<void> {
    await this.#call({ method: 'DELETE', path: this.#zonePath(`/images/${enc(id)}`), kind: 'delete' }, o);
  }

  // ---- ips -----------------------------------------------------------------------------------

  listIps(filter: IpFilter = {}, o?: CallOptions): Promise<Ip[]> {
    return collect(this.listIpsPaged(filter, o));
  }

  listIpsPaged(filter: IpFilter = {}, o?: CallOptions): AsyncIterable<Ip[]> {
    return this.#pages<Ip>(this.#zonePath('/ips'), 'ips', { tags: tagList(filter.tags), project: filter.project }, o);
  }

  async deleteIp(id: string, o?: CallOptions): Promise<void> {
    await this.#call({ method: 'DELETE', path: this.#zonePath(`/ips/${enc(id)}`), kind: 'delete' }, o);
  }

  // ---- catalogue -----------------------------------------------------------------------------

  /** Commercial types of this zone (`DEV1-S`, …), every page merged. */
  async listServerTypes(o?: CallOptions): Promise<Record<string, ServerType>> {
    const types: Record<string, ServerType> = {};
    for await (const page of this.#pages<[string, ServerType]>(this.#zonePath('/products/servers'), 'servers', {}, o, entriesOf)) {
      for (const [name, type] of page) types[name] = type;
    }
    return types;
  }

  listBootscripts(o?: CallOptions): Promise<Bootscript[]> {
    return collect(this.#pages<Bootscript>(this.#zonePath('/bootscripts'), 'bootscripts', {}, o));
  }

  /**
   * A marketplace label (`ubuntu_jammy`, `ubuntu-jammy`) → the image UUID for this zone and
   * commercial type, and its arch. NotFoundError names the nearest labels when there is no match.
   */
  async resolveMarketplaceImage(label: string, commercialType: string, o?: CallOptions): Promise<{ id: string; arch: Arch }> {
    const catalogue = await collect(this.#pages<MarketplaceImage>('/marketplace/v1/images', 'images', {}, o));
    return pickMarketplaceImage(catalogue, label, this.zone, commercialType);
  }

  // ---- for the per-API modules (network.ts, …): the shared retry loop and error types ------

  /** The path of an Instance API resource in this client's zone (`/instance/v1/zones/<zone>/…`). */
  instancePath(path: string): string {
    return this.#zonePath(path);
  }

  /** The region of this client's zone (`fr-par-1` → `fr-par`), for regional APIs such as VPC. */
  get region(): string {
    return this.zone.replace(/-\d+$/, '');
  }

  /** One call through the shared retry loop; the parsed JSON object answered, or `{}` for 204. */
  async callApi(
    call: { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; path: string; json?: unknown; query?: Query; kind: CallKind; createName?: string; createTags?: string[] },
    o?: CallOptions,
  ): Promise<Record<string, unknown>> {
    const answer = await this.#call(call, o);
    return answer.status === 204 || answer.text === '' ? {} : parseJson(answer);
  }

  /** Every page of a list (Instance-style `page`/`per_page`, `X-Total-Count`). */
  listAll<T>(path: string, key: string, filter: Query, o?: CallOptions): Promise<T[]> {
    return collect(this.#pages<T>(path, key, filter, o));
  }

  /** The project (or organization) a created resource belongs to, as the Instance API wants it. */
  ownerOf(body: { project?: string; organization?: string } = {}): { project?: string; organization?: string } {
    return this.#owner(body);
  }

  // ---- the machinery -------------------------------------------------------------------------

  #zonePath(path: string): string {
    return `/instance/v1/zones/${this.zone}${path}`;
  }

  /** The owner of a created resource: the body's, else the client's project, else its organization. */
  #owner(body: { project?: string; organization?: string }): { project?: string; organization?: string } {
    if (body.project || body.organization) return {};
    if (this.#projectId) return { project: this.#projectId };
    if (this.#organizationId) return { organization: this.#organizationId };
    return {};
  }

  #field<T>(answer: Answer, key: string): T {
    const body = parseJson(answer);
    const value = body[key];
    if (value === undefined || value === null) {
      throw new ScalewayError(`Scaleway's answer lacks "${key}" (status ${answer.status}). The API URL may not point at the Scaleway Instance API.`, {
        status: answer.status, type: 'invalid_response', retryable: false,
      });
    }
    return value as T;
  }

  #startCall(o: CallOptions = {}): CallScope {
    const deadline = o.deadlineMs !== undefined ? AbortSignal.timeout(Math.max(0, o.deadlineMs)) : undefined;
    const signals = [o.signal, deadline].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    return { signal, caller: o.signal, deadline, deadlineMs: o.deadlineMs, startedAt: performance.now() };
  }

  #call(spec: RequestSpec, o?: CallOptions): Promise<Answer> {
    return this.#send(spec, this.#startCall(o));
  }

  async *#pages<T>(
    path: string,
    key: string,
    filter: Query,
    o: CallOptions | undefined,
    itemsOf: (value: unknown) => T[] = arrayOf as (value: unknown) => T[],
  ): AsyncGenerator<T[]> {
    const scope = this.#startCall(o);
    const perPage = this.#pageSize;
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
        if (spec.kind === 'action' && mayHaveTakenEffect && response.status >= 400 && response.status < 500 && response.status !== 429) {
          // The repeat was refused, most likely because the first attempt already changed the server's state.
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

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function tagList(tags: string[] | undefined): string | undefined {
  return tags && tags.length > 0 ? tags.join(',') : undefined;
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function entriesOf(value: unknown): Array<[string, ServerType]> {
  return typeof value === 'object' && value !== null ? (Object.entries(value) as Array<[string, ServerType]>) : [];
}

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

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...page);
  return all;
}
