// The simulated cloud's storage: volumes (Instance l_ssd and Block sbs_volume), their snapshots,
// and images made of snapshots. What a request changes and the transitions it starts; the routes
// (routes/instance/storage.ts, routes/block.ts) validate requests and present the answers.
import { randomUUID } from 'node:crypto';
import type { Arch, Zone } from './catalog.js';
import type { Disks } from './disk.js';
import { invalidRequest, permissionsDenied, stillInUse, transientState } from './http.js';
import type { LatencyModel } from './latency.js';
import type { Quotas } from './quotas.js';
import type { RequestContext, TransitionScheduler } from './scheduler.js';
import {
  imagesUsing,
  isBlockSnapshot,
  isBlockVolume,
  newOwned,
  now,
  patchNameAndTags,
  settleVolumeOf,
  type ImageRecord,
  type SnapshotRecord,
  type VolumeRecord,
  type WorldData,
} from './world.js';

/** IOPS of a block volume created without `perf_iops` (`sbs_5k`). */
export const DEFAULT_IOPS = 5000;

/** What storage works with: the world, the disks, and the transitions it starts. */
export interface StorageParts {
  world: WorldData;
  disks: Disks;
  transitions: TransitionScheduler;
  latency: LatencyModel;
  /** The organization's quotas: a create past one is refused before anything changes. */
  quotas: Quotas;
  /** Keeps the world; called once a request's change is complete. */
  persist(): void;
}

export class Storage {
  private readonly world: WorldData;

  constructor(private readonly parts: StorageParts) {
    this.world = parts.world;
  }

  // ---- volumes -----------------------------------------------------------------------------

  async createVolume(input: { zone: Zone; name: string; project: string; organization: string; tags: string[]; volumeType: string; size: number; baseSnapshot: SnapshotRecord | undefined }): Promise<VolumeRecord> {
    const volume: VolumeRecord = {
      ...newOwned(this.world, input),
      volume_type: input.volumeType,
      size: input.size,
      state: 'available',
      server_id: null,
      origin_server_id: input.baseSnapshot?.origin_server_id ?? null,
    };
    await this.parts.disks.fillVolume(volume.id, input.baseSnapshot?.id);
    this.world.volumes[volume.id] = volume;
    this.parts.persist();
    return volume;
  }

  updateVolume(volume: VolumeRecord, changes: { name?: string; tags?: string[] }): void {
    patchNameAndTags(volume, changes);
    this.parts.persist();
  }

  async deleteVolume(volume: VolumeRecord): Promise<void> {
    if (volume.server_id) throw invalidRequest('volume is attached to a server; delete or detach the server first');
    if (volume.state === 'snapshotting') throw transientState('instance_volume', volume.id, volume.state);
    delete this.world.volumes[volume.id];
    this.parts.persist();
    this.parts.disks.discardVolume(volume.id);
  }

