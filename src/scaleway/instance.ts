// The Scaleway Instance API (`/instance/v1/zones/<zone>`): servers, their volumes, snapshots,
// images, IPs and the zone's catalogue. Answers wrap the resource in a field named after it
// (`{"server": {…}}`); lists page with `page`/`per_page` and `X-Total-Count`.
import { ScalewayError } from './errors.js';
import type { Transport } from './transport.js';
import type {
  Bootscript,
  CreateImageRequest,
  CreateServerRequest,
  CreateSnapshotRequest,
  Image,
  ImageFilter,
  Ip,
  IpFilter,
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
import { collect, commaList, enc, parseJson, type Answer, type CallOptions } from './wire.js';

export class InstanceApi {
  readonly zone: string;
  readonly apiUrl: string;

  constructor(protected readonly transport: Transport) {
    this.zone = transport.zone;
    this.apiUrl = transport.apiUrl;
  }

  // ---- servers -------------------------------------------------------------------------------

  /** Never retried once it may have reached Scaleway: AmbiguousError (with name and tags) on timeout, reset or 5xx. */
  async createServer(body: CreateServerRequest, o?: CallOptions): Promise<Server> {
    const json = { ...body, ...this.ownerOf(body) };
    const answer = await this.transport.call(
      { method: 'POST', path: this.instancePath('/servers'), json, kind: 'create', createName: body.name, createTags: body.tags },
      o,
    );
    return this.#field<Server>(answer, 'server');
  }

  async getServer(id: string, o?: CallOptions): Promise<Server> {
    return this.#field<Server>(await this.transport.call({ method: 'GET', path: this.instancePath(`/servers/${enc(id)}`), kind: 'read' }, o), 'server');
  }

  /** `name` matches as a substring (Scaleway's rule); each of `tags` must be present exactly. */
  listServers(filter: ServerFilter = {}, o?: CallOptions): Promise<Server[]> {
    return collect(this.listServersPaged(filter, o));
  }

  listServersPaged(filter: ServerFilter = {}, o?: CallOptions): AsyncIterable<Server[]> {
    const query = { name: filter.name, tags: commaList(filter.tags), project: filter.project, servers: commaList(filter.ids) };
    return this.transport.pages<Server>(this.instancePath('/servers'), 'servers', query, o);
  }

  /** Retried like any safe call; if a retry is refused after an earlier attempt may have worked, AmbiguousError: check the server's state. */
  async serverAction(id: string, action: ServerAction, o?: CallOptions): Promise<Task> {
    const answer = await this.transport.call(
      { method: 'POST', path: this.instancePath(`/servers/${enc(id)}/action`), json: { action }, kind: 'action' },
      o,
    );
    return this.#field<Task>(answer, 'task');
  }

  /** Scaleway deletes only stopped servers (400 otherwise); `serverAction(id, 'terminate')` also removes a running one. */
  async deleteServer(id: string, o?: CallOptions): Promise<void> {
    await this.transport.call({ method: 'DELETE', path: this.instancePath(`/servers/${enc(id)}`), kind: 'delete' }, o);
  }

  async setUserData(id: string, key: string, value: string, o?: CallOptions): Promise<void> {
    await this.transport.call(
      { method: 'PATCH', path: this.instancePath(`/servers/${enc(id)}/user_data/${enc(key)}`), text: value, kind: 'read' },
      o,
    );
  }

  async updateServer(id: string, patch: { name?: string; tags?: string[] }, o?: CallOptions): Promise<Server> {
    const answer = await this.transport.call({ method: 'PATCH', path: this.instancePath(`/servers/${enc(id)}`), json: patch, kind: 'read' }, o);
    return this.#field<Server>(answer, 'server');
  }

  // ---- volumes -------------------------------------------------------------------------------

  async getVolume(id: string, o?: CallOptions): Promise<Volume> {
    return this.#field<Volume>(await this.transport.call({ method: 'GET', path: this.instancePath(`/volumes/${enc(id)}`), kind: 'read' }, o), 'volume');
  }

  listVolumes(filter: VolumeFilter = {}, o?: CallOptions): Promise<Volume[]> {
    return collect(this.listVolumesPaged(filter, o));
  }

  listVolumesPaged(filter: VolumeFilter = {}, o?: CallOptions): AsyncIterable<Volume[]> {
    return this.transport.pages<Volume>(this.instancePath('/volumes'), 'volumes', { name: filter.name, tags: commaList(filter.tags), project: filter.project }, o);
  }

  async updateVolume(id: string, patch: { name?: string; tags?: string[] }, o?: CallOptions): Promise<Volume> {
    const answer = await this.transport.call({ method: 'PATCH', path: this.instancePath(`/volumes/${enc(id)}`), json: patch, kind: 'read' }, o);
    return this.#field<Volume>(answer, 'volume');
  }

  /** Scaleway deletes only volumes not attached to a server. */
  async deleteVolume(id: string, o?: CallOptions): Promise<void> {
    await this.transport.call({ method: 'DELETE', path: this.instancePath(`/volumes/${enc(id)}`), kind: 'delete' }, o);
  }

  // ---- snapshots -----------------------------------------------------------------------------

  /** Ambiguous like createServer: reconcile by name/tags on AmbiguousError. */
  async createSnapshot(body: CreateSnapshotRequest, o?: CallOptions): Promise<Snapshot> {
    const json = { ...body, ...this.ownerOf(body) };
    const answer = await this.transport.call(
      { method: 'POST', path: this.instancePath('/snapshots'), json, kind: 'create', createName: body.name, createTags: body.tags },
      o,
    );
    return this.#field<Snapshot>(answer, 'snapshot');
  }

  async getSnapshot(id: string, o?: CallOptions): Promise<Snapshot> {
    return this.#field<Snapshot>(await this.transport.call({ method: 'GET', path: this.instancePath(`/snapshots/${enc(id)}`), kind: 'read' }, o), 'snapshot');
  }

  listSnapshots(filter: SnapshotFilter = {}, o?: CallOptions): Promise<Snapshot[]> {
    return collect(this.listSnapshotsPaged(filter, o));
  }

  listSnapshotsPaged(filter: SnapshotFilter = {}, o?: CallOptions): AsyncIterable<Snapshot[]> {
    return this.transport.pages<Snapshot>(this.instancePath('/snapshots'), 'snapshots', { name: filter.name, tags: commaList(filter.tags), project: filter.project }, o);
  }

  async deleteSnapshot(id: string, o?: CallOptions): Promise<void> {
    await this.transport.call({ method: 'DELETE', path: this.instancePath(`/snapshots/${enc(id)}`), kind: 'delete' }, o);
  }

  // ---- images --------------------------------------------------------------------------------

  /** Ambiguous like createServer: reconcile by name/tags on AmbiguousError. `public` is always false. */
  async createImage(body: CreateImageRequest, o?: CallOptions): Promise<Image> {
    const json = { ...body, public: false, ...this.ownerOf(body) };
    const answer = await this.transport.call(
      { method: 'POST', path: this.instancePath('/images'), json, kind: 'create', createName: body.name, createTags: body.tags },
      o,
    );
    return this.#field<Image>(answer, 'image');
  }

  async getImage(id: string, o?: CallOptions): Promise<Image> {
    return this.#field<Image>(await this.transport.call({ method: 'GET', path: this.instancePath(`/images/${enc(id)}`), kind: 'read' }, o), 'image');
  }

  listImages(filter: ImageFilter = {}, o?: CallOptions): Promise<Image[]> {
    return collect(this.listImagesPaged(filter, o));
  }

  listImagesPaged(filter: ImageFilter = {}, o?: CallOptions): AsyncIterable<Image[]> {
    return this.transport.pages<Image>(
      this.instancePath('/images'),
      'images',
      { name: filter.name, public: filter.public, arch: filter.arch, project: filter.project, tags: commaList(filter.tags) },
      o,
    );
  }

  async deleteImage(id: string, o?: CallOptions): Promise<void> {
    await this.transport.call({ method: 'DELETE', path: this.instancePath(`/images/${enc(id)}`), kind: 'delete' }, o);
  }

  // ---- ips -----------------------------------------------------------------------------------

  listIps(filter: IpFilter = {}, o?: CallOptions): Promise<Ip[]> {
    return collect(this.listIpsPaged(filter, o));
  }

  listIpsPaged(filter: IpFilter = {}, o?: CallOptions): AsyncIterable<Ip[]> {
    return this.transport.pages<Ip>(this.instancePath('/ips'), 'ips', { tags: commaList(filter.tags), project: filter.project }, o);
  }

  async deleteIp(id: string, o?: CallOptions): Promise<void> {
    await this.transport.call({ method: 'DELETE', path: this.instancePath(`/ips/${enc(id)}`), kind: 'delete' }, o);
  }

  // ---- catalogue -----------------------------------------------------------------------------

  /** Commercial types of this zone (`DEV1-S`, …), every page merged. */
  async listServerTypes(o?: CallOptions): Promise<Record<string, ServerType>> {
    const types: Record<string, ServerType> = {};
    for await (const page of this.transport.pages<[string, ServerType]>(this.instancePath('/products/servers'), 'servers', {}, o, entriesOf)) {
      for (const [name, type] of page) types[name] = type;
    }
    return types;
  }

  listBootscripts(o?: CallOptions): Promise<Bootscript[]> {
    return collect(this.transport.pages<Bootscript>(this.instancePath('/bootscripts'), 'bootscripts', {}, o));
  }

  // ---- for the modules of Instance API resources kiln reads elsewhere (network.ts) ------------

  /** The path of an Instance API resource in this client's zone (`/instance/v1/zones/<zone>/…`). */
  instancePath(path: string): string {
    return `/instance/v1/zones/${this.zone}${path}`;
  }

  /** The owner of a created resource as the Instance API wants it: the body's, else the client's project, else its organization. */
  ownerOf(body: { project?: string; organization?: string } = {}): { project?: string; organization?: string } {
    if (body.project || body.organization) return {};
    if (this.transport.projectId) return { project: this.transport.projectId };
    if (this.transport.organizationId) return { organization: this.transport.organizationId };
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
}

function entriesOf(value: unknown): Array<[string, ServerType]> {
  return typeof value === 'object' && value !== null ? (Object.entries(value) as Array<[string, ServerType]>) : [];
}
