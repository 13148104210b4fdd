// The simulated cloud's behaviour: creating and deleting resources, server actions, the
// background transitions that follow them, disks, SSH endpoints, and keeping the world on disk.
// The HTTP layer (api.ts) validates requests and calls in here; everything a client can
// observe changes here, and every change is persisted before the reply leaves.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bootscripts,
  COMMERCIAL_TYPES,
  MARKETPLACE_EPOCH,
  PUBLIC_IMAGE_SIZE,
  publicImageSeeds,
  type PublicImageSeed,
  SCALEWAY_ORGANIZATION,
  type Arch,
  type Bootscript,
  type MarketplaceOs,
  type Zone,
} from './catalog.js';
import { bootCloudInit } from './cloud-init.js';
import { ApiError, invalidRequest } from './http.js';
import type { LatencyModel, Transition } from './latency.js';
import {
  ALLOWED_ACTIONS,
  authorizedKeysOf,
  isBlockSnapshot,
  isBlockVolume,
  type ImageRecord,
  type IpRecord,
  type Owned,
  type PendingTransition,
  type PrivateNicRecord,
  type ServerAction,
  type ServerRecord,
  type SnapshotRecord,
  type VolumeRecord,
  type WorldData,
  type WorldLookup,
} from './world.js';

/** The disk operations of src/sim/disk.ts (owned by the SSH side). */
export interface DiskOps {
  createBaseDisk(dir: string, os: { id: string; versionId: string; prettyName: string; arch: string }): Promise<void>;
  copyDisk(from: string, to: string): Promise<void>;
  removeDisk(dir: string): Promise<void>;
}

/** What the simulation needs of src/sim/ssh.ts's SimSshGateway. */
export interface SshGatewayLike {
  readonly port: number;
  attach(server: { id: string; address: string; authorizedKeys: string[]; diskDir: string; mounts?: { source: string; target: string }[] }): Promise<void>;
  /** Runs a command inside an attached server, in the background, until it ends or the server stops (cloud-init at boot). */
  runInServer?(serverId: string, command: string): void;
  detach(serverId: string): Promise<void>;
  close(): Promise<void>;
}

/** How a server create asks for its root volume: an l_ssd or an SBS one, of a size or the image's. */
export interface RootVolumeRequest {
  volumeType: 'l_ssd' | 'sbs_volume';
  size: number | undefined;
}

/** IOPS of a block volume created without `perf_iops` (`sbs_5k`). */
export const DEFAULT_IOPS = 5000;

/** Scaleway's answer when a resource is still used (a block snapshot an image links, an attached volume). */
export function stillInUse(resource: string, id: string, help: string): ApiError {
  return new ApiError(412, { type: 'precondition_failed', message: 'precondition is not respected', precondition: 'resource_still_in_use', help_message: help, resource, resource_id: id });
}

/** Per request: a `stuck` fault makes the transitions it starts never complete. */
export interface RequestContext {
  stuck: boolean;
  /** An `error_state` fault: the transition it starts ends in the resource's error state. */
  failing?: boolean;
}

export interface SimulationOptions {
  dataDir: string;
  /** Where the world is persisted (absent: memory only). */
  stateFile?: string;
  latency: LatencyModel;
  disks: DiskOps;
  gateway: SshGatewayLike;
  /** Called with problems that have no request to answer (e.g. an SSH attach failing). */
  log: (message: string) => void;
}

export function emptyWorld(): WorldData {
  // 127.0.x.x is left alone (127.0.0.1 is everyone's localhost); A and B random so that
  // parallel simulators do not collide.
  const a = 2 + Math.floor(Math.random() * 253);
  const b = Math.floor(Math.random() * 256);
  return { version: 1, subnet: [a, b], sequence: 0, servers: {}, volumes: {}, snapshots: {}, images: {}, ips: {}, pending: [], floors: {} };
}

export function loadWorld(stateFile: string): WorldData | undefined {
  if (!existsSync(stateFile)) return undefined;
  const data = JSON.parse(readFileSync(stateFile, 'utf8')) as WorldData;
  if (data.version !== 1) throw new Error(`${stateFile}: unknown world version ${String(data.version)}; move the state directory away to start afresh`);
  return data;
}

const now = (): string => new Date().toISOString();

export class Simulation implements WorldLookup {
  private readonly timers = new Map<PendingTransition, NodeJS.Timeout>();
  /** Per server, the latencies imposed on its floor in this run (for benchmarks: lag per wait). */
  private readonly imposed = new Map<string, { kind: string; ms: number }[]>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly publicImages = new Map<string, ImageRecord>();
  private readonly publicSnapshots = new Map<string, { record: SnapshotRecord; os: MarketplaceOs; arch: Arch }>();
  private readonly publicSeeds = publicImageSeeds();
  private readonly baseDisks = new Map<string, Promise<void>>();
  private closed = false;
  /** Transitions held back by a test (hold/release): due ones wait here until released. */
  private readonly held = new Set<Transition>();
  private readonly waiting: PendingTransition[] = [];

