// The Block Storage API (`/block/v1/zones/{zone}` and `/block/v1alpha1/zones/{zone}`, identical
// on the wire): SBS volumes and their snapshots, as in reference/scaleway-modern-api.md §1.
// Unlike the Instance API, answers are bare objects (no `{"volume": …}` wrapper), creates answer
// 200, lists carry `total_count` in the body and page with `page_size`. Behaviour lives in
// storage.ts (src/sim); this file validates requests and presents the wire form.
import type { Zone } from '../catalog.js';
import { ApiError, invalidArguments, invalidRequest, transientState, type ArgumentDetail, type Reply } from '../http.js';
import { stableUuid } from '../random.js';
import type { Simulation } from '../simulation.js';
import { DEFAULT_IOPS } from '../storage.js';
import { imagesUsing, isBlockSnapshot, isBlockVolume, type Owned, type SnapshotRecord, type VolumeRecord, type WorldLookup } from '../world.js';
import { jsonBody, ownedFilter, positiveInt, type Route } from './route.js';

/** The SBS volume types: the IOPS they give, priced per GB and month. */
export const BLOCK_VOLUME_TYPES = [
  { type: 'sbs_5k', iops: 5000, nanos: 86_000_000 },
  { type: 'sbs_15k', iops: 15000, nanos: 110_000_000 },
] as const;

const IOPS_VALUES: readonly number[] = BLOCK_VOLUME_TYPES.map((t) => t.iops);

function typeOfIops(iops: number | undefined): string {
  return BLOCK_VOLUME_TYPES.find((t) => t.iops === (iops ?? DEFAULT_IOPS))?.type ?? 'sbs_5k';
}

/** Block 404: `{"message":"resource is not found","resource":"volume","resource_id":…,"type":"not_found"}`. */
function blockNotFound(resource: 'volume' | 'snapshot', id: string): ApiError {
  return new ApiError(404, { message: 'resource is not found', resource, resource_id: id, type: 'not_found' });
}

function volumeStatus(volume: VolumeRecord): string {
  return volume.block_transient ?? (volume.server_id ? 'in_use' : 'available');
}

export function presentBlockVolume(volume: VolumeRecord, world: WorldLookup): Record<string, unknown> {
  const server = volume.server_id ? world.server(volume.server_id) : undefined;
  return {
    id: volume.id,
    name: volume.name,
    type: typeOfIops(volume.perf_iops),
    size: volume.size,
    project_id: volume.project,
    created_at: volume.creation_date,
    updated_at: volume.modification_date,
    references: server
      ? [{ id: stableUuid('reference', volume.id, server.id), product_resource_type: 'instance_server', product_resource_id: server.id, created_at: volume.modification_date, type: 'exclusive', status: 'attached' }]
      : [],
    parent_snapshot_id: volume.parent_snapshot_id ?? null,
    status: volumeStatus(volume),
    tags: volume.tags,
    specs: { perf_iops: volume.perf_iops ?? DEFAULT_IOPS, class: 'sbs' },
    last_detached_at: volume.last_detached_at ?? null,
    kms_key_id: null,
    zone: volume.zone,
  };
}

export function presentBlockSnapshot(snapshot: SnapshotRecord, sim: Simulation): Record<string, unknown> {
  const parent = snapshot.base_volume ? sim.volume(snapshot.base_volume.id) : undefined;
  const images = imagesUsing(sim.data, snapshot.id);
  const references =
    snapshot.state === 'snapshotting'
      ? [{ id: stableUuid('reference', snapshot.id, 'internal'), product_resource_type: 'internal', product_resource_id: '00000000-0000-0000-0000-000000000000', created_at: snapshot.creation_date, type: 'unknown_type', status: 'attached' }]
      : images.map((image) => ({ id: stableUuid('reference', snapshot.id, image.id), product_resource_type: 'instance_image', product_resource_id: image.id, created_at: image.creation_date, type: 'link', status: 'attached' }));
  return {
    id: snapshot.id,
    name: snapshot.name,
    parent_volume: parent ? { id: parent.id, name: parent.name, type: typeOfIops(parent.perf_iops), status: volumeStatus(parent) } : null,
    size: snapshot.size,
    project_id: snapshot.project,
    created_at: snapshot.creation_date,
    updated_at: snapshot.modification_date,
    references,
    status: snapshot.state === 'snapshotting' ? 'creating' : snapshot.state === 'error' ? 'error' : images.length > 0 ? 'in_use' : 'available',
    tags: snapshot.tags,
    class: 'sbs',
    zone: snapshot.zone,
    public: false,
  };
}

