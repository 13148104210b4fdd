// The simulated cloud's resources as the simulator stores them, the server state/action table,
// and their wire form (the JSON Scaleway's Instance API answers). Stored records keep ids
// instead of nested objects; the presenters resolve them, so one change shows everywhere.
import { randomUUID } from 'node:crypto';
import type { Arch, Bootscript, Zone } from './catalog.js';
import { stableUuid } from './random.js';

export const SERVER_STATES = ['stopped', 'starting', 'running', 'stopping', 'stopped in place', 'locked'] as const;
export type ServerState = (typeof SERVER_STATES)[number];

export const SERVER_ACTIONS = ['poweron', 'poweroff', 'stop_in_place', 'reboot', 'terminate', 'backup'] as const;
export type ServerAction = (typeof SERVER_ACTIONS)[number];

/** Which actions Scaleway allows in each state (reference: "Server states and actions"). */
export const ALLOWED_ACTIONS: Record<ServerState, readonly ServerAction[]> = {
  stopped: ['poweron', 'backup'],
  starting: ['stop_in_place', 'backup'],
  running: ['poweroff', 'terminate', 'reboot', 'stop_in_place', 'backup'],
  stopping: ['stop_in_place', 'backup'],
  'stopped in place': ['poweron', 'poweroff', 'terminate', 'reboot', 'backup'],
  locked: [],
};

export interface Owned {
  id: string;
  name: string;
  organization: string;
  project: string;
  zone: Zone;
  tags: string[];
  creation_date: string;
  modification_date: string;
  /** Creation order, for stable newest-first listing. */
  seq: number;
}

export interface ServerRecord extends Owned {
  commercial_type: string;
  arch: Arch;
  boot_type: string;
  bootscript_id: string | null;
  image_id: string | null;
  state: ServerState;
  state_detail: string;
  /** Volume ids by slot ("0" is the root volume). */
  volumes: Record<string, string>;
  /** The loopback address this server answers SSH on while it has a public IP. */
  address: string;
  public_ip: { id: string; address: string; dynamic: boolean } | null;
  /** A flexible IP attached at creation, used instead of a dynamic one. */
  flexible_ip_id: string | null;
  dynamic_ip_required: boolean;
  enable_ipv6: boolean;
  protected: boolean;
  user_data: Record<string, string>;
  /** The security group given at creation, or the project's default one (absent in older state files: the default). */
  security_group_id?: string;
  admin_password_encryption_ssh_key_id?: string | null;
}

export interface VolumeRecord extends Owned {
  /** `l_ssd` (Instance API) or `sbs_volume` (a Block API volume). */
  volume_type: string;
  size: number;
  state: 'available' | 'snapshotting' | 'error';
  server_id: string | null;
  /** The server this volume was made for, whose floor its snapshots add to. */
  origin_server_id: string | null;
  /** Block volumes only: IOPS (5000 = sbs_5k, 15000 = sbs_15k), the transient status while a
   * create or an IOPS change completes, the snapshot it was made from, when it was last detached. */
  perf_iops?: number;
  block_transient?: 'creating' | 'updating' | null;
  pending_iops?: number | null;
  parent_snapshot_id?: string | null;
  last_detached_at?: string | null;
}

/** A Block API volume (`sbs_volume`), as opposed to an Instance API local volume. */
export function isBlockVolume(volume: VolumeRecord): boolean {
  return volume.volume_type === 'sbs_volume';
}

/** A Block API snapshot (of an `sbs_volume`). */
export function isBlockSnapshot(snapshot: SnapshotRecord): boolean {
  return snapshot.volume_type === 'sbs_snapshot';
}

export interface SnapshotRecord extends Owned {
  /** `l_ssd` (Instance API) or `sbs_snapshot` (Block API). */
  volume_type: string;
  size: number;
  state: 'snapshotting' | 'available' | 'error';
  base_volume: { id: string; name: string } | null;
  origin_server_id: string | null;
  public: boolean;
}

