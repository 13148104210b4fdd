// The simulated cloud's servers: creating one (its root volume copied from the image), changing
// and deleting it, its actions and the background transitions they start, and what those
// transitions do when they end (a boot attaches SSH, a terminate takes the local volumes along).
// The routes (routes/instance/servers.ts) validate requests and present the answers.
import { randomUUID } from 'node:crypto';
import type { AddressPool } from './addresses.js';
import { COMMERCIAL_TYPES, type Zone } from './catalog.js';
import type { Guests } from './guest.js';
import { invalidRequest } from './http.js';
import type { RequestContext } from './scheduler.js';
import { DEFAULT_IOPS, type Storage, type StorageParts } from './storage.js';
import {
  ALLOWED_ACTIONS,
  newOwned,
  now,
  patchNameAndTags,
  type ImageRecord,
  type IpRecord,
  type PendingTransition,
  type ServerAction,
  type ServerRecord,
  type VolumeRecord,
  type WorldLookup,
} from './world.js';

/** How a server create asks for its root volume: an l_ssd or an SBS one, of a size or the image's. */
export interface RootVolumeRequest {
  volumeType: 'l_ssd' | 'sbs_volume';
  size: number | undefined;
}

/** What servers work with: storage's parts, storage itself, the guests and the addresses. */
export interface ServerParts extends StorageParts {
  storage: Storage;
  guests: Guests;
  addresses: AddressPool;
  /** Lookups that see the public images' snapshots too. */
  lookup: WorldLookup;
}

export class Servers {
  constructor(private readonly parts: ServerParts) {}

  async create(input: {
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
    securityGroupId: string;
    adminPasswordEncryptionSshKeyId?: string;
  }): Promise<ServerRecord> {
    const { world, quotas } = this.parts;
    const serverId = randomUUID();
    const rootSnapshot = this.parts.lookup.snapshot(input.image.root_snapshot_id);
    if (!rootSnapshot) throw invalidRequest(`image ${input.image.id} has no root snapshot`);
    // Everything the create makes counts, checked before any of it is made.
    quotas.check('servers', input.organization, 1, { commercialType: input.commercialType });
    const newBlockVolumes = (input.root.volumeType === 'sbs_volume' ? 1 : 0) + Object.keys(input.image.extra_snapshot_ids ?? {}).length;
    quotas.check('block_volumes', input.organization, newBlockVolumes);
    const volumeId = randomUUID();
    await this.parts.disks.fillVolume(volumeId, rootSnapshot.id);
    const type = COMMERCIAL_TYPES[input.commercialType]!;
    const sbs = input.root.volumeType === 'sbs_volume';
    const volume: VolumeRecord = {
      ...newOwned(world, { ...input, id: volumeId, name: sbs ? `${input.image.name}_sbs_volume_0` : rootSnapshot.name, tags: [] }),
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
      const snapshot = world.snapshots[snapshotId];
      if (!snapshot) throw invalidRequest(`image ${input.image.id} refers to snapshot ${snapshotId}, which no longer exists`);
      const extra = await this.parts.storage.createBlockVolume(
        { ...input, name: `${input.image.name}_sbs_volume_${slot}`, tags: [], size: snapshot.size, iops: DEFAULT_IOPS, fromSnapshot: snapshot },
        { stuck: false },
        false,
      );
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
      ...newOwned(world, { ...input, id: serverId }),
      commercial_type: input.commercialType,
      arch: type.arch,
      boot_type: input.bootType,
      bootscript_id: input.bootscriptId,
      image_id: input.image.id,
      state: 'stopped',
      state_detail: '',
      volumes: slots,
      address: this.parts.addresses.allocate(),
      public_ip: null,
      flexible_ip_id: input.flexibleIp?.id ?? null,
      dynamic_ip_required: input.dynamicIpRequired,
      enable_ipv6: input.enableIpv6,
      protected: input.isProtected,
      user_data: {},
      security_group_id: input.securityGroupId,
      ...(input.adminPasswordEncryptionSshKeyId ? { admin_password_encryption_ssh_key_id: input.adminPasswordEncryptionSshKeyId } : {}),
    };
    if (input.flexibleIp) {
      input.flexibleIp.server_id = serverId;
      server.address = input.flexibleIp.address;
    }
    world.volumes[volumeId] = volume;
    world.servers[serverId] = server;
    world.floors[serverId] = 0;
    this.parts.persist();
    return server;
  }

  update(server: ServerRecord, changes: { name?: string; tags?: string[]; protected?: boolean }): void {
    patchNameAndTags(server, changes);
    if (changes.protected !== undefined) server.protected = changes.protected;
    this.parts.persist();
  }

  /** DELETE /servers/{id}: only a stopped server; its volumes survive, detached. */
  delete(server: ServerRecord): void {
    if (server.state !== 'stopped') throw invalidRequest('server should be stopped');
    if (server.protected) throw invalidRequest('server is protected');
    for (const volumeId of Object.values(server.volumes)) {
      const volume = this.parts.world.volumes[volumeId];
      if (volume) this.parts.storage.detachVolume(volume);
    }
    this.forget(server);
    this.parts.persist();
  }