/** Block lists: `page`/`page_size` (≤ 100), `order_by`, `total_count` in the body. */
function blockList<T extends Owned>(key: string, items: T[], query: URLSearchParams, present: (item: T) => unknown): Reply {
  const problems: ArgumentDetail[] = [];
  const page = positiveInt(query.get('page'), 1, 'page', problems);
  const pageSize = positiveInt(query.get('page_size'), 50, 'page_size', problems);
  if (pageSize > 100) problems.push({ argument_name: 'page_size', reason: 'constraint', help_message: 'page_size must be between 1 and 100' });
  const orderBy = query.get('order_by') ?? 'created_at_asc';
  const orders: Record<string, (a: T, b: T) => number> = {
    created_at_asc: (a, b) => a.seq - b.seq,
    created_at_desc: (a, b) => b.seq - a.seq,
    name_asc: (a, b) => a.name.localeCompare(b.name),
    name_desc: (a, b) => b.name.localeCompare(a.name),
  };
  const order = orders[orderBy];
  if (!order) problems.push({ argument_name: 'order_by', reason: 'constraint', help_message: `order_by must be one of ${Object.keys(orders).join(', ')}` });
  if (problems.length > 0) throw invalidArguments(...problems);
  const sorted = [...items].sort(order);
  return { status: 200, json: { [key]: sorted.slice((page - 1) * pageSize, page * pageSize).map(present), total_count: items.length } };
}

/** The Instance filters, with the Block spellings `project_id`, `organization_id` and repeated `tags`. */
function blockFilter(query: URLSearchParams, zone: Zone): (item: Owned) => boolean {
  const instanceQuery = new URLSearchParams();
  for (const [from, to] of [['name', 'name'], ['project_id', 'project'], ['organization_id', 'organization']] as const) {
    const value = query.get(from);
    if (value) instanceQuery.set(to, value);
  }
  const tags = query.getAll('tags').flatMap((t) => t.split(',')).filter((t) => t !== '');
  if (tags.length > 0) instanceQuery.set('tags', tags.join(','));
  return ownedFilter(instanceQuery, zone);
}

function findBlockVolume(sim: Simulation, zone: Zone, id: string): VolumeRecord {
  const volume = sim.volume(id);
  if (!volume || volume.zone !== zone || !isBlockVolume(volume)) throw blockNotFound('volume', id);
  return volume;
}

function findBlockSnapshot(sim: Simulation, zone: Zone, id: string): SnapshotRecord {
  const snapshot = sim.data.snapshots[id];
  if (!snapshot || snapshot.zone !== zone || !isBlockSnapshot(snapshot)) throw blockNotFound('snapshot', id);
  return snapshot;
}

/** Block bodies name the project `project_id`. */
function projectOf(args: ReturnType<typeof jsonBody>): { project: string; organization: string } {
  const project = args.string('project_id');
  if (!project) args.problem({ argument_name: 'project_id', reason: 'required', help_message: 'project_id is required' });
  return { project: project ?? '', organization: project ?? '' };
}

function iopsOf(args: ReturnType<typeof jsonBody>): number | undefined {
  const iops = args.integer('perf_iops');
  if (iops !== undefined && !IOPS_VALUES.includes(iops))
    args.problem({ argument_name: 'perf_iops', reason: 'constraint', help_message: `perf_iops must be one of ${IOPS_VALUES.join(', ')}` });
  return iops;
}

function tagsIfSent(args: ReturnType<typeof jsonBody>): string[] | undefined {
  return args.has('tags') ? args.tags() : undefined;
}

