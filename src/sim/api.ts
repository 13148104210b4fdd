// The Instance API and marketplace routes: request validation and wire form, as in
// reference/scaleway-api.md. Behaviour (what a request changes) lives in simulation.ts.
import {
  bootscripts,
  COMMERCIAL_TYPES,
  isWindowsType,
  marketplaceImages,
  marketplaceLocalImages,
  presentCommercialType,
  type Arch,
  type Zone,
} from './catalog.js';
import { ApiError, invalidArguments, invalidRequest, notFound, parseJsonObject, type ArgumentDetail, type Reply } from './http.js';
import { findSecurityGroup, NETWORK_ROUTES } from './network.js';
import type { RequestContext, RootVolumeRequest, Simulation } from './simulation.js';
import {
  presentImage,
  presentIp,
  presentServer,
  presentSnapshot,
  presentVolume,
  isBlockSnapshot,
  isBlockVolume,
  SERVER_ACTIONS,
  type ImageRecord,
  type IpRecord,
  type Owned,
  type ServerAction,
  type ServerRecord,
  type SnapshotRecord,
  type VolumeRecord,
} from './world.js';

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

function paginate<T>(items: T[], query: URLSearchParams): { page: T[]; total: number } {
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

// ---- lookups -------------------------------------------------------------------------------

export function findServer(sim: Simulation, request: ApiRequest, id = request.params.id!): ServerRecord {
  const server = sim.server(id);
  if (!server || server.zone !== request.zone) throw notFound('instance_server', id);
  return server;
}
function findVolume(sim: Simulation, request: ApiRequest, id = request.params.id!): VolumeRecord {
  const volume = sim.volume(id);
  // SBS volumes live in the Block API: the Instance API answers 404 for them.
  if (!volume || volume.zone !== request.zone || isBlockVolume(volume)) throw notFound('instance_volume', id);
  return volume;
}
function findSnapshot(sim: Simulation, request: ApiRequest, id = request.params.id!): SnapshotRecord {
  const snapshot = sim.snapshot(id);
  if (!snapshot || snapshot.zone !== request.zone || isBlockSnapshot(snapshot)) throw notFound('instance_snapshot', id);
  return snapshot;
}
function findImage(sim: Simulation, request: ApiRequest, id = request.params.id!): ImageRecord {
  const image = sim.image(id);
  if (!image || image.zone !== request.zone) throw notFound('instance_image', id);
  return image;
}
function findIp(sim: Simulation, request: ApiRequest, id = request.params.id!): IpRecord {
  const ip = sim.data.ips[id];
  if (!ip || ip.zone !== request.zone) throw notFound('instance_ip', id);
  return ip;
}

const VOLUME_TYPES = ['l_ssd', 'b_ssd', 'sbs_volume'] as const;
const ARCHES: readonly Arch[] = ['x86_64', 'arm', 'arm64'];

// ---- routes --------------------------------------------------------------------------------

export const ROUTES: Route[] = [
  // servers
  {
    method: 'GET',
    pattern: '/servers',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      const state = query.get('state');
      const commercialType = query.get('commercial_type');
      // `servers`: a comma-separated list of ids (Scaleway's ListServersRequest.Servers).
      const ids = query.get('servers')?.split(',').filter((id) => id !== '');
      const servers = newestFirst(Object.values(sim.data.servers)).filter(
        (s) => owned(s) && (!state || s.state === state) && (!commercialType || s.commercial_type === commercialType) && (!ids || ids.includes(s.id)),
      );
      return listReply('servers', servers, query, (s) => presentServer(s, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/servers',
    create: true,
    async handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name') ?? `srv-${Math.random().toString(36).slice(2, 10)}`;
      const commercialType = args.string('commercial_type', true);
      const imageId = args.string('image', true);
      const owner = args.owner();
      const tags = args.tags();
      const bootType = args.oneOf('boot_type', ['local', 'bootscript', 'rescue'] as const, 'local');
      const bootscriptId = args.string('bootscript');
      const dynamicIpRequired = args.boolean('dynamic_ip_required') ?? true;
      const enableIpv6 = args.boolean('enable_ipv6') ?? false;
      const publicIpId = args.string('public_ip');
      const isProtected = args.boolean('protected') ?? false;
      const securityGroupId = args.string('security_group');
      const adminPasswordKeyId = args.string('admin_password_encryption_ssh_key_id');
      args.string('placement_group');
      const type = commercialType ? COMMERCIAL_TYPES[commercialType] : undefined;
      if (commercialType && !type)
        args.problem({ argument_name: 'commercial_type', reason: 'constraint', help_message: `unknown commercial type ${commercialType}; GET /products/servers lists them` });
      const requested = volumeTemplates(args, sim, request);
      args.done();
      // Without volumes["0"] the API picks: an SBS root on types without local storage.
      const root: RootVolumeRequest = requested.root ?? { volumeType: type!.localStorage ? 'l_ssd' : 'sbs_volume', size: undefined };
      if (root.volumeType === 'l_ssd' && !type!.localStorage)
        throw invalidArguments({ argument_name: 'volumes.0.volume_type', reason: 'constraint', help_message: `${commercialType} has no local storage: l_ssd volumes are not supported. Create volumes with volume_type=sbs_volume instead.` });
      // The API resolves a label itself, to the local or the SBS variant the root volume needs.
      const image = UUID.test(imageId) ? findImage(sim, request, imageId) : sim.imageByLabel(request.zone, imageId, type!.arch, root.volumeType);
      if (!image) throw notFound('instance_image', imageId);
      if (image.state !== 'available') throw invalidRequest(`image ${image.id} is ${image.state}, not available`);
      if (securityGroupId) findSecurityGroup(sim, request, securityGroupId);
      checkWindows(sim, image, commercialType);
      const rootSnapshot = sim.snapshot(image.root_snapshot_id);
      const imageIsSbs = rootSnapshot !== undefined && isBlockSnapshot(rootSnapshot);
      if (imageIsSbs !== (root.volumeType === 'sbs_volume'))
        throw invalidArguments({
          argument_name: 'volumes.0.volume_type',
          reason: 'constraint',
          help_message: `cannot create a volume of type ${root.volumeType} from a base of type ${imageIsSbs ? 'sbs_snapshot' : 'l_ssd'}`,
        });
      const baseSize = rootSnapshot?.size ?? 0;
      if (root.size !== undefined && root.size < baseSize)
        throw invalidArguments({ argument_name: 'volumes.0.size', reason: 'constraint', help_message: `the root volume must be at least the image's ${baseSize} bytes` });
      if (root.volumeType === 'l_ssd' && root.size !== undefined && root.size > type!.volumes_constraint.max_size)
        throw invalidArguments({ argument_name: 'volumes.0.size', reason: 'constraint', help_message: `local volumes of ${commercialType} total at most ${type!.volumes_constraint.max_size} bytes` });
      if (type!.arch !== image.arch)
        throw invalidRequest(`image ${image.id} is for ${image.arch} but commercial type ${commercialType} is ${type!.arch}`);
      let bootscript: string | null = null;
      if (bootscriptId) {
        if (!sim.bootscript(request.zone, bootscriptId)) throw notFound('instance_bootscript', bootscriptId);
        bootscript = bootscriptId;
      } else if (bootType === 'bootscript') {
        bootscript = bootscripts(request.zone).find((b) => b.architecture === type!.arch && b.default)?.id ?? null;
      }
      let flexibleIp: IpRecord | null = null;
      if (publicIpId) {
        flexibleIp = findIp(sim, request, publicIpId);
        if (flexibleIp.server_id) throw invalidRequest(`ip ${flexibleIp.id} is already attached to a server`);
      }
      const server = await sim.createServer({
        zone: request.zone,
        name,
        ...owner,
        commercialType,
        image,
        bootType,
        bootscriptId: bootscript,
        tags,
        dynamicIpRequired,
        enableIpv6,
        flexibleIp,
        isProtected,
        root,
        extraVolumes: requested.extras,
        ...(securityGroupId ? { securityGroupId } : {}),
        ...(adminPasswordKeyId ? { adminPasswordEncryptionSshKeyId: adminPasswordKeyId } : {}),
      });
      return { status: 201, json: { server: presentServer(server, sim) }, headers: { Location: request.locationOf(`/servers/${server.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/servers/{id}',
    handle: (sim, request) => ({ status: 200, json: { server: presentServer(findServer(sim, request), sim) } }),
  },
  {
    method: 'PATCH',
    pattern: '/servers/{id}',
    handle(sim, request) {
      const server = findServer(sim, request);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = args.has('tags') ? args.tags() : undefined;
      const isProtected = args.boolean('protected');
      args.done();
      sim.updateServer(server, { name, tags, protected: isProtected });
      return { status: 200, json: { server: presentServer(server, sim) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/servers/{id}',
    handle(sim, request) {
      sim.deleteServer(findServer(sim, request));
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: '/servers/{id}/action',
    handle(sim, request) {
      const server = findServer(sim, request);
      return { status: 200, json: { actions: presentServer(server, sim).allowed_actions } };
    },
  },
  {
    method: 'POST',
    pattern: '/servers/{id}/action',
    async handle(sim, request) {
      const server = findServer(sim, request);
      const args = jsonBody(request.body);
      const action = args.oneOf<ServerAction>('action', SERVER_ACTIONS);
      const name = args.string('name');
      args.done();
      const task = await sim.serverAction(server, action, request.ctx, name);
      return { status: 202, json: { task } };
    },
  },
  {
    method: 'GET',
    pattern: '/servers/{id}/user_data',
    handle: (sim, request) => ({ status: 200, json: { user_data: Object.keys(findServer(sim, request).user_data) } }),
  },
  {
    method: 'GET',
    pattern: '/servers/{id}/user_data/{key}',
    handle(sim, request) {
      const server = findServer(sim, request);
      const value = server.user_data[request.params.key!];
      if (value === undefined) throw notFound('instance_user_data', request.params.key!);
      return { status: 200, text: value };
    },
  },
  {
    method: 'PATCH',
    pattern: '/servers/{id}/user_data/{key}',
    handle(sim, request) {
      sim.setUserData(findServer(sim, request), request.params.key!, request.body);
      return { status: 204 };
    },
  },
  {
    method: 'DELETE',
    pattern: '/servers/{id}/user_data/{key}',
    handle(sim, request) {
      const server = findServer(sim, request);
      if (server.user_data[request.params.key!] === undefined) throw notFound('instance_user_data', request.params.key!);
      sim.deleteUserData(server, request.params.key!);
      return { status: 204 };
    },
  },

  // volumes
  {
    method: 'GET',
    pattern: '/volumes',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      const volumeType = query.get('volume_type');
      const volumes = newestFirst(Object.values(sim.data.volumes)).filter((v) => !isBlockVolume(v) && owned(v) && (!volumeType || v.volume_type === volumeType));
      return listReply('volumes', volumes, query, (v) => presentVolume(v, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/volumes',
    create: true,
    async handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name', true);
      const owner = args.owner();
      const tags = args.tags();
      const volumeType = args.oneOf('volume_type', VOLUME_TYPES, 'l_ssd');
      const size = args.integer('size');
      const baseSnapshotId = args.string('base_snapshot');
      if (size === undefined && !baseSnapshotId)
        args.problem({ argument_name: 'size', reason: 'required', help_message: 'size (bytes) or base_snapshot is required' });
      args.done();
      const baseSnapshot = baseSnapshotId ? findSnapshot(sim, request, baseSnapshotId) : undefined;
      const volume = await sim.createVolume({ zone: request.zone, name, ...owner, tags, volumeType, size: size ?? baseSnapshot!.size, baseSnapshot });
      return { status: 201, json: { volume: presentVolume(volume, sim) }, headers: { Location: request.locationOf(`/volumes/${volume.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/volumes/{id}',
    handle: (sim, request) => ({ status: 200, json: { volume: presentVolume(findVolume(sim, request), sim) } }),
  },
  {
    method: 'PATCH',
    pattern: '/volumes/{id}',
    handle(sim, request) {
      const volume = findVolume(sim, request);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = args.has('tags') ? args.tags() : undefined;
      args.done();
      sim.updateVolume(volume, { name, tags });
      return { status: 200, json: { volume: presentVolume(volume, sim) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/volumes/{id}',
    async handle(sim, request) {
      await sim.deleteVolume(findVolume(sim, request));
      return { status: 204 };
    },
  },

  // snapshots
  {
    method: 'GET',
    pattern: '/snapshots',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      const baseVolumeId = query.get('base_volume_id');
      const snapshots = newestFirst(Object.values(sim.data.snapshots)).filter(
        (s) => !isBlockSnapshot(s) && owned(s) && (!baseVolumeId || s.base_volume?.id === baseVolumeId),
      );
      return listReply('snapshots', snapshots, query, presentSnapshot);
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
      const owner = args.owner();
      const tags = args.tags();
      args.oneOf('volume_type', ['l_ssd', 'b_ssd', 'unified'] as const, 'l_ssd');
      if (args.has('bucket') || args.has('key'))
        args.problem({ argument_name: 'bucket', reason: 'constraint', help_message: 'importing a snapshot from Object Storage is not simulated' });
      args.done();
      const volume = findVolume(sim, request, volumeId);
      const { snapshot, task } = await sim.createSnapshot({ zone: request.zone, name, volume, ...owner, tags }, request.ctx);
      return { status: 201, json: { snapshot: presentSnapshot(snapshot), task }, headers: { Location: request.locationOf(`/snapshots/${snapshot.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/snapshots/{id}',
    handle: (sim, request) => ({ status: 200, json: { snapshot: presentSnapshot(findSnapshot(sim, request)) } }),
  },
  {
    method: 'PATCH',
    pattern: '/snapshots/{id}',
    handle(sim, request) {
      const snapshot = findSnapshot(sim, request);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = args.has('tags') ? args.tags() : undefined;
      args.done();
      sim.updateSnapshot(snapshot, { name, tags });
      return { status: 200, json: { snapshot: presentSnapshot(snapshot) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/snapshots/{id}',
    async handle(sim, request) {
      await sim.deleteSnapshot(findSnapshot(sim, request));
      return { status: 204 };
    },
  },

  // images
  {
    method: 'GET',
    pattern: '/images',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      const isPublic = query.get('public');
      const arch = query.get('arch');
      const images = newestFirst(sim.allImages()).filter(
        (image) => owned(image) && (isPublic === null || String(image.public) === isPublic) && (!arch || image.arch === arch),
      );
      return listReply('images', images, query, (image) => presentImage(image, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/images',
    create: true,
    handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name', true);
      const rootVolume = args.string('root_volume', true);
      const arch = args.oneOf('arch', ARCHES);
      const owner = args.owner();
      const tags = args.tags();
      const bootscriptId = args.string('default_bootscript');
      args.boolean('public');
      const extraIds = extraVolumeIds(args);
      args.done();
      // The root may be an Instance (l_ssd) or a Block snapshot; extra volumes are Block snapshots.
      const snapshot = sim.snapshot(rootVolume);
      if (!snapshot || snapshot.zone !== request.zone) throw notFound('instance_snapshot', rootVolume);
      const extraSnapshots: Record<string, SnapshotRecord> = {};
      for (const [slot, id] of Object.entries(extraIds)) {
        const extra = sim.data.snapshots[id];
        if (!extra || extra.zone !== request.zone || !isBlockSnapshot(extra)) throw notFound('instance_snapshot', id);
        extraSnapshots[slot] = extra;
      }
      // Block snapshots must be ready (an l_ssd one may still be taken: Packer 1.6.6 does not wait).
      for (const used of [snapshot, ...Object.values(extraSnapshots)])
        if (isBlockSnapshot(used) && used.state !== 'available') throw invalidRequest(`snapshot ${used.id} is not available`);
      if (bootscriptId && !sim.bootscript(request.zone, bootscriptId)) throw notFound('instance_bootscript', bootscriptId);
      const image = sim.createImage({ zone: request.zone, name, snapshot, extraSnapshots, arch, bootscriptId: bootscriptId ?? null, ...owner, tags }, request.ctx);
      return { status: 201, json: { image: presentImage(image, sim) }, headers: { Location: request.locationOf(`/images/${image.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/images/{id}',
    handle: (sim, request) => ({ status: 200, json: { image: presentImage(findImage(sim, request), sim) } }),
  },
  {
    method: 'PATCH',
    pattern: '/images/{id}',
    handle(sim, request) {
      const image = findImage(sim, request);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = args.has('tags') ? args.tags() : undefined;
      args.done();
      sim.updateImage(image, { name, tags });
      return { status: 200, json: { image: presentImage(image, sim) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/images/{id}',
    handle(sim, request) {
      sim.deleteImage(findImage(sim, request));
      return { status: 204 };
    },
  },

  // flexible IPs
  {
    method: 'GET',
    pattern: '/ips',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      return listReply('ips', newestFirst(Object.values(sim.data.ips)).filter(owned), query, (ip) => presentIp(ip, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/ips',
    create: true,
    handle(sim, request) {
      const args = jsonBody(request.body);
      const owner = args.owner();
      const tags = args.tags();
      args.oneOf('type', ['routed_ipv4', 'nat', 'routed_ipv6'] as const, 'routed_ipv4');
      if (args.has('server')) args.problem({ argument_name: 'server', reason: 'constraint', help_message: 'attach the IP at server creation (public_ip) instead' });
      args.done();
      const ip = sim.createIp({ zone: request.zone, ...owner, tags });
      return { status: 201, json: { ip: presentIp(ip, sim) }, headers: { Location: request.locationOf(`/ips/${ip.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/ips/{id}',
    handle: (sim, request) => ({ status: 200, json: { ip: presentIp(findIp(sim, request), sim) } }),
  },
  {
    method: 'DELETE',
    pattern: '/ips/{id}',
    handle(sim, request) {
      sim.deleteIp(findIp(sim, request));
      return { status: 204 };
    },
  },

  // catalog
  {
    method: 'GET',
    pattern: '/products/servers',
    handle(_sim, { query }) {
      const { page, total } = paginate(Object.entries(COMMERCIAL_TYPES), query);
      const servers = Object.fromEntries(page.map(([name, type]) => [name, presentCommercialType(type)]));
      return { status: 200, json: { servers }, headers: { 'X-Total-Count': String(total) } };
    },
  },
  {
    method: 'GET',
    pattern: '/bootscripts',
    handle(_sim, { zone, query }) {
      const arch = query.get('arch');
      const isDefault = query.get('default');
      const title = query.get('title');
      const found = bootscripts(zone).filter(
        (b) => (!arch || b.architecture === arch) && (isDefault === null || String(b.default) === isDefault) && (!title || b.title.includes(title)),
      );
      return listReply('bootscripts', found, query, (b) => b);
    },
  },
  {
    method: 'GET',
    pattern: '/bootscripts/{id}',
    handle(sim, request) {
      const bootscript = sim.bootscript(request.zone, request.params.id!);
      if (!bootscript) throw notFound('instance_bootscript', request.params.id!);
      return { status: 200, json: { bootscript } };
    },
  },

  // marketplace (no zone in the path, no auth on real Scaleway)
  {
    method: 'GET',
    pattern: '/marketplace/v1/images',
    marketplace: true,
    handle(_sim, { query }) {
      const images = marketplaceImages();
      const { page, total } = paginate(images, query);
      return { status: 200, json: { images: page, total_count: total }, headers: { 'X-Total-Count': String(total) } };
    },
  },
  {
    method: 'GET',
    pattern: '/marketplace/v1/images/{id}',
    marketplace: true,
    handle(_sim, { params }) {
      const image = marketplaceImages().find((candidate) => candidate.id === params.id);
      if (!image) throw new ApiError(404, { type: 'not_found', message: 'resource is not found', resource: 'marketplace_image', resource_id: params.id });
      return { status: 200, json: { image } };
    },
  },
  {
    method: 'GET',
    pattern: '/marketplace/v2/local-images',
    marketplace: true,
    handle(_sim, { query }) {
      const label = query.get('image_label');
      const zone = query.get('zone');
      const imageId = query.get('image_id');
      const type = query.get('type');
      const found = marketplaceLocalImages().filter(
        (image) =>
          (!label || image.label === label) &&
          (!zone || image.zone === zone) &&
          (!imageId || image.id === imageId) &&
          (!type || type === 'unknown_type' || image.type === type),
      );
      const { page, total } = paginate(found, query);
      return { status: 200, json: { local_images: page, total_count: total }, headers: { 'X-Total-Count': String(total) } };
    },
  },

  // private NICs, security groups, VPC private networks
  ...NETWORK_ROUTES,
];

/** `-WIN` types boot Windows images only, and Windows images need a `-WIN` type (user images are not checked). */
function checkWindows(sim: Simulation, image: ImageRecord, commercialType: string): void {
  const os = sim.imageOs(image);
  if (!os) return;
  const windowsImage = os.os.id === 'windows';
  if (windowsImage && !isWindowsType(commercialType)) throw invalidRequest(`image ${image.id} (${os.label}) runs only on Windows commercial types (-WIN), not ${commercialType}`);
  if (!windowsImage && isWindowsType(commercialType)) throw invalidRequest(`commercial type ${commercialType} runs only Windows images; ${os.label} is not one`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `volumes` map of a server create: slot "0" asks for the root volume (`l_ssd` or
 * `sbs_volume`, with an optional size), further slots attach existing detached block volumes by id.
 */
function volumeTemplates(args: Args, sim: Simulation, request: ApiRequest): { root: RootVolumeRequest | undefined; extras: Record<string, VolumeRecord> } {
  const volumes = args.body.volumes;
  const extras: Record<string, VolumeRecord> = {};
  if (volumes === undefined || volumes === null) return { root: undefined, extras };
  if (typeof volumes !== 'object' || Array.isArray(volumes)) {
    args.problem({ argument_name: 'volumes', reason: 'format', help_message: 'volumes must be an object keyed by slot ("0" is the root volume)' });
    return { root: undefined, extras };
  }
  let root: RootVolumeRequest | undefined;
  for (const [slot, raw] of Object.entries(volumes as Record<string, unknown>)) {
    const at = `volumes.${slot}`;
    if (!/^\d+$/.test(slot) || raw === null || typeof raw !== 'object') {
      args.problem({ argument_name: at, reason: 'format', help_message: `${at} must be a volume template keyed by a slot number` });
      continue;
    }
    const template = raw as { id?: unknown; size?: unknown; volume_type?: unknown };
    const volumeType = typeof template.volume_type === 'string' ? template.volume_type : 'l_ssd';
    if (volumeType === 'b_ssd') {
      args.problem({ argument_name: `${at}.volume_type`, reason: 'constraint', help_message: 'b_ssd volumes are no longer supported. Create volumes with volume_type=sbs_volume instead.' });
      continue;
    }
    if (volumeType !== 'l_ssd' && volumeType !== 'sbs_volume') {
      args.problem({ argument_name: `${at}.volume_type`, reason: 'constraint', help_message: `${at}.volume_type must be one of l_ssd, sbs_volume` });
      continue;
    }
    const size = template.size;
    if (size !== undefined && size !== null && (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)) {
      args.problem({ argument_name: `${at}.size`, reason: 'format', help_message: `${at}.size must be a number of bytes` });
      continue;
    }
    if (slot === '0') {
      if (typeof template.id === 'string')
        args.problem({ argument_name: `${at}.id`, reason: 'constraint', help_message: 'the simulator creates the root volume from the image; attach existing volumes in slots 1 and up' });
      root = { volumeType, size: typeof size === 'number' ? size : undefined };
      continue;
    }
    if (typeof template.id !== 'string' || volumeType !== 'sbs_volume') {
      args.problem({ argument_name: at, reason: 'constraint', help_message: `${at} must name an existing block volume: {"id": "<volume id>", "volume_type": "sbs_volume"}` });
      continue;
    }
    const volume = sim.volume(template.id);
    if (!volume || volume.zone !== request.zone || !isBlockVolume(volume)) throw notFound('instance_volume', template.id);
    if (volume.server_id) throw invalidRequest(`volume ${volume.id} is already attached to server ${volume.server_id}`);
    extras[slot] = volume;
  }
  return { root, extras };
}

/** `extra_volumes` of an image create: `{"1": {"id": <block snapshot id>}, …}`. */
function extraVolumeIds(args: Args): Record<string, string> {
  const extra = args.body.extra_volumes;
  const ids: Record<string, string> = {};
  if (extra === undefined || extra === null) return ids;
  if (typeof extra !== 'object' || Array.isArray(extra)) {
    args.problem({ argument_name: 'extra_volumes', reason: 'format', help_message: 'extra_volumes must be an object keyed by slot: {"1": {"id": <snapshot id>}}' });
    return ids;
  }
  for (const [slot, value] of Object.entries(extra as Record<string, unknown>)) {
    const id = value && typeof value === 'object' ? (value as { id?: unknown }).id : undefined;
    if (!/^[1-9]\d*$/.test(slot) || typeof id !== 'string') {
      args.problem({ argument_name: `extra_volumes.${slot}`, reason: 'format', help_message: 'each extra volume is {"id": <block snapshot id>} under a slot from "1"' });
      continue;
    }
    ids[slot] = id;
  }
  return ids;
}
