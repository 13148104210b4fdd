// The builder's volume keys, as the Scaleway plugin has them: `root_volume` {type, size_in_gb,
// iops, snapshot_name} and `block_volume` [{name, size_in_gb | snapshot_id, iops, snapshot_name}].
// Offline checks only; what needs the API (the type's local storage, the image's size, whether a
// snapshot_id exists) is checked in the prepare phase, before anything is created.
import type { BlockVolumeSpec, RootVolumeSpec } from './spec.js';
import { FieldReader, describeType, isObject } from './fields.js';
import { didYouMean } from './suggest.js';

export const ROOT_VOLUME_KEYS = ['type', 'size_in_gb', 'iops', 'snapshot_name'] as const;
export const BLOCK_VOLUME_KEYS = ['name', 'size_in_gb', 'snapshot_id', 'iops', 'snapshot_name'] as const;

/** The root volume types the API takes (b_ssd is refused since 2025, "unified" and "scratch" make no image). */
export const ROOT_VOLUME_TYPES = ['l_ssd', 'sbs_volume'] as const;
/** What an SBS volume's `perf_iops` may be (sbs_5k, sbs_15k). */
export const SBS_IOPS = [5000, 15000] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function readIops(reader: FieldReader): number | undefined {
  const iops = reader.int('iops', { min: 1 });
  if (iops !== undefined && !(SBS_IOPS as readonly number[]).includes(iops)) {
    reader.ctx.problems.add(reader.path('iops'), `${iops} IOPS is not offered`, `SBS volumes have ${SBS_IOPS.join(' (sbs_5k) or ')} (sbs_15k) IOPS`);
    return undefined;
  }
  return iops;
}

/**
 * `root_volume`. Only a block that sets `type`, `size_in_gb` or `iops` asks for a root volume (the
 * plugin's rule); without one the API decides: l_ssd on types with local storage, SBS otherwise.
 * Setting `size_in_gb` or `iops` without `type` means `sbs_volume`, the plugin's default.
 */
export function readRootVolume(builder: FieldReader, defaultSnapshotName: string): { root: RootVolumeSpec; snapshotName: string } {
  const block = builder.object('root_volume');
  if (!block) return { root: {}, snapshotName: defaultSnapshotName };
  const reader = new FieldReader(block, builder.path('root_volume'), builder.ctx);
  reader.checkKeys(ROOT_VOLUME_KEYS);
  const root: RootVolumeSpec = {};
  const type = reader.string('type');
  if (type !== undefined) {
    const normalized = type.toLowerCase();
    if ((ROOT_VOLUME_TYPES as readonly string[]).includes(normalized)) root.type = normalized as RootVolumeSpec['type'];
    else if (normalized === 'b_ssd')
      reader.ctx.problems.add(reader.path('type'), 'b_ssd volumes are no longer supported by Scaleway', 'use "sbs_volume" (block storage) or "l_ssd" (local storage)');
    else reader.ctx.problems.add(reader.path('type'), `"${type}" is not a root volume type`, didYouMean(normalized, ROOT_VOLUME_TYPES) ?? `use ${ROOT_VOLUME_TYPES.join(' or ')}`);
  }
  const size = reader.int('size_in_gb', { min: 1 });
  if (size !== undefined) root.sizeGb = size;
  const iops = readIops(reader);
  if (iops !== undefined) root.iops = iops;
  if ((size !== undefined || iops !== undefined) && root.type === undefined && type === undefined) root.type = 'sbs_volume';
  if (root.type === 'l_ssd' && iops !== undefined)
    reader.ctx.problems.add(reader.path('iops'), 'only SBS volumes have a choice of IOPS', 'remove iops, or set type to "sbs_volume"');
  return { root, snapshotName: reader.resourceName('snapshot_name') ?? defaultSnapshotName };
}

/** `block_volume`: extra SBS volumes, created before the server and attached as volumes 1…n. */
export function readBlockVolumes(builder: FieldReader, defaults: { name: (n: number) => string; snapshotName: (n: number) => string }): BlockVolumeSpec[] {
  const raw = builder.raw.block_volume;
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  const volumes: BlockVolumeSpec[] = [];
  list.forEach((entry, index) => {
    const path = `${builder.path('block_volume')}[${index}]`;
    if (!isObject(entry)) {
      builder.ctx.problems.add(path, `must be an object such as {"size_in_gb": 20}, not ${describeType(entry)}`);
      return;
    }
    const reader = new FieldReader(entry, path, builder.ctx);
    reader.checkKeys(BLOCK_VOLUME_KEYS);
    const size = reader.int('size_in_gb', { min: 1 });
    const snapshotId = reader.string('snapshot_id');
    if (size !== undefined && snapshotId !== undefined)
      builder.ctx.problems.add(path, 'has both size_in_gb and snapshot_id', 'a block volume is either empty (size_in_gb) or a copy of a snapshot (snapshot_id): keep one');
    else if (size === undefined && snapshotId === undefined)
      builder.ctx.problems.add(path, 'needs size_in_gb or snapshot_id', 'set size_in_gb for an empty volume, or snapshot_id to copy a block snapshot');
    if (snapshotId !== undefined && !UUID.test(snapshotId))
      builder.ctx.problems.add(reader.path('snapshot_id'), `"${snapshotId}" is not a snapshot ID (a UUID)`);
    const iops = readIops(reader);
    volumes.push({
      name: reader.resourceName('name') ?? defaults.name(index + 1),
      ...(size !== undefined ? { sizeGb: size } : {}),
      ...(snapshotId !== undefined ? { snapshotId } : {}),
      ...(iops !== undefined ? { iops } : {}),
      // Distinct per volume (the plugin gives every volume of a second the same name).
      snapshotName: reader.resourceName('snapshot_name') ?? defaults.snapshotName(index + 1),
    });
  });
  return volumes;
}