export const BLOCK_ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: '/volume-types',
    handle(_sim, { zone, query }) {
      const types = BLOCK_VOLUME_TYPES.map((t) => ({
        type: t.type,
        pricing: { currency_code: 'EUR', units: 0, nanos: t.nanos },
        snapshot_pricing: { currency_code: 'EUR', units: 0, nanos: 64_000_000 },
        specs: { perf_iops: t.iops, class: 'sbs' },
        zone,
      }));
      const page = positiveInt(query.get('page'), 1, 'page', []);
      const pageSize = Math.min(100, positiveInt(query.get('page_size'), 50, 'page_size', []));
      return { status: 200, json: { volume_types: types.slice((page - 1) * pageSize, page * pageSize), total_count: types.length } };
    },
  },
  {
    method: 'GET',
    pattern: '/volumes',
    handle(sim, { zone, query }) {
      const owned = blockFilter(query, zone);
      const type = query.get('volume_type');
      const serverId = query.get('product_resource_id');
      const volumes = Object.values(sim.data.volumes).filter(
        (v) => isBlockVolume(v) && owned(v) && (!type || typeOfIops(v.perf_iops) === type) && (!serverId || v.server_id === serverId),
      );
      return blockList('volumes', volumes, query, (v) => presentBlockVolume(v, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/volumes',
    create: true,
    async handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name') ?? `vol-${Math.random().toString(36).slice(2, 10)}`;
      const owner = projectOf(args);
      const tags = args.tags();
      const iops = iopsOf(args);
      const fromEmpty = args.body.from_empty as { size?: unknown } | undefined | null;
      const fromSnapshot = args.body.from_snapshot as { snapshot_id?: unknown; size?: unknown } | undefined | null;
      if (Boolean(fromEmpty) === Boolean(fromSnapshot))
        args.problem({ argument_name: 'from_empty', reason: 'constraint', help_message: 'exactly one of from_empty and from_snapshot is required' });
      if (fromEmpty && (typeof fromEmpty.size !== 'number' || !Number.isSafeInteger(fromEmpty.size) || fromEmpty.size <= 0))
        args.problem({ argument_name: 'from_empty.size', reason: 'required', help_message: 'from_empty.size (bytes) is required' });
      if (fromSnapshot && typeof fromSnapshot.snapshot_id !== 'string')
        args.problem({ argument_name: 'from_snapshot.snapshot_id', reason: 'required', help_message: 'from_snapshot.snapshot_id is required' });
      args.done();
      const snapshot = fromSnapshot ? findBlockSnapshot(sim, request.zone, fromSnapshot.snapshot_id as string) : undefined;
      if (snapshot && snapshot.state !== 'available') throw invalidRequest(`snapshot ${snapshot.id} is not available`);
      const size = fromEmpty ? (fromEmpty.size as number) : typeof fromSnapshot?.size === 'number' ? fromSnapshot.size : snapshot!.size;
      if (snapshot && size < snapshot.size)
        throw invalidArguments({ argument_name: 'from_snapshot.size', reason: 'constraint', help_message: `size must be at least the snapshot's ${snapshot.size} bytes` });
      const volume = await sim.storage.createBlockVolume({ zone: request.zone, name, ...owner, tags, size, iops: iops ?? DEFAULT_IOPS, fromSnapshot: snapshot }, request.ctx);
      return { status: 200, json: presentBlockVolume(volume, sim) };
    },
  },
  {
    method: 'GET',
    pattern: '/volumes/{id}',
    handle: (sim, request) => ({ status: 200, json: presentBlockVolume(findBlockVolume(sim, request.zone, request.params.id!), sim) }),
  },
  {
    method: 'PATCH',
    pattern: '/volumes/{id}',
    handle(sim, request) {
      const volume = findBlockVolume(sim, request.zone, request.params.id!);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = tagsIfSent(args);
      const size = args.integer('size');
      const iops = iopsOf(args);
      args.done();
      sim.storage.updateBlockVolume(volume, { name, tags, size, iops }, request.ctx);
      return { status: 200, json: presentBlockVolume(volume, sim) };
    },
  },
  {
    method: 'DELETE',
    pattern: '/volumes/{id}',
    async handle(sim, request) {
      await sim.storage.deleteBlockVolume(findBlockVolume(sim, request.zone, request.params.id!));
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: '/snapshots',
    handle(sim, { zone, query }) {
      const owned = blockFilter(query, zone);
      const volumeId = query.get('volume_id');
      const snapshots = Object.values(sim.data.snapshots).filter((s) => isBlockSnapshot(s) && owned(s) && (!volumeId || s.base_volume?.id === volumeId));
      return blockList('snapshots', snapshots, query, (s) => presentBlockSnapshot(s, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/snapshots',
    create: true,
    async handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name') ?? `snp-${Math.random().toString(36).slice(2, 10)}`;
      const volumeId = args.string('volume_id', true);
      const owner = projectOf(args);
      const tags = args.tags();
      args.boolean('public');
      args.done();
      const volume = findBlockVolume(sim, request.zone, volumeId);
      if (volume.block_transient) throw transientState('volume', volume.id, volume.block_transient);
      const { snapshot } = await sim.storage.createSnapshot({ zone: request.zone, name, volume, ...owner, tags }, request.ctx);
      return { status: 200, json: presentBlockSnapshot(snapshot, sim) };
    },
  },
  {
    method: 'GET',
    pattern: '/snapshots/{id}',
    handle: (sim, request) => ({ status: 200, json: presentBlockSnapshot(findBlockSnapshot(sim, request.zone, request.params.id!), sim) }),
  },
  {
    method: 'PATCH',
    pattern: '/snapshots/{id}',
    handle(sim, request) {
      const snapshot = findBlockSnapshot(sim, request.zone, request.params.id!);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = tagsIfSent(args);
      args.boolean('public');
      args.done();
      sim.storage.updateSnapshot(snapshot, { name, tags });
      return { status: 200, json: presentBlockSnapshot(snapshot, sim) };
    },
  },
  {
    method: 'DELETE',
    pattern: '/snapshots/{id}',
    async handle(sim, request) {
      await sim.storage.deleteSnapshot(findBlockSnapshot(sim, request.zone, request.params.id!));
      return { status: 204 };
    },
  },
];
