// The Scaleway Block Storage API (SBS volumes and their snapshots) kiln uses beside the Instance
// API: `/block/v1alpha1/zones/{zone}` for volumes (as Packer's plugin), `/block/v1/zones/{zone}` for
// snapshots; the two are the same on the wire. Answers are bare objects, creates answer 200, lists
// carry `total_count` in the body and page with `page_size` (reference/scaleway-modern-api.md §1).
// Every call goes through the client's retry loop (transport.ts): creates are never blindly repeated.
import type { Transport } from './transport.js';
import type { BlockFilter, BlockSnapshot, BlockVolume, CreateBlockVolumeRequest } from './types.js';
import { collect, commaList, enc, parseJson, type Answer, type CallOptions } from './wire.js';

export class BlockApi {
  /** Default `project_id` of created resources: the client's project, else its organization (legacy accounts). */
  readonly #projectId: string | undefined;

  constructor(private readonly transport: Transport) {
    this.#projectId = transport.projectId ?? transport.organizationId;
  }

  // ---- volumes -------------------------------------------------------------------------------

  /** Never retried once it may have reached Scaleway: reconcile by name/tags on AmbiguousError. */
  async createVolume(body: CreateBlockVolumeRequest, o?: CallOptions): Promise<BlockVolume> {
    const json = { ...body, project_id: this.#projectId };
    return this.#object(await this.transport.call({ method: 'POST', path: this.#path('v1alpha1', '/volumes'), json, kind: 'create', createName: body.name, createTags: body.tags }, o));
  }

  async getVolume(id: string, o?: CallOptions): Promise<BlockVolume> {
    return this.#object(await this.transport.call({ method: 'GET', path: this.#path('v1alpha1', `/volumes/${enc(id)}`), kind: 'read' }, o));
  }

  /** PATCH name, tags, a larger size or new IOPS; safe to repeat. */
  async updateVolume(id: string, patch: { name?: string; tags?: string[]; size?: number; perf_iops?: number }, o?: CallOptions): Promise<BlockVolume> {
    return this.#object(await this.transport.call({ method: 'PATCH', path: this.#path('v1alpha1', `/volumes/${enc(id)}`), json: patch, kind: 'read' }, o));
  }

  /** Scaleway deletes only volumes no server uses (412 `resource_still_in_use` otherwise). */
  async deleteVolume(id: string, o?: CallOptions): Promise<void> {
    await this.transport.call({ method: 'DELETE', path: this.#path('v1alpha1', `/volumes/${enc(id)}`), kind: 'delete' }, o);
  }

  listVolumes(filter: BlockFilter = {}, o?: CallOptions): Promise<BlockVolume[]> {
    return collect(this.listVolumesPaged(filter, o));
  }

  listVolumesPaged(filter: BlockFilter = {}, o?: CallOptions): AsyncIterable<BlockVolume[]> {
    return this.#pages<BlockVolume>(this.#path('v1alpha1', '/volumes'), 'volumes', filter, o);
  }

  // ---- snapshots -----------------------------------------------------------------------------

  /** Ambiguous like createVolume. */
  async createSnapshot(body: { name: string; volume_id: string; tags?: string[] }, o?: CallOptions): Promise<BlockSnapshot> {
    const json = { ...body, project_id: this.#projectId, public: false };
    return this.#object(await this.transport.call({ method: 'POST', path: this.#path('v1', '/snapshots'), json, kind: 'create', createName: body.name, createTags: body.tags }, o));
  }

  async getSnapshot(id: string, o?: CallOptions): Promise<BlockSnapshot> {
    return this.#object(await this.transport.call({ method: 'GET', path: this.#path('v1', `/snapshots/${enc(id)}`), kind: 'read' }, o));
  }

  /** Scaleway refuses while an image still uses the snapshot (412): delete the image first. */
  async deleteSnapshot(id: string, o?: CallOptions): Promise<void> {
    await this.transport.call({ method: 'DELETE', path: this.#path('v1', `/snapshots/${enc(id)}`), kind: 'delete' }, o);
  }

  listSnapshots(filter: BlockFilter = {}, o?: CallOptions): Promise<BlockSnapshot[]> {
    return collect(this.listSnapshotsPaged(filter, o));
  }

  listSnapshotsPaged(filter: BlockFilter = {}, o?: CallOptions): AsyncIterable<BlockSnapshot[]> {
    return this.#pages<BlockSnapshot>(this.#path('v1', '/snapshots'), 'snapshots', filter, o);
  }

  // ---- the machinery -------------------------------------------------------------------------

  #path(version: 'v1' | 'v1alpha1', path: string): string {
    return `/block/${version}/zones/${this.transport.zone}${path}`;
  }

  #object<T>(answer: Answer): T {
    return parseJson(answer) as T;
  }

  /** Pages until `total_count` (in the body) is reached, or a short page. Tags go comma-joined. */
  async *#pages<T>(path: string, key: string, filter: BlockFilter, o: CallOptions | undefined): AsyncGenerator<T[]> {
    const pageSize = this.transport.pageSize;
    const query = { name: filter.name, project_id: filter.project_id, tags: commaList(filter.tags) };
    for (let page = 1; ; page++) {
      const body = parseJson(await this.transport.call({ method: 'GET', path, query: { ...query, page, page_size: pageSize }, kind: 'read' }, o));
      const items = Array.isArray(body[key]) ? (body[key] as T[]) : [];
      if (items.length === 0) return;
      yield items;
      const total = typeof body.total_count === 'number' ? body.total_count : undefined;
      if (total !== undefined ? page * pageSize >= total : items.length < pageSize) return;
    }
  }
}
