// The simulated cloud: its world (every resource, kept in the world file) and the operations
// requests perform on it — servers (servers.ts), storage (storage.ts), flexible IPs and private
// NICs here — with the background transitions they start (scheduler.ts), the disks behind the
// volumes (disk.ts) and what runs inside a server (guest.ts). The routes validate requests and
// call in here; everything a client can observe changes here, and is persisted before the reply.
import { bootscripts, type Arch, type Bootscript, type MarketplaceOs, type Zone } from './catalog.js';
import { AddressPool } from './addresses.js';
import { Disks } from './disk.js';
import { Guests, type SshGatewayLike } from './guest.js';
import type { LatencyModel } from './latency.js';
import { PublicImages } from './public-images.js';
import { Quotas, type QuotaSpec } from './quotas.js';
import { ensureDefaultSecurityGroup } from './security-groups.js';
import { TransitionScheduler, type RequestContext, type TransitionRequest } from './scheduler.js';
import { Servers, type RootVolumeRequest } from './servers.js';
import { Storage } from './storage.js';
import { saveWorld } from './world-file.js';
import {
  newOwned,
  type ImageRecord,
  type IpRecord,
  type PrivateNicRecord,
  type SecurityGroupRecord,
  type ServerRecord,
  type SnapshotRecord,
  type VolumeRecord,
  type WorldData,
  type WorldLookup,
} from './world.js';

export interface SimulationOptions {
  dataDir: string;
  /** Where the world is persisted (absent: memory only). */
  stateFile?: string;
  latency: LatencyModel;
  /** The organization's quotas the simulator enforces (absent: none). */
  quotas?: QuotaSpec;
  gateway: SshGatewayLike;
  /** Called with problems that have no request to answer (e.g. an SSH attach failing). */
  log: (message: string) => void;
}

export class Simulation implements WorldLookup {
  readonly servers: Servers;
  readonly storage: Storage;
  readonly transitions: TransitionScheduler;
  readonly disks: Disks;
  readonly quotas: Quotas;
  private readonly publicImages = new PublicImages();
  private readonly addresses: AddressPool;
  private closed = false;

  constructor(
    readonly data: WorldData,
    private readonly options: SimulationOptions,
  ) {
    const persist = (): void => this.persist();
    this.disks = new Disks(options.dataDir, { baseOf: (snapshotId) => this.publicImages.diskOf(snapshotId), log: options.log });
    this.addresses = new AddressPool(data);
    this.transitions = new TransitionScheduler(data, { carryOut: (pending) => this.servers.carryOut(pending), persist, log: options.log });
    this.quotas = new Quotas(data, options.quotas ?? {});
    const parts = { world: data, disks: this.disks, transitions: this.transitions, latency: options.latency, quotas: this.quotas, persist };
    this.storage = new Storage(parts);
    const guests = new Guests(options.gateway, this.disks, options.log);
    this.servers = new Servers({ ...parts, storage: this.storage, guests, addresses: this.addresses, lookup: this });
  }

  // ---- lookups (WorldLookup) -------------------------------------------------------------

  server(id: string): ServerRecord | undefined {
    return this.data.servers[id];
  }
  volume(id: string): VolumeRecord | undefined {
    return this.data.volumes[id];
  }
  snapshot(id: string): SnapshotRecord | undefined {
    return this.data.snapshots[id] ?? this.publicImages.snapshot(id);
  }
  image(id: string): ImageRecord | undefined {
    return this.data.images[id] ?? this.publicImages.image(id);
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
    return this.publicImages.osOf(image);
  }
  securityGroupName(id: string): string | undefined {
    return this.data.security_groups?.[id]?.name;
  }
  allImages(): ImageRecord[] {
    return [...Object.values(this.data.images), ...this.publicImages.all()];
  }

  /** The public image a label names in a zone, for an arch, in its local or SBS variant (as the API picks it). */
  imageByLabel(zone: Zone, label: string, arch: Arch, rootType: RootVolumeRequest['volumeType']): ImageRecord | undefined {
    return this.publicImages.byLabel(zone, label, arch, rootType === 'sbs_volume' ? 'instance_sbs' : 'instance_local');
  }

  // ---- start and stop ----------------------------------------------------------------------

  /** Resumes what a previous run left: SSH for running servers, then the pending transitions. */
  async resume(): Promise<void> {
    await this.servers.resume();
    this.transitions.resume();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.transitions.close();
    await this.disks.close();
  }

  // ---- flexible IPs ------------------------------------------------------------------------

  createIp(input: { zone: Zone; project: string; organization: string; tags: string[] }): IpRecord {
    this.quotas.check('ips', input.organization);
    const ip: IpRecord = {
      ...newOwned(this.data, { ...input, name: '' }),
      address: this.addresses.allocate(),
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
    this.addresses.freed();
    this.persist();
  }

  // ---- security groups ---------------------------------------------------------------------

  /** The project's default security group in the zone (made, and kept, the first time it is needed). */
  defaultSecurityGroup(owner: { project: string; organization: string; zone: Zone }): SecurityGroupRecord {
    const known = Object.keys(this.data.security_groups ?? {}).length;
    const group = ensureDefaultSecurityGroup(this.data, owner);
    if (Object.keys(this.data.security_groups ?? {}).length !== known) this.persist();
    return group;
  }

  // ---- private NICs (their routes create them: routes/instance/network.ts) --------------------

  /** Starts a NIC's sync, which takes the latency model's `nic` time. */
  syncPrivateNic(transition: TransitionRequest, ctx: RequestContext): void {
    this.transitions.schedule(transition, this.options.latency.next('nic'), null, ctx);
  }

  /** Removes a private NIC and any transition it was waiting on. */
  forgetPrivateNic(nicId: string): void {
    this.transitions.cancel(nicId);
    delete this.data.private_nics?.[nicId];
    this.persist();
  }

  // ---- persistence -------------------------------------------------------------------------

  /** Keeps the world in the world file (when there is one) once a change is complete. */
  persist(): void {
    const file = this.options.stateFile;
    if (!file || this.closed) return;
    saveWorld(file, this.data);
  }
}