  constructor(
    readonly data: WorldData,
    private readonly options: SimulationOptions,
  ) {
    for (const seed of this.publicSeeds) {
      const owned = {
        organization: SCALEWAY_ORGANIZATION,
        project: SCALEWAY_ORGANIZATION,
        zone: seed.zone,
        tags: [],
        creation_date: MARKETPLACE_EPOCH,
        modification_date: MARKETPLACE_EPOCH,
        seq: 0,
      };
      this.publicSnapshots.set(seed.snapshotId, {
        record: {
          ...owned,
          id: seed.snapshotId,
          name: `${seed.os.label}_${seed.arch}${seed.type === 'instance_sbs' ? '_sbs' : ''}`,
          volume_type: seed.type === 'instance_sbs' ? 'sbs_snapshot' : 'l_ssd',
          size: PUBLIC_IMAGE_SIZE,
          state: 'available',
          base_volume: null,
          origin_server_id: null,
          public: true,
        },
        os: seed.os,
        arch: seed.arch,
      });
      this.publicImages.set(seed.imageId, {
        ...owned,
        id: seed.imageId,
        name: seed.os.name,
        arch: seed.arch,
        state: 'available',
        root_snapshot_id: seed.snapshotId,
        default_bootscript_id: null,
        from_server: '',
        public: true,
        origin_server_id: null,
      });
    }
  }

  // ---- lookups (WorldLookup) -------------------------------------------------------------

  server(id: string): ServerRecord | undefined {
    return this.data.servers[id];
  }
  volume(id: string): VolumeRecord | undefined {
    return this.data.volumes[id];
  }
  snapshot(id: string): SnapshotRecord | undefined {
    return this.data.snapshots[id] ?? this.publicSnapshots.get(id)?.record;
  }
  image(id: string): ImageRecord | undefined {
    return this.data.images[id] ?? this.publicImages.get(id);
  }
  bootscript(zone: Zone, id: string): Bootscript | undefined {
    return bootscripts(zone).find((b) => b.id === id);
  }
  privateNicsOf(serverId: string): PrivateNicRecord[] {
    return Object.values(this.data.private_nics ?? {})
      .filter((nic) => nic.server_id === serverId)
      .sort((a, b) => a.seq - b.seq);
  }
  /** The OS of a public (marketplace) image; undefined for images a user made. */
  imageOs(image: ImageRecord): MarketplaceOs | undefined {
    return this.publicSnapshots.get(image.root_snapshot_id)?.os;
  }
  securityGroupName(id: string): string | undefined {
    return this.data.security_groups?.[id]?.name;
  }
  allImages(): ImageRecord[] {
    return [...Object.values(this.data.images), ...this.publicImages.values()];
  }

  /** The public image a label names in a zone, for an arch, in its local or SBS variant (as the API picks it). */
  imageByLabel(zone: Zone, label: string, arch: Arch, rootType: RootVolumeRequest['volumeType']): ImageRecord | undefined {
    const variant: PublicImageSeed['type'] = rootType === 'sbs_volume' ? 'instance_sbs' : 'instance_local';
    const seed = this.publicSeeds.find((s) => s.zone === zone && s.os.label === label && s.arch === arch && s.type === variant);
    return seed ? this.publicImages.get(seed.imageId) : undefined;
  }

  volumeDiskDir(volumeId: string): string {
    return join(this.options.dataDir, 'disks', 'volumes', volumeId);
  }
  snapshotDiskDir(snapshotId: string): string {
    return join(this.options.dataDir, 'disks', 'snapshots', snapshotId);
  }

  floorMs(serverId: string): number {
    return this.data.floors[serverId] ?? 0;
  }

  /** The latencies imposed on a server's floor, one per transition in order (this run only). */
  floorParts(serverId: string): { kind: string; ms: number }[] {
    return this.imposed.get(serverId) ?? [];
  }

  // ---- start and stop ----------------------------------------------------------------------