export interface ImageRecord extends Owned {
  arch: Arch;
  state: 'creating' | 'available' | 'error';
  root_snapshot_id: string;
  /** Further volumes by slot ("1", "2", …): block snapshot ids (Scaleway's `extra_volumes`). */
  extra_snapshot_ids?: Record<string, string>;
  default_bootscript_id: string | null;
  from_server: string;
  public: boolean;
  origin_server_id: string | null;
}

export interface IpRecord extends Owned {
  address: string;
  server_id: string | null;
}

export interface PrivateNicRecord {
  id: string;
  server_id: string;
  private_network_id: string;
  mac_address: string;
  state: 'syncing' | 'available' | 'syncing_error';
  tags: string[];
  zone: Zone;
  creation_date: string;
  modification_date: string;
  seq: number;
}

export interface SecurityGroupRecord extends Owned {
  description: string;
  /** The project's default group in its zone (security-groups.ts). */
  project_default?: boolean;
}

/** A VPC private network: regional, and owned by `project_id`/`organization_id` (VPC's field names). */
export interface PrivateNetworkRecord {
  id: string;
  name: string;
  project_id: string;
  organization_id: string;
  region: string;
  vpc_id: string;
  tags: string[];
  subnet: string;
  created_at: string;
  updated_at: string;
  seq: number;
}

/** A background state change the simulator owes; kept in the world so a restart resumes it. */
export interface PendingTransition {
  kind: 'server.boot' | 'server.stop' | 'server.stop_in_place' | 'server.terminate' | 'server.reboot' | 'snapshot' | 'image' | 'nic.sync' | 'volume.ready';
  /** The state the transition ends in, when it can end in more than one (a NIC: `syncing_error` after an `error_state` fault). */
  outcome?: string;
  targetId: string;
  /** Epoch ms at which it completes. */
  dueAt: number;
}

export interface WorldData {
  version: 1;
  /** This simulator's loopback range: addresses 127.A.*.* handed out from 127.A.B.2 on. */
  subnet: [number, number];
  sequence: number;
  servers: Record<string, ServerRecord>;
  volumes: Record<string, VolumeRecord>;
  snapshots: Record<string, SnapshotRecord>;
  images: Record<string, ImageRecord>;
  ips: Record<string, IpRecord>;
  pending: PendingTransition[];
  /** Private NICs, security groups and VPC private networks (routes/instance/network.ts, routes/vpc.ts); absent in older state files. */
  private_nics?: Record<string, PrivateNicRecord>;
  security_groups?: Record<string, SecurityGroupRecord>;
  private_networks?: Record<string, PrivateNetworkRecord>;
  /** Per server id: ms of latency imposed on it and on the snapshot/image made from it. */
  floors: Record<string, number>;
  /** Per server id: when its latest pending transition completes (overlapping ones count once in its floor). */
  busyUntil?: Record<string, number>;
}

/** What the presenters need to resolve references. */
export interface WorldLookup {
  volume(id: string): VolumeRecord | undefined;
  snapshot(id: string): SnapshotRecord | undefined;
  image(id: string): ImageRecord | undefined;
  server(id: string): ServerRecord | undefined;
  bootscript(zone: Zone, id: string): Bootscript | undefined;
  /** The private NICs of a server, oldest first. */
  privateNicsOf(serverId: string): PrivateNicRecord[];
  securityGroupName(id: string): string | undefined;
}

let lastStamp = 0;

/**
 * A time as the API writes it (ISO 8601, UTC), later than every earlier one: Scaleway stamps in
 * microseconds, so two changes of one resource never share a stamp there; at the simulator's
 * millisecond precision they could, within one millisecond, unless each stamp moves on.
 */
export function now(): string {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return new Date(lastStamp).toISOString();
}

/** The next creation order (`seq`): what keeps lists newest first and stable. */
export function nextSeq(world: WorldData): number {
  return ++world.sequence;
}

/** The fields every created resource carries; a new id unless one was chosen ahead. */
export function newOwned(world: WorldData, input: { id?: string; name: string; organization: string; project: string; zone: Zone; tags: string[] }): Owned {
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
    seq: nextSeq(world),
  };
}