  /** Performs a server action; the state flips before this returns (clients rely on it). */
  async action(server: ServerRecord, action: ServerAction, ctx: RequestContext, backupName?: string): Promise<Record<string, unknown>> {
    if (!ALLOWED_ACTIONS[server.state].includes(action)) throw invalidRequest(illegalActionMessage(action, server.state));
    const { transitions, latency, guests } = this.parts;
    const task = taskFor(server, action);
    switch (action) {
      case 'poweron':
        transitions.cancel(server.id);
        setState(server, 'starting', 'allocating node');
        server.public_ip = this.publicIpOf(server);
        transitions.schedule({ kind: 'server.boot', targetId: server.id }, latency.next('boot'), server.id, ctx);
        break;
      case 'poweroff':
      case 'stop_in_place':
      case 'terminate':
        transitions.cancel(server.id);
        setState(server, 'stopping', action === 'terminate' ? 'terminating' : 'stopping');
        if (server.flexible_ip_id === null) server.public_ip = null;
        await guests.detachSsh(server.id);
        transitions.schedule(
          { kind: action === 'poweroff' ? 'server.stop' : action === 'terminate' ? 'server.terminate' : 'server.stop_in_place', targetId: server.id },
          latency.next('stop'),
          server.id,
          ctx,
        );
        break;
      case 'reboot': {
        transitions.cancel(server.id);
        setState(server, 'starting', 'rebooting');
        await guests.detachSsh(server.id);
        server.public_ip = this.publicIpOf(server);
        const ms = latency.next('stop') + latency.next('boot');
        transitions.schedule({ kind: 'server.reboot', targetId: server.id }, ms, server.id, ctx);
        break;
      }
      case 'backup': {
        const { storage, quotas } = this.parts;
        quotas.check('images', server.organization);
        const rootVolume = this.parts.world.volumes[server.volumes['0'] ?? ''];
        if (!rootVolume) throw invalidRequest('server has no root volume to back up');
        const { snapshot } = await storage.createSnapshot({ zone: server.zone, name: `${backupName ?? server.name}-0`, volume: rootVolume, project: server.project, organization: server.organization, tags: [] }, ctx);
        const image = storage.createImage({ zone: server.zone, name: backupName ?? `${server.name}-backup`, snapshot, arch: server.arch, bootscriptId: null, project: server.project, organization: server.organization, tags: [], fromServer: server.id }, ctx);
        task.href_result = `/images/${image.id}`;
        break;
      }
    }
    this.parts.persist();
    return task;
  }

  setUserData(server: ServerRecord, key: string, value: string): void {
    server.user_data[key] = value;
    this.parts.persist();
  }

  deleteUserData(server: ServerRecord, key: string): void {
    delete server.user_data[key];
    this.parts.persist();
  }

  /** After a restart: the running servers get their SSH endpoints back. */
  async resume(): Promise<void> {
    for (const server of Object.values(this.parts.world.servers))
      if (server.state === 'running') await this.parts.guests.attachSsh(server);
  }

  /** The end of a server's transition (the scheduler calls it when one falls due). */
  async carryOut(pending: PendingTransition): Promise<void> {
    const { world, guests } = this.parts;
    switch (pending.kind) {
      case 'server.boot':
      case 'server.reboot': {
        const server = world.servers[pending.targetId];
        if (!server || server.state !== 'starting') break;
        const runUserData = await guests.boot(server);
        if (this.parts.transitions.closed || world.servers[server.id] !== server || server.state !== 'starting') {
          await guests.detachSsh(server.id);
          break;
        }
        setState(server, 'running', 'booting kernel');
        if (runUserData) guests.runUserData(server.id);
        break;
      }
      case 'server.stop':
      case 'server.stop_in_place': {
        const server = world.servers[pending.targetId];
        if (!server || server.state !== 'stopping') break;
        setState(server, pending.kind === 'server.stop' ? 'stopped' : 'stopped in place', '');
        break;
      }
      case 'server.terminate': {
        const server = world.servers[pending.targetId];
        if (!server) break;
        const volumeIds = Object.values(server.volumes);
        this.forget(server);
        for (const volumeId of volumeIds) {
          const volume = world.volumes[volumeId];
          if (volume?.volume_type === 'l_ssd') {
            delete world.volumes[volumeId];
            this.parts.persist();
            this.parts.disks.discardVolume(volumeId);
          } else if (volume) this.parts.storage.detachVolume(volume);
        }
        break;
      }
      default:
        throw new Error(`carryOut: ${pending.kind} is not a server's transition`);
    }
  }

  private publicIpOf(server: ServerRecord): ServerRecord['public_ip'] {
    if (server.flexible_ip_id) {
      const ip = this.parts.world.ips[server.flexible_ip_id];
      if (ip) return { id: ip.id, address: ip.address, dynamic: false };
    }
    return { id: randomUUID(), address: server.address, dynamic: true };
  }

  private forget(server: ServerRecord): void {
    const { world, transitions } = this.parts;
    transitions.cancel(server.id);
    // A server's private NICs go with it (Scaleway removes them when the server is deleted).
    for (const nic of this.parts.lookup.privateNicsOf(server.id)) {
      transitions.cancel(nic.id);
      delete world.private_nics![nic.id];
    }
    if (server.flexible_ip_id && world.ips[server.flexible_ip_id]) world.ips[server.flexible_ip_id]!.server_id = null;
    delete world.servers[server.id];
    this.parts.addresses.freed();
  }
}

function setState(server: ServerRecord, state: ServerRecord['state'], detail: string): void {
  server.state = state;
  server.state_detail = detail;
  server.modification_date = now();
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