  /** Resumes what a previous run left: pending transitions and SSH for running servers. */
  async resume(): Promise<void> {
    for (const server of Object.values(this.data.servers))
      if (server.state === 'running') await this.attachSsh(server);
    for (const pending of this.data.pending) this.arm(pending);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  // ---- servers -----------------------------------------------------------------------------

  async createServer(input: {
    zone: Zone;
    name: string;
    project: string;
    organization: string;
    commercialType: string;
    image: ImageRecord;
    bootType: string;
    bootscriptId: string | null;
    tags: string[];
    dynamicIpRequired: boolean;
    enableIpv6: boolean;
    flexibleIp: IpRecord | null;
    isProtected: boolean;
    root: RootVolumeRequest;
    /** Existing detached block volumes to attach, by slot ("1", …). */
    extraVolumes: Record<string, VolumeRecord>;
    securityGroupId?: string;
    adminPasswordEncryptionSshKeyId?: string;
  }): Promise<ServerRecord> {
    const serverId = randomUUID();
    const rootSnapshot = this.snapshot(input.image.root_snapshot_id);
    if (!rootSnapshot) throw invalidRequest(`image ${input.image.id} has no root snapshot`);
    const volumeId = randomUUID();
    await this.fillVolumeDisk(volumeId, rootSnapshot);
    const type = COMMERCIAL_TYPES[input.commercialType]!;
    const sbs = input.root.volumeType === 'sbs_volume';
    const volume: VolumeRecord = {
      ...this.owned({ ...input, id: volumeId, name: sbs ? `${input.image.name}_sbs_volume_0` : rootSnapshot.name, tags: [] }),
      volume_type: input.root.volumeType,
      size: input.root.size ?? (sbs ? rootSnapshot.size : type.defaultVolumeSize),
      state: 'available',
      server_id: serverId,
      origin_server_id: serverId,
      ...(sbs ? { perf_iops: DEFAULT_IOPS, block_transient: null, parent_snapshot_id: rootSnapshot.id, last_detached_at: null } : {}),
    };
    const slots: Record<string, string> = { '0': volumeId };
    // An image's extra volumes come back as new block volumes, each a copy of its snapshot.
    for (const [slot, snapshotId] of Object.entries(input.image.extra_snapshot_ids ?? {})) {
      const snapshot = this.data.snapshots[snapshotId];
      if (!snapshot) throw invalidRequest(`image ${input.image.id} refers to snapshot ${snapshotId}, which no longer exists`);
      const extra = await this.createBlockVolume({ ...input, name: `${input.image.name}_sbs_volume_${slot}`, tags: [], size: snapshot.size, iops: DEFAULT_IOPS, fromSnapshot: snapshot }, { stuck: false }, false);
      extra.server_id = serverId;
      extra.origin_server_id = serverId;
      slots[slot] = extra.id;
    }
    for (const [slot, extra] of Object.entries(input.extraVolumes)) {
      extra.server_id = serverId;
      extra.origin_server_id = serverId;
      extra.modification_date = now();
      slots[slot] = extra.id;
    }

    const server: ServerRecord = {
      ...this.owned({ ...input, id: serverId }),
      commercial_type: input.commercialType,
      arch: type.arch,
      boot_type: input.bootType,
      bootscript_id: input.bootscriptId,
      image_id: input.image.id,
      state: 'stopped',
      state_detail: '',
      volumes: slots,
      address: this.allocateAddress(),
      public_ip: null,
      flexible_ip_id: input.flexibleIp?.id ?? null,
      dynamic_ip_required: input.dynamicIpRequired,
      enable_ipv6: input.enableIpv6,
      protected: input.isProtected,
      user_data: {},
      ...(input.securityGroupId ? { security_group_id: input.securityGroupId } : {}),
      ...(input.adminPasswordEncryptionSshKeyId ? { admin_password_encryption_ssh_key_id: input.adminPasswordEncryptionSshKeyId } : {}),
    };
    if (input.flexibleIp) {
      input.flexibleIp.server_id = serverId;
      server.address = input.flexibleIp.address;
    }
    this.data.volumes[volumeId] = volume;
    this.data.servers[serverId] = server;
    this.data.floors[serverId] = 0;
    this.persist();
    return server;
  }

  updateServer(server: ServerRecord, changes: { name?: string; tags?: string[]; protected?: boolean }): void {
    if (changes.name !== undefined) server.name = changes.name;
    if (changes.tags !== undefined) server.tags = changes.tags;
    if (changes.protected !== undefined) server.protected = changes.protected;
    server.modification_date = now();
    this.persist();
  }

  /** DELETE /servers/{id}: only a stopped server; its volumes survive, detached. */
  deleteServer(server: ServerRecord): void {
    if (server.state !== 'stopped') throw invalidRequest('server should be stopped');
    if (server.protected) throw invalidRequest('server is protected');
    for (const volumeId of Object.values(server.volumes)) {
      const volume = this.data.volumes[volumeId];
      if (volume) this.detachVolume(volume);
    }
    this.forgetServer(server);
    this.persist();
  }

  /** Performs a server action; the state flips before this returns (clients rely on it). */
  async serverAction(server: ServerRecord, action: ServerAction, ctx: RequestContext, backupName?: string): Promise<Record<string, unknown>> {
    if (!ALLOWED_ACTIONS[server.state].includes(action)) throw invalidRequest(illegalActionMessage(action, server.state));
    const task = taskFor(server, action);
    switch (action) {
      case 'poweron':
        this.cancelPending(server.id);
        this.setState(server, 'starting', 'allocating node');
        server.public_ip = this.publicIpOf(server);
        this.schedule({ kind: 'server.boot', targetId: server.id }, this.options.latency.next('boot'), server.id, ctx);
        break;
      case 'poweroff':
      case 'stop_in_place':
      case 'terminate':
        this.cancelPending(server.id);
        this.setState(server, 'stopping', action === 'terminate' ? 'terminating' : 'stopping');
        if (server.flexible_ip_id === null) server.public_ip = null;
        await this.detachSsh(server.id);
        this.schedule(
          { kind: action === 'poweroff' ? 'server.stop' : action === 'terminate' ? 'server.terminate' : 'server.stop_in_place', targetId: server.id },
          this.options.latency.next('stop'),
          server.id,
          ctx,
        );
        break;
      case 'reboot': {
        this.cancelPending(server.id);
        this.setState(server, 'starting', 'rebooting');
        await this.detachSsh(server.id);
        server.public_ip = this.publicIpOf(server);
        const ms = this.options.latency.next('stop') + this.options.latency.next('boot');
        this.schedule({ kind: 'server.reboot', targetId: server.id }, ms, server.id, ctx);
        break;
      }
      case 'backup': {
        const rootVolume = this.data.volumes[server.volumes['0'] ?? ''];
        if (!rootVolume) throw invalidRequest('server has no root volume to back up');
        const { snapshot } = await this.createSnapshot({ zone: server.zone, name: `${backupName ?? server.name}-0`, volume: rootVolume, project: server.project, organization: server.organization, tags: [] }, ctx);
        const image = this.createImage({ zone: server.zone, name: backupName ?? `${server.name}-backup`, snapshot, arch: server.arch, bootscriptId: null, project: server.project, organization: server.organization, tags: [], fromServer: server.id }, ctx);
        task.href_result = `/images/${image.id}`;
        break;
      }
    }
    this.persist();
    return task;
  }

  setUserData(server: ServerRecord, key: string, value: string): void {
    server.user_data[key] = value;
    this.persist();
  }

  deleteUserData(server: ServerRecord, key: string): void {
    delete server.user_data[key];
    this.persist();
  }

  // ---- volumes -----------------------------------------------------------------------------

  async createVolume(input: { zone: Zone; name: string; project: string; organization: string; tags: string[]; volumeType: string; size: number; baseSnapshot: SnapshotRecord | undefined }): Promise<VolumeRecord> {
    const volume: VolumeRecord = {
      ...this.owned(input),
      volume_type: input.volumeType,
      size: input.size,
      state: 'available',
      server_id: null,
      origin_server_id: input.baseSnapshot?.origin_server_id ?? null,
    };
    await this.fillVolumeDisk(volume.id, input.baseSnapshot);
    this.data.volumes[volume.id] = volume;
    this.persist();
    return volume;
  }

  updateVolume(volume: VolumeRecord, changes: { name?: string; tags?: string[] }): void {
    if (changes.name !== undefined) volume.name = changes.name;
    if (changes.tags !== undefined) volume.tags = changes.tags;
    volume.modification_date = now();
    this.persist();
  }

  /** A block volume (`from_empty` or `from_snapshot`), `creating` until its latency has passed. */
  async createBlockVolume(
    input: { zone: Zone; name: string; project: string; organization: string; tags: string[]; size: number; iops: number; fromSnapshot: SnapshotRecord | undefined },
    ctx: RequestContext,
    transient = true,
  ): Promise<VolumeRecord> {
    const volume: VolumeRecord = {
      ...this.owned(input),
      volume_type: 'sbs_volume',
      size: input.size,
      state: 'available',
      server_id: null,
      origin_server_id: input.fromSnapshot?.origin_server_id ?? null,
      perf_iops: input.iops,
      block_transient: transient ? 'creating' : null,
      parent_snapshot_id: input.fromSnapshot?.id ?? null,
      last_detached_at: null,
    };
    await this.fillVolumeDisk(volume.id, input.fromSnapshot);
    this.data.volumes[volume.id] = volume;
    if (transient) this.schedule({ kind: 'volume.ready', targetId: volume.id }, this.options.latency.next('volume'), null, ctx);
    this.persist();
    return volume;
  }

  /** Block PATCH: name, tags, a larger size, or new IOPS (`updating` until its latency has passed). */
  updateBlockVolume(volume: VolumeRecord, changes: { name?: string; tags?: string[]; size?: number; iops?: number }, ctx: RequestContext): void {
    if (changes.size !== undefined && changes.size < volume.size)
      throw invalidRequest(`volume ${volume.id} can only grow: it has ${volume.size} bytes, asked for ${changes.size}`);
    if (changes.name !== undefined) volume.name = changes.name;
    if (changes.tags !== undefined) volume.tags = changes.tags;
    if (changes.size !== undefined) volume.size = changes.size;
    if (changes.iops !== undefined && changes.iops !== volume.perf_iops) {
      // The answer still shows the old type and specs; later reads show the new ones.
      volume.block_transient = 'updating';
      volume.pending_iops = changes.iops;
      this.schedule({ kind: 'volume.ready', targetId: volume.id }, this.options.latency.next('volume'), volume.origin_server_id, ctx);
    }
    volume.modification_date = now();
    this.persist();
  }

  async deleteBlockVolume(volume: VolumeRecord): Promise<void> {
    if (volume.server_id) throw stillInUse('volume', volume.id, 'the volume is attached to a server: delete the server (or detach the volume) first');
    if (volume.block_transient)
      throw new ApiError(409, { type: 'transient_state', message: 'resource is in a transient state', resource: 'volume', resource_id: volume.id, current_state: volume.block_transient });
    this.cancelPending(volume.id);
    delete this.data.volumes[volume.id];
    this.persist();
    this.discardDisk(this.volumeDiskDir(volume.id));
  }

  private detachVolume(volume: VolumeRecord): void {
    volume.server_id = null;
    volume.modification_date = now();
    if (isBlockVolume(volume)) volume.last_detached_at = volume.modification_date;
  }

  async deleteVolume(volume: VolumeRecord): Promise<void> {
    if (volume.server_id) throw invalidRequest('volume is attached to a server; delete or detach the server first');
    if (volume.state === 'snapshotting')
      throw new ApiError(409, { type: 'transient_state', message: 'resource is in a transient state', resource: 'instance_volume', resource_id: volume.id, current_state: volume.state });
    delete this.data.volumes[volume.id];
    this.persist();
    this.discardDisk(this.volumeDiskDir(volume.id));
  }

  // ---- snapshots ---------------------------------------------------------------------------

  async createSnapshot(
    input: { zone: Zone; name: string; volume: VolumeRecord; project: string; organization: string; tags: string[] },
    ctx: RequestContext,
  ): Promise<{ snapshot: SnapshotRecord; task: Record<string, unknown> }> {
    const block = isBlockVolume(input.volume);
    const snapshot: SnapshotRecord = {
      ...this.owned(input),
      volume_type: block ? 'sbs_snapshot' : input.volume.volume_type,
      size: input.volume.size,
      state: 'snapshotting',
      base_volume: { id: input.volume.id, name: input.volume.name },
      origin_server_id: input.volume.origin_server_id,
      public: false,
    };
    // The copy is taken now, so the snapshot holds the disk as it was when asked for.
    await this.options.disks.copyDisk(this.volumeDiskDir(input.volume.id), this.snapshotDiskDir(snapshot.id));
    this.data.snapshots[snapshot.id] = snapshot;
    // A block volume stays `in_use`/`available` while its snapshot is taken.
    if (!block) input.volume.state = 'snapshotting';
    this.schedule({ kind: 'snapshot', targetId: snapshot.id }, this.options.latency.next(block ? 'blockSnapshot' : 'snapshot'), snapshot.origin_server_id, ctx);
    this.persist();
    const task = {
      id: randomUUID(),
      description: 'volume_snapshot',
      status: 'pending',
      href_from: `/snapshots`,
      href_result: `/snapshots/${snapshot.id}`,
      started_at: snapshot.creation_date,
      terminated_at: null,
      progress: 0,
      zone: input.zone,
    };
    return { snapshot, task };
  }

  updateSnapshot(snapshot: SnapshotRecord, changes: { name?: string; tags?: string[] }): void {
    if (changes.name !== undefined) snapshot.name = changes.name;
    if (changes.tags !== undefined) snapshot.tags = changes.tags;
    snapshot.modification_date = now();
    this.persist();
  }

  async deleteSnapshot(snapshot: SnapshotRecord): Promise<void> {
    if (snapshot.public) throw permissionsDenied('instance_snapshot', 'delete');
    const user = this.imagesUsing(snapshot.id)[0];
    if (user && isBlockSnapshot(snapshot)) throw stillInUse('snapshot', snapshot.id, `the snapshot is used by image ${user.id}: delete the image first`);
    if (user) throw invalidRequest(`snapshot is in use by image ${user.id}; delete the image first`);
    this.cancelPendingOf('snapshot', snapshot.id);
    this.settleVolumeOf(snapshot);
    delete this.data.snapshots[snapshot.id];
    this.persist();
    this.discardDisk(this.snapshotDiskDir(snapshot.id));
  }

  /** Images whose root or extra volumes are this snapshot. */
  imagesUsing(snapshotId: string): ImageRecord[] {
    return Object.values(this.data.images).filter(
      (image) => image.root_snapshot_id === snapshotId || Object.values(image.extra_snapshot_ids ?? {}).includes(snapshotId),
    );
  }

  // ---- images ------------------------------------------------------------------------------

  createImage(
    input: {
      zone: Zone;
      name: string;
      snapshot: SnapshotRecord;
      /** Block snapshots of further volumes, by slot ("1", …). */
      extraSnapshots?: Record<string, SnapshotRecord>;
      arch: Arch;
      bootscriptId: string | null;
      project: string;
      organization: string;
      tags: string[];
      fromServer?: string;
    },
    ctx: RequestContext,
  ): ImageRecord {
    const image: ImageRecord = {
      ...this.owned(input),
      arch: input.arch,
      state: 'creating',
      root_snapshot_id: input.snapshot.id,
      ...(input.extraSnapshots && Object.keys(input.extraSnapshots).length > 0
        ? { extra_snapshot_ids: Object.fromEntries(Object.entries(input.extraSnapshots).map(([slot, snap]) => [slot, snap.id])) }
        : {}),
      default_bootscript_id: input.bootscriptId,
      from_server: input.fromServer ?? '',
      public: false,
      origin_server_id: input.snapshot.origin_server_id,
    };
    this.data.images[image.id] = image;
    this.schedule({ kind: 'image', targetId: image.id }, this.options.latency.next('image'), image.origin_server_id, ctx);
    this.persist();
    return image;
  }

  updateImage(image: ImageRecord, changes: { name?: string; tags?: string[] }): void {
    if (image.public) throw permissionsDenied('instance_image', 'update');
    if (changes.name !== undefined) image.name = changes.name;
    if (changes.tags !== undefined) image.tags = changes.tags;
    image.modification_date = now();
    this.persist();
  }

  deleteImage(image: ImageRecord): void {
    if (image.public) throw permissionsDenied('instance_image', 'delete');
    this.cancelPendingOf('image', image.id);
    delete this.data.images[image.id];
    this.persist();
  }

  // ---- flexible IPs ------------------------------------------------------------------------

  createIp(input: { zone: Zone; project: string; organization: string; tags: string[] }): IpRecord {
    const ip: IpRecord = {
      ...this.owned({ ...input, name: '' }),
      address: this.allocateAddress(),
      server_id: null,
    };
    this.data.ips[ip.id] = ip;
    this.persist();
    return ip;
  }

  deleteIp(ip: IpRecord): void {
    const server = ip.server_id ? this.data.servers[ip.server_id] : undefined;
    if (server) {
      server.flexible_ip_id = null;
      if (server.public_ip && !server.public_ip.dynamic) server.public_ip = null;
    }
    delete this.data.ips[ip.id];
    this.addressesInUse = undefined;
    this.persist();
  }

  // ---- transitions -------------------------------------------------------------------------

  /** How long the next transition of this kind takes (the latency model). */
  latencyOf(transition: Transition): number {
    return this.options.latency.next(transition);
  }

  /** Removes a private NIC and any transition it was waiting on. */
  forgetPrivateNic(nicId: string): void {
    this.cancelPending(nicId);
    delete this.data.private_nics?.[nicId];
    this.persist();
  }

  /** A background transition of another module's resource (network.ts's NICs); `complete` carries it out. */
  scheduleTransition(partial: Omit<PendingTransition, 'dueAt'>, ms: number, ctx: RequestContext): void {
    this.schedule(partial, ms, null, ctx);
  }

  /**
   * Owes a transition `ms` from now. A latency of 0 means the change has already happened when the
   * request is answered: for a snapshot, an image or a block volume the resource is put in its final
   * state now (the create answers it, as real Scaleway answers an instance snapshot or image
   * `available`) and nothing is scheduled; its 0 ms still shows in floorParts, so a bench can match
   * the client's wait to it. A private NIC's sync of 0 ms ends the same way. A server's transition
   * of 0 ms still completes in the background, at once (a boot attaches SSH and runs cloud-init).
   */
  private schedule(partial: Omit<PendingTransition, 'dueAt'>, ms: number, floorOf: string | null, ctx: RequestContext): void {
    if (ctx.stuck) return; // the fault: this transition never completes
    const dueAt = Date.now() + ms;
    if (floorOf) {
      // Transitions that overlap (snapshots of several volumes taken at once) count once: the
      // floor grows by the part of this one not already covered by an earlier one.
      const busy = (this.data.busyUntil ??= {});
      const from = Math.max(Date.now(), busy[floorOf] ?? 0);
      const added = Math.max(0, dueAt - from);
      this.data.floors[floorOf] = (this.data.floors[floorOf] ?? 0) + added;
      busy[floorOf] = Math.max(busy[floorOf] ?? 0, dueAt);
      this.imposed.set(floorOf, [...(this.imposed.get(floorOf) ?? []), { kind: partial.kind, ms: added }]);
    }
    if (ms === 0 && isWithoutIo(partial.kind) && !this.held.has(transitionOf(partial as PendingTransition))) {
      this.finish(partial, false);
      return;
    }
    const pending: PendingTransition = { ...partial, dueAt };
    this.data.pending.push(pending);
    this.arm(pending);
  }

  private arm(pending: PendingTransition): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(pending);
      if (this.held.has(transitionOf(pending))) this.waiting.push(pending);
      else this.track(this.complete(pending));
    }, Math.max(0, pending.dueAt - Date.now()));
    this.timers.set(pending, timer);
  }

  /** Holds back every transition of these kinds: one that falls due waits for release(). Lets a
   *  test observe a transient state (starting, stopping…) for as long as it needs. */
  hold(kinds: readonly Transition[]): void {
    for (const kind of kinds) this.held.add(kind);
  }

  /** Lets held transitions of these kinds complete (those already due at once). */
  release(kinds: readonly Transition[]): void {
    for (const kind of kinds) this.held.delete(kind);
    for (const pending of this.waiting.splice(0)) {
      if (this.held.has(transitionOf(pending))) this.waiting.push(pending);
      else this.track(this.complete(pending));
    }
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => this.options.log(`transition failed: ${(error as Error).message}`));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private async complete(pending: PendingTransition): Promise<void> {
    if (this.closed) return;
    const index = this.data.pending.indexOf(pending);
    if (index < 0) return; // cancelled meanwhile
    this.data.pending.splice(index, 1);
    switch (pending.kind) {
      case 'server.boot':
      case 'server.reboot': {
        const server = this.data.servers[pending.targetId];
        if (!server || server.state !== 'starting') break;
        await this.initMachineId(server);
        const runUserData = await this.bootCloudInit(server);
        await this.attachSsh(server);
        if (this.closed || this.data.servers[server.id] !== server || server.state !== 'starting') {
          await this.detachSsh(server.id);
          break;
        }
        this.setState(server, 'running', 'booting kernel');
        if (runUserData) this.options.gateway.runInServer?.(server.id, 'cloud-init modules --mode final');
        break;
      }
      case 'server.stop':
      case 'server.stop_in_place': {
        const server = this.data.servers[pending.targetId];
        if (!server || server.state !== 'stopping') break;
        this.setState(server, pending.kind === 'server.stop' ? 'stopped' : 'stopped in place', '');
        break;
      }
      case 'server.terminate': {
        const server = this.data.servers[pending.targetId];
        if (!server) break;
        const volumeIds = Object.values(server.volumes);
        this.forgetServer(server);
        for (const volumeId of volumeIds) {
          const volume = this.data.volumes[volumeId];
          if (volume?.volume_type === 'l_ssd') {
            delete this.data.volumes[volumeId];
            this.persist();
            this.discardDisk(this.volumeDiskDir(volumeId));
          } else if (volume) this.detachVolume(volume);
        }
        break;
      }
      case 'snapshot':
      case 'nic.sync':
      case 'volume.ready':
      case 'image':
        this.finish(pending);
        break;
    }
    this.persist();
  }

  /** The end of a transition without I/O (isWithoutIo): the resource takes its final state.
   *  `changed` is false when it ends in the answer that created it (one change: its creation). */
  private finish(transition: Omit<PendingTransition, 'dueAt'>, changed = true): void {
    switch (transition.kind) {
      case 'snapshot': {
        const snapshot = this.data.snapshots[transition.targetId];
        if (!snapshot) break;
        snapshot.state = 'available';
        // Recorded: a block snapshot's updated_at stays its creation time when it becomes available.
        if (changed && !isBlockSnapshot(snapshot)) snapshot.modification_date = now();
        this.settleVolumeOf(snapshot);
        break;
      }
      case 'nic.sync': {
        const nic = this.data.private_nics?.[transition.targetId];
        if (!nic || nic.state !== 'syncing') break;
        nic.state = transition.outcome === 'syncing_error' ? 'syncing_error' : 'available';
        if (changed) nic.modification_date = now();
        break;
      }
      case 'volume.ready': {
        const volume = this.data.volumes[transition.targetId];
        if (!volume) break;
        if (volume.pending_iops) volume.perf_iops = volume.pending_iops;
        volume.pending_iops = null;
        volume.block_transient = null;
        if (changed) volume.modification_date = now();
        break;
      }
      case 'image': {
        const image = this.data.images[transition.targetId];
        if (!image) break;
        image.state = 'available';
        if (changed) image.modification_date = now();
        break;
      }
      default:
        throw new Error(`finish: ${transition.kind} needs I/O; complete() carries it out`);
    }
  }

  private cancelPending(targetId: string): void {
    for (const pending of this.data.pending.filter((p) => p.targetId === targetId)) {
      clearTimeout(this.timers.get(pending));
      this.timers.delete(pending);
      this.data.pending.splice(this.data.pending.indexOf(pending), 1);
    }
  }

  private cancelPendingOf(kind: PendingTransition['kind'], targetId: string): void {
    if (this.data.pending.some((p) => p.kind === kind && p.targetId === targetId)) this.cancelPending(targetId);
  }

  /** A volume leaves `snapshotting` once none of its snapshots is still being taken. */
  private settleVolumeOf(snapshot: SnapshotRecord): void {
    const volume = snapshot.base_volume ? this.data.volumes[snapshot.base_volume.id] : undefined;
    if (!volume) return;
    const stillTaking = Object.values(this.data.snapshots).some(
      (other) => other !== snapshot && other.state === 'snapshotting' && other.base_volume?.id === volume.id,
    );
    if (!stillTaking) volume.state = 'available';
  }

  private setState(server: ServerRecord, state: ServerRecord['state'], detail: string): void {
    server.state = state;
    server.state_detail = detail;
    server.modification_date = now();
  }

  private publicIpOf(server: ServerRecord): ServerRecord['public_ip'] {
    if (server.flexible_ip_id) {
      const ip = this.data.ips[server.flexible_ip_id];
      if (ip) return { id: ip.id, address: ip.address, dynamic: false };
    }
    return { id: randomUUID(), address: server.address, dynamic: true };
  }

  private forgetServer(server: ServerRecord): void {
    this.cancelPending(server.id);
    // A server's private NICs go with it (Scaleway removes them when the server is deleted).
    for (const nic of this.privateNicsOf(server.id)) {
      this.cancelPending(nic.id);
      delete this.data.private_nics![nic.id];
    }
    if (server.flexible_ip_id && this.data.ips[server.flexible_ip_id]) this.data.ips[server.flexible_ip_id]!.server_id = null;
    delete this.data.servers[server.id];
    this.addressesInUse = undefined;
  }

  // ---- SSH and disks -----------------------------------------------------------------------

  private async attachSsh(server: ServerRecord): Promise<void> {
    const rootVolumeId = server.volumes['0'];
    try {
      await this.options.gateway.attach({
        id: server.id,
        address: server.public_ip?.address ?? server.address,
        authorizedKeys: authorizedKeysOf(server.tags),
        diskDir: rootVolumeId ? this.volumeDiskDir(rootVolumeId) : join(this.options.dataDir, 'disks', 'none'),
        // Extra volumes appear inside the server at /mnt/vol<slot> (slot 1 → /mnt/vol1).
        mounts: Object.entries(server.volumes)
          .filter(([slot]) => slot !== '0')
          .map(([slot, volumeId]) => ({ source: this.volumeDiskDir(volumeId), target: `/mnt/vol${slot}` })),
      });
    } catch (error) {
      // The server still runs (as a real one whose sshd failed would); say why SSH is missing.
      server.state_detail = `ssh unavailable: ${(error as Error).message}`;
      this.options.log(`server ${server.id}: SSH endpoint failed: ${(error as Error).message}`);
    }
  }

  /** systemd at boot: an empty or missing /etc/machine-id gets a fresh id (this server's own). */
  private async initMachineId(server: ServerRecord): Promise<void> {
    const rootVolumeId = server.volumes['0'];
    if (!rootVolumeId) return;
    const file = join(this.volumeDiskDir(rootVolumeId), 'etc', 'machine-id');
    try {
      const current = await readFile(file, 'utf8').catch(() => '');
      if (current.trim() === '') await writeFile(file, `${randomBytes(16).toString('hex')}\n`, { mode: 0o444 });
    } catch (error) {
      this.options.log(`server ${server.id}: writing /etc/machine-id failed: ${(error as Error).message}`);
    }
  }

  /** cloud-init's boot: whether the user-data stage must run (once per instance). */
  private async bootCloudInit(server: ServerRecord): Promise<boolean> {
    const rootVolumeId = server.volumes['0'];
    if (!rootVolumeId) return false;
    try {
      return await bootCloudInit(this.volumeDiskDir(rootVolumeId), server.id, server.user_data['cloud-init']);
    } catch (error) {
      this.options.log(`server ${server.id}: cloud-init could not start: ${(error as Error).message}`);
      return false;
    }
  }

  private async detachSsh(serverId: string): Promise<void> {
    try {
      await this.options.gateway.detach(serverId);
    } catch (error) {
      this.options.log(`server ${serverId}: SSH detach failed: ${(error as Error).message}`);
    }
  }

  /** A new volume's disk: a copy of its snapshot's, or empty. */
  private async fillVolumeDisk(volumeId: string, snapshot: SnapshotRecord | undefined): Promise<void> {
    if (snapshot) {
      await this.ensureSnapshotDisk(snapshot.id);
      await this.options.disks.copyDisk(this.snapshotDiskDir(snapshot.id), this.volumeDiskDir(volumeId));
    } else {
      await mkdir(this.volumeDiskDir(volumeId), { recursive: true });
    }
  }

  /** Public snapshots get their base disk on first use (most runs never touch most of them). */
  private ensureSnapshotDisk(snapshotId: string): Promise<void> {
    const base = this.publicSnapshots.get(snapshotId);
    if (!base) return Promise.resolve();
    let made = this.baseDisks.get(snapshotId);
    if (!made) {
      const dir = this.snapshotDiskDir(snapshotId);
      made = existsSync(dir)
        ? Promise.resolve()
        : (async () => {
            // Built aside and renamed, so a crash never leaves a half-made base disk in place.
            const partial = `${dir}.partial-${process.pid}`;
            await rm(partial, { recursive: true, force: true });
            await mkdir(partial, { recursive: true });
            await this.options.disks.createBaseDisk(partial, { ...base.os.os, arch: base.arch });
            await rename(partial, dir);
          })();
      made.catch(() => this.baseDisks.delete(snapshotId));
      this.baseDisks.set(snapshotId, made);
    }
    return made;
  }

  /**
   * Removes a deleted resource's disk in the background, as Scaleway answers a DELETE before the
   * storage is reclaimed: the answer does not wait on `rm -rf`. close() waits for it.
   */
  private discardDisk(dir: string): void {
    const removal = this.options.disks.removeDisk(dir).catch((error: Error) => this.options.log(`removing disk ${dir}: ${error.message}`));
    this.inFlight.add(removal);
    void removal.finally(() => this.inFlight.delete(removal));
  }

  /** The fields every created resource carries; a new id unless one was chosen ahead. */
  private owned(input: { id?: string; name: string; organization: string; project: string; zone: Zone; tags: string[] }): Owned {
    const created = now();
    return {
      id: input.id ?? randomUUID(),
      name: input.name,
      organization: input.organization,
      project: input.project,
      zone: input.zone,
      tags: input.tags,
      creation_date: created,
      modification_date: created,
      seq: ++this.data.sequence,
    };
  }

  /** Addresses held by servers and flexible IPs; built on demand, dropped when one is freed. */
  private addressesInUse: Set<string> | undefined;
  /** Where the next search for a free address starts (a hint: the search checks every address). */
  private addressCursor = 0;

  /**
   * A free address in this simulator's 127.A.0.0/16, starting at 127.A.B.2: 64,768 addresses,
   * enough for the 10,000-server gc benchmark. Sequential from a cursor, so creating n servers
   * costs O(n), not O(n²).
   */
  private allocateAddress(): string {
    const used = (this.addressesInUse ??= new Set<string>([
      ...Object.values(this.data.servers).map((s) => s.address),
      ...Object.values(this.data.ips).map((ip) => ip.address),
    ]));
    const [a, b] = this.data.subnet;
    const capacity = 256 * 253;
    for (let step = 0; step < capacity; step++) {
      const index = (this.addressCursor + step) % capacity;
      const address = `127.${a}.${(b + Math.floor(index / 253)) % 256}.${2 + (index % 253)}`;
      if (!used.has(address)) {
        used.add(address);
        this.addressCursor = index + 1;
        return address;
      }
    }
    throw new ApiError(403, { type: 'quotas_exceeded', message: 'quota exceeded', details: [{ resource: 'instance_ip', quota: capacity, current: capacity }] });
  }

  // ---- persistence -------------------------------------------------------------------------

  /** Writes the world atomically (temp file + rename): a crash leaves the old or the new world. */
  persist(): void {
    const file = this.options.stateFile;
    if (!file || this.closed) return;
    const partial = `${file}.partial`;
    writeFileSync(partial, JSON.stringify(this.data));
    renameSync(partial, file);
  }
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