  /** A block volume (`from_empty` or `from_snapshot`), `creating` until its latency has passed. */
  async createBlockVolume(
    input: { zone: Zone; name: string; project: string; organization: string; tags: string[]; size: number; iops: number; fromSnapshot: SnapshotRecord | undefined },
    ctx: RequestContext,
    transient = true,
  ): Promise<VolumeRecord> {
    this.parts.quotas.check('block_volumes', input.organization);
    const volume: VolumeRecord = {
      ...newOwned(this.world, input),
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
    await this.parts.disks.fillVolume(volume.id, input.fromSnapshot?.id);
    this.world.volumes[volume.id] = volume;
    if (transient) this.parts.transitions.schedule({ kind: 'volume.ready', targetId: volume.id }, this.parts.latency.next('volume'), null, ctx);
    this.parts.persist();
    return volume;
  }

  /** Block PATCH: name, tags, a larger size, or new IOPS (`updating` until its latency has passed). */
  updateBlockVolume(volume: VolumeRecord, changes: { name?: string; tags?: string[]; size?: number; iops?: number }, ctx: RequestContext): void {
    if (changes.size !== undefined && changes.size < volume.size)
      throw invalidRequest(`volume ${volume.id} can only grow: it has ${volume.size} bytes, asked for ${changes.size}`);
    patchNameAndTags(volume, changes);
    if (changes.size !== undefined) volume.size = changes.size;
    if (changes.iops !== undefined && changes.iops !== volume.perf_iops) {
      // The answer still shows the old type and specs; later reads show the new ones.
      volume.block_transient = 'updating';
      volume.pending_iops = changes.iops;
      this.parts.transitions.schedule({ kind: 'volume.ready', targetId: volume.id }, this.parts.latency.next('volume'), volume.origin_server_id, ctx);
    }
    this.parts.persist();
  }

  async deleteBlockVolume(volume: VolumeRecord): Promise<void> {
    if (volume.server_id) throw stillInUse('volume', volume.id, 'the volume is attached to a server: delete the server (or detach the volume) first');
    if (volume.block_transient) throw transientState('volume', volume.id, volume.block_transient);
    this.parts.transitions.cancel(volume.id);
    delete this.world.volumes[volume.id];
    this.parts.persist();
    this.parts.disks.discardVolume(volume.id);
  }

  /** A volume its server left (deleted or terminated): it stays, detached. */
  detachVolume(volume: VolumeRecord): void {
    volume.server_id = null;
    volume.modification_date = now();
    if (isBlockVolume(volume)) volume.last_detached_at = volume.modification_date;
  }

  // ---- snapshots ---------------------------------------------------------------------------

  async createSnapshot(
    input: { zone: Zone; name: string; volume: VolumeRecord; project: string; organization: string; tags: string[] },
    ctx: RequestContext,
  ): Promise<{ snapshot: SnapshotRecord; task: Record<string, unknown> }> {
    const block = isBlockVolume(input.volume);
    this.parts.quotas.check(block ? 'block_snapshots' : 'snapshots', input.organization, 1, { volumeType: input.volume.volume_type });
    const snapshot: SnapshotRecord = {
      ...newOwned(this.world, input),
      volume_type: block ? 'sbs_snapshot' : input.volume.volume_type,
      size: input.volume.size,
      state: 'snapshotting',
      base_volume: { id: input.volume.id, name: input.volume.name },
      origin_server_id: input.volume.origin_server_id,
      public: false,
    };
    await this.parts.disks.takeSnapshot(input.volume.id, snapshot.id);
    this.world.snapshots[snapshot.id] = snapshot;
    // A block volume stays `in_use`/`available` while its snapshot is taken.
    if (!block) input.volume.state = 'snapshotting';
    this.parts.transitions.schedule({ kind: 'snapshot', targetId: snapshot.id }, this.parts.latency.next(block ? 'blockSnapshot' : 'snapshot'), snapshot.origin_server_id, ctx);
    this.parts.persist();
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
    patchNameAndTags(snapshot, changes);
    this.parts.persist();
  }

  async deleteSnapshot(snapshot: SnapshotRecord): Promise<void> {
    if (snapshot.public) throw permissionsDenied('instance_snapshot', 'delete');
    const user = imagesUsing(this.world, snapshot.id)[0];
    if (user && isBlockSnapshot(snapshot)) throw stillInUse('snapshot', snapshot.id, `the snapshot is used by image ${user.id}: delete the image first`);
    if (user) throw invalidRequest(`snapshot is in use by image ${user.id}; delete the image first`);
    this.parts.transitions.cancelOf('snapshot', snapshot.id);
    settleVolumeOf(this.world, snapshot);
    delete this.world.snapshots[snapshot.id];
    this.parts.persist();
    this.parts.disks.discardSnapshot(snapshot.id);
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
    this.parts.quotas.check('images', input.organization);
    const image: ImageRecord = {
      ...newOwned(this.world, input),
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
    this.world.images[image.id] = image;
    this.parts.transitions.schedule({ kind: 'image', targetId: image.id }, this.parts.latency.next('image'), image.origin_server_id, ctx);
    this.parts.persist();
    return image;
  }

  updateImage(image: ImageRecord, changes: { name?: string; tags?: string[] }): void {
    if (image.public) throw permissionsDenied('instance_image', 'update');
    patchNameAndTags(image, changes);
    this.parts.persist();
  }

  deleteImage(image: ImageRecord): void {
    if (image.public) throw permissionsDenied('instance_image', 'delete');
    this.parts.transitions.cancelOf('image', image.id);
    delete this.world.images[image.id];
    this.parts.persist();
  }
}