/** A PATCH of what every resource has, its name and its tags: the resource is modified now. */
export function patchNameAndTags(record: Owned, changes: { name?: string; tags?: string[] }): void {
  if (changes.name !== undefined) record.name = changes.name;
  if (changes.tags !== undefined) record.tags = changes.tags;
  record.modification_date = now();
}

/** Images whose root or extra volumes are this snapshot. */
export function imagesUsing(world: WorldData, snapshotId: string): ImageRecord[] {
  return Object.values(world.images).filter(
    (image) => image.root_snapshot_id === snapshotId || Object.values(image.extra_snapshot_ids ?? {}).includes(snapshotId),
  );
}

/** A volume leaves `snapshotting` once none of its snapshots is still being taken. */
export function settleVolumeOf(world: WorldData, snapshot: SnapshotRecord): void {
  const volume = snapshot.base_volume ? world.volumes[snapshot.base_volume.id] : undefined;
  if (!volume) return;
  const stillTaking = Object.values(world.snapshots).some(
    (other) => other !== snapshot && other.state === 'snapshotting' && other.base_volume?.id === volume.id,
  );
  if (!stillTaking) volume.state = 'available';
}

export function presentVolume(volume: VolumeRecord, world: WorldLookup): Record<string, unknown> {
  const server = volume.server_id ? world.server(volume.server_id) : undefined;
  return {
    id: volume.id,
    name: volume.name,
    export_uri: null,
    size: volume.size,
    volume_type: volume.volume_type,
    creation_date: volume.creation_date,
    modification_date: volume.modification_date,
    organization: volume.organization,
    project: volume.project,
    tags: volume.tags,
    server: server ? { id: server.id, name: server.name } : null,
    state: volume.state,
    zone: volume.zone,
  };
}

export function presentSnapshot(snapshot: SnapshotRecord): Record<string, unknown> {
  return {
    id: snapshot.id,
    name: snapshot.name,
    organization: snapshot.organization,
    project: snapshot.project,
    tags: snapshot.tags,
    volume_type: snapshot.volume_type,
    size: snapshot.size,
    state: snapshot.state,
    base_volume: snapshot.base_volume,
    creation_date: snapshot.creation_date,
    modification_date: snapshot.modification_date,
    error_reason: null,
    error_details: null,
    zone: snapshot.zone,
  };
}

export function presentImage(image: ImageRecord, world: WorldLookup): Record<string, unknown> {
  const root = world.snapshot(image.root_snapshot_id);
  const bootscript = image.default_bootscript_id ? world.bootscript(image.zone, image.default_bootscript_id) : undefined;
  return {
    id: image.id,
    name: image.name,
    arch: image.arch,
    creation_date: image.creation_date,
    modification_date: image.modification_date,
    default_bootscript: bootscript ?? null,
    extra_volumes: Object.fromEntries(
      Object.entries(image.extra_snapshot_ids ?? {}).map(([slot, id]) => [slot, presentImageVolume(id, world.snapshot(id))]),
    ),
    from_server: image.from_server,
    organization: image.organization,
    project: image.project,
    public: image.public,
    root_volume: presentImageVolume(image.root_snapshot_id, root),
    state: image.state,
    tags: image.tags,
    zone: image.zone,
  };
}

/** An image's volume entry: a block snapshot shows only its id (Scaleway answers size 0, name ""). */
function presentImageVolume(id: string, snapshot: SnapshotRecord | undefined): Record<string, unknown> {
  if (snapshot && isBlockSnapshot(snapshot)) return { volume_type: 'sbs_snapshot', id, size: 0, name: '' };
  return { id, name: snapshot?.name ?? '', size: snapshot?.size ?? 0, volume_type: snapshot?.volume_type ?? 'l_ssd' };
}

export function presentIp(ip: IpRecord, world: WorldLookup): Record<string, unknown> {
  const server = ip.server_id ? world.server(ip.server_id) : undefined;
  return {
    id: ip.id,
    address: ip.address,
    prefix: `${ip.address}/32`,
    reverse: null,
    server: server ? { id: server.id, name: server.name } : null,
    organization: ip.organization,
    project: ip.project,
    tags: ip.tags,
    type: 'routed_ipv4',
    state: server ? 'attached' : 'detached',
    zone: ip.zone,
    ipam_id: ip.id,
  };
}