export function removeDirSync(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

function taskFor(server: ServerRecord, action: ServerAction): Record<string, unknown> & { href_result: string } {
  return {
    id: randomUUID(),
    // Recorded: a poweron is a batch task (`server_batch_poweron`), the other actions `server_<action>`.
    description: action === 'poweron' ? 'server_batch_poweron' : `server_${action}`,
    status: 'pending',
    href_from: `/servers/${server.id}/action`,
    href_result: `/servers/${server.id}`,
    started_at: now(),
    terminated_at: null,
    progress: 0,
    zone: server.zone,
  };
}

function illegalActionMessage(action: ServerAction, state: ServerRecord['state']): string {
  if (action === 'poweron') return 'server should be stopped';
  if (action === 'poweroff' || action === 'terminate' || action === 'reboot') return 'server should be running';
  return `action ${action} is not allowed while the server is ${state}`;
}

function permissionsDenied(resource: string, action: string): ApiError {
  return new ApiError(403, { type: 'permissions_denied', message: 'insufficient permissions', details: [{ resource, action }] });
}


/** Transitions that only change records (finish), so a latency of 0 puts the resource in its final state in the answer. */
function isWithoutIo(kind: PendingTransition['kind']): boolean {
  return kind === 'snapshot' || kind === 'image' || kind === 'volume.ready' || kind === 'nic.sync';
}

/** The latency kind a pending transition took (a reboot's last part is a boot). */
function transitionOf(pending: PendingTransition): Transition {
  switch (pending.kind) {
    case 'server.boot':
    case 'server.reboot':
      return 'boot';
    case 'server.stop':
    case 'server.stop_in_place':
    case 'server.terminate':
      return 'stop';
    case 'nic.sync':
      return 'nic';
    case 'volume.ready':
      return 'volume';
    default:
      return pending.kind;
  }
}
