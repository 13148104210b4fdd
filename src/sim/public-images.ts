// The marketplace's images and their root snapshots as records of the world: made from the
// catalog's seeds, the same in every run, owned by Scaleway, never kept in the world file.
import {
  MARKETPLACE_EPOCH,
  PUBLIC_IMAGE_SIZE,
  publicImageSeeds,
  SCALEWAY_ORGANIZATION,
  type Arch,
  type MarketplaceOs,
  type PublicImageSeed,
  type Zone,
} from './catalog.js';
import type { DiskOs } from './disk.js';
import type { ImageRecord, SnapshotRecord } from './world.js';

export class PublicImages {
  private readonly images = new Map<string, ImageRecord>();
  private readonly snapshots = new Map<string, { record: SnapshotRecord; os: MarketplaceOs; arch: Arch }>();
  private readonly seeds = publicImageSeeds();

  constructor() {
    for (const seed of this.seeds) {
      const owned = {
        organization: SCALEWAY_ORGANIZATION,
        project: SCALEWAY_ORGANIZATION,
        zone: seed.zone,
        tags: [],
        creation_date: MARKETPLACE_EPOCH,
        modification_date: MARKETPLACE_EPOCH,
        seq: 0,
      };
      this.snapshots.set(seed.snapshotId, {
        record: {
          ...owned,
          id: seed.snapshotId,
          name: `${seed.os.label}_${seed.arch}${seed.type === 'instance_sbs' ? '_sbs' : ''}`,
          volume_type: seed.type === 'instance_sbs' ? 'sbs_snapshot' : 'l_ssd',
          size: seed.os.rootSize ?? PUBLIC_IMAGE_SIZE,
          state: 'available',
          base_volume: null,
          origin_server_id: null,
          public: true,
        },
        os: seed.os,
        arch: seed.arch,
      });
      this.images.set(seed.imageId, {
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

  image(id: string): ImageRecord | undefined {
    return this.images.get(id);
  }

  snapshot(id: string): SnapshotRecord | undefined {
    return this.snapshots.get(id)?.record;
  }

  all(): ImageRecord[] {
    return [...this.images.values()];
  }

  /** The public image a label names in a zone, for an arch, in its local or SBS variant (as the API picks it). */
  byLabel(zone: Zone, label: string, arch: Arch, variant: PublicImageSeed['type']): ImageRecord | undefined {
    const seed = this.seeds.find((s) => s.zone === zone && s.os.label === label && s.arch === arch && s.type === variant);
    return seed ? this.images.get(seed.imageId) : undefined;
  }

  /** The OS of a public image; undefined for images a user made. */
  osOf(image: ImageRecord): MarketplaceOs | undefined {
    return this.snapshots.get(image.root_snapshot_id)?.os;
  }

  /** What a public snapshot's base disk holds; undefined for snapshots a user took. */
  diskOf(snapshotId: string): DiskOs | undefined {
    const base = this.snapshots.get(snapshotId);
    return base ? { ...base.os.os, arch: base.arch } : undefined;
  }
}