export function presentServer(server: ServerRecord, world: WorldLookup): Record<string, unknown> {
  const volumes: Record<string, unknown> = {};
  for (const [slot, volumeId] of Object.entries(server.volumes)) {
    const volume = world.volume(volumeId);
    // SBS entries are minimal, as Scaleway shows them: the details are the Block API's.
    if (volume && isBlockVolume(volume)) volumes[slot] = { boot: false, volume_type: 'sbs_volume', id: volume.id, state: 'available', zone: volume.zone };
    else if (volume) volumes[slot] = { ...presentVolume(volume, world), boot: false };
  }
  const image = server.image_id ? world.image(server.image_id) : undefined;
  const bootscript = server.bootscript_id ? world.bootscript(server.zone, server.bootscript_id) : undefined;
  const publicIp = server.public_ip
    ? {
        id: server.public_ip.id,
        address: server.public_ip.address,
        dynamic: server.public_ip.dynamic,
        gateway: null,
        netmask: '32',
        family: 'inet',
        provisioning_mode: 'dhcp',
        state: 'attached',
        tags: [],
        ipam_id: server.public_ip.id,
      }
    : null;
  const onHypervisor = server.state !== 'stopped';
  return {
    id: server.id,
    name: server.name,
    hostname: server.name,
    organization: server.organization,
    project: server.project,
    arch: server.arch,
    commercial_type: server.commercial_type,
    boot_type: server.boot_type,
    bootscript: bootscript ?? null,
    image: image ? presentImage(image, world) : null,
    state: server.state,
    state_detail: server.state_detail,
    allowed_actions: ALLOWED_ACTIONS[server.state],
    tags: server.tags,
    public_ip: publicIp,
    public_ips: publicIp ? [publicIp] : [],
    private_ip: null,
    mac_address: macAddressOf(server.id),
    ipv6: null,
    routed_ip_enabled: true,
    dynamic_ip_required: server.dynamic_ip_required,
    enable_ipv6: server.enable_ipv6,
    protected: server.protected,
    volumes,
    security_group: ((id) => ({ id, name: world.securityGroupName(id) ?? 'Default security group' }))(
      server.security_group_id ?? defaultSecurityGroupId(server.project, server.zone),
    ),
    placement_group: null,
    private_nics: world.privateNicsOf(server.id).map(presentPrivateNic),
    extra_networks: [],
    filesystems: [],
    location: onHypervisor
      ? { zone_id: server.zone, platform_id: '14', cluster_id: '12', hypervisor_id: '301', node_id: '7' }
      : null,
    maintenances: [],
    admin_password_encryption_ssh_key_id: server.admin_password_encryption_ssh_key_id ?? null,
    admin_password_encrypted_value: null,
    end_of_service: false,
    creation_date: server.creation_date,
    modification_date: server.modification_date,
    zone: server.zone,
  };
}

export function presentPrivateNic(nic: PrivateNicRecord): Record<string, unknown> {
  return {
    id: nic.id,
    server_id: nic.server_id,
    private_network_id: nic.private_network_id,
    mac_address: nic.mac_address,
    state: nic.state,
    tags: nic.tags,
    creation_date: nic.creation_date,
    modification_date: nic.modification_date,
    zone: nic.zone,
  };
}

export function macAddressOf(id: string): string {
  const hex = id.replace(/-/g, '').slice(0, 10);
  return `de:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
}

/** The id of a project's default security group in a zone (made by security-groups.ts): the same whenever it is made. */
export function defaultSecurityGroupId(project: string, zone: Zone): string {
  return stableUuid('security-group', project, zone);
}

/** Authorized keys carried by `AUTHORIZED_KEY=<type>_<base64>[_comment]` tags (`_` stands for a space). */
export function authorizedKeysOf(tags: string[]): string[] {
  return tags.filter((tag) => tag.startsWith('AUTHORIZED_KEY=')).map((tag) => tag.slice('AUTHORIZED_KEY='.length).replace(/_/g, ' '));
}
