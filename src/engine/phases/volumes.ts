// The volume phases of an SBS build (issue 11): the checks prepare makes before anything exists,
// the extra block volumes created before the server, the server's `volumes` map, the root IOPS
// change, one Block API snapshot per extra volume, and the volume deletes cleanup needs. Every
// create, patch and delete goes through tracked.ts, one item (volume, snapshot) at a time.
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { NotFoundError, pollUntil, refusedForItsState, sizeClassOf, type BlockSnapshot, type BlockVolume, type Server, type ServerType } from '../../scaleway/index.js';
import type { EventType } from '../../store/index.js';
import type { BlockVolumeSpec } from '../../template/spec.js';
import { BuildError, type PhaseRuntime } from '../runtime.js';
import { buildTag, createdBy, resourceTags } from '../tags.js';
import { trackedCreate, trackedDelete, trackedUpdate } from '../tracked.js';
import { waitFor } from '../waits.js';

const GB = 1_000_000_000;

export type RootVolumeType = 'l_ssd' | 'sbs_volume';

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** A type has local storage unless the API says its local volumes can hold nothing (PRO2, PLAY2, …). */
export function hasLocalStorage(type: ServerType): boolean {
  return (type.volumes_constraint?.max_size ?? 1) > 0;
}

// ---- prepare: the checks that need the API, before anything is created -------------------

/**
 * Bad volume input, found before anything exists: an l_ssd root on a type without local storage,
 * a root smaller than the image or larger than the type allows, an unknown or unusable snapshot_id.
 * Returns the root volume type the server will get (the API's rule when none is configured).
 */
export async function checkVolumes(
  rt: PhaseRuntime,
  o: { type: ServerType; sourceImageId: string; signal: AbortSignal },
): Promise<{ rootVolumeType: RootVolumeType }> {
  const { client, spec } = rt.deps;
  const local = hasLocalStorage(o.type);
  const rootVolumeType: RootVolumeType = spec.rootVolume.type ?? (local ? 'l_ssd' : 'sbs_volume');
  if (rootVolumeType === 'l_ssd' && !local) {
    throw new BuildError(
      `root_volume.type is "l_ssd" but ${spec.commercialType} has no local storage (its root volume must be an SBS block volume): set root_volume.type to "sbs_volume", or choose a type with local storage such as DEV1-S`,
    );
  }
  const size = spec.rootVolume.sizeGb;
  if (size !== undefined) {
    const imageBytes = await imageSize(rt, o.sourceImageId, o.signal);
    if (imageBytes !== undefined && size * GB < imageBytes) {
      throw new BuildError(`root_volume.size_in_gb is ${size} but the image ${spec.image} needs at least ${Math.ceil(imageBytes / GB)} GB: raise size_in_gb`);
    }
    const max = o.type.volumes_constraint?.max_size;
    if (rootVolumeType === 'l_ssd' && max !== undefined && max > 0 && size * GB > max) {
      throw new BuildError(`root_volume.size_in_gb is ${size} but ${spec.commercialType} holds at most ${max / GB} GB of local storage: lower size_in_gb, use "sbs_volume", or choose a larger type`);
    }
  }
  for (const [index, volume] of spec.blockVolumes.entries()) {
    if (!volume.snapshotId) continue;
    let snapshot: BlockSnapshot;
    try {
      snapshot = await client.block.getSnapshot(volume.snapshotId, { signal: o.signal });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      throw new BuildError(`block_volume[${index}].snapshot_id ${volume.snapshotId} is not a block snapshot in ${client.zone}: check the ID (\`scw block snapshot list\`) and the zone`);
    }
    if (snapshot.status !== 'available' && snapshot.status !== 'in_use') {
      throw new BuildError(`block_volume[${index}].snapshot_id ${volume.snapshotId} is ${snapshot.status}, not available: wait for it or choose another snapshot`);
    }
  }
  if (!rt.deps.force) await checkSnapshotNames(rt, rootVolumeType, o.signal);
  return { rootVolumeType };
}

/** The source image's root size in bytes (a block snapshot's image entry says 0: ask the Block API). */
async function imageSize(rt: PhaseRuntime, imageId: string, signal: AbortSignal): Promise<number | undefined> {
  const { client } = rt.deps;
  let root: { id: string; size: number; volume_type: string } | null;
  try {
    root = (await client.getImage(imageId, { signal })).root_volume;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  if (!root) return undefined;
  if (root.volume_type === 'sbs_snapshot' && root.size === 0) return (await client.block.getSnapshot(root.id, { signal })).size;
  return root.size;
}

/** Packer refuses to build over existing snapshots of the same names; the Block API holds the SBS ones. */
async function checkSnapshotNames(rt: PhaseRuntime, rootVolumeType: RootVolumeType, signal: AbortSignal): Promise<void> {
  const { client, spec, buildId } = rt.deps;
  // The plugin gives every snapshot of a build the same default name: ask once per name.
  const names = [...new Set([...(rootVolumeType === 'sbs_volume' ? [spec.snapshotName] : []), ...spec.blockVolumes.map((v) => v.snapshotName)])];
  if (names.length === 0) return;
  for (const name of names) {
    const taken = (await client.block.listSnapshots({ name }, { signal })).find(
      (s) => s.name === name && !createdBy(s.tags ?? [], buildId, 'snapshot.create') && !createdBy(s.tags ?? [], buildId, 'volume_snapshots.create'),
    );
    if (taken) throw new BuildError(`a block snapshot named "${name}" already exists (${taken.id}); choose another snapshot_name or pass --force`);
  }
}

// ---- volumes.create: the extra block volumes ---------------------------------------------

function blockVolumeRequest(v: BlockVolumeSpec): { from_empty: { size: number } } | { from_snapshot: { snapshot_id: string } } {
  return v.snapshotId ? { from_snapshot: { snapshot_id: v.snapshotId } } : { from_empty: { size: (v.sizeGb ?? 0) * GB } };
}

export async function volumesCreate(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec, buildId } = rt.deps;
  // A checkpoint image brings its extra volumes along (made of its snapshots): none is made twice.
  if (input.facts.cacheImageId) return { blockVolumeIds: [] };
  const ids: string[] = [];
  for (const [index, volume] of spec.blockVolumes.entries()) {
    const created = await trackedCreate<BlockVolume>(rt, input, signal, {
      phase: 'volumes.create',
      intent: 'block_volume.create.requested',
      result: 'block_volume.created',
      // A volume is known by its name, in the log as in the cloud.
      item: { name: volume.name },
      idKey: 'volumeId',
      request: { index, sizeGb: volume.sizeGb ?? null, snapshotId: volume.snapshotId ?? null, iops: volume.iops ?? null },
      create: (tags) =>
        client.block.createVolume({ name: volume.name, tags, ...blockVolumeRequest(volume), ...(volume.iops ? { perf_iops: volume.iops } : {}) }, { signal }),
      list: () => client.block.listVolumes({ tags: [buildTag(buildId)] }, { signal }),
      matches: (v) => v.name === volume.name,
      resultData: () => ({ index }),
    });
    ids.push(created.id);
  }
  return { blockVolumeIds: ids };
}

// ---- server.create: the volumes map, and what the server got ------------------------------

/**
 * The `volumes` of the server create: volumes["0"] only when root_volume asks for something (the
 * plugin's rule: otherwise the API decides), and the block volumes made before as "1"…"n".
 */
export function serverVolumesRequest(rt: PhaseRuntime, facts: BuildFacts): Record<string, unknown> | undefined {
  const { rootVolume } = rt.deps.spec;
  const volumes: Record<string, unknown> = {};
  if (rootVolume.type) volumes['0'] = { volume_type: rootVolume.type, ...(rootVolume.sizeGb ? { size: rootVolume.sizeGb * GB } : {}) };
  list(facts.blockVolumeIds).forEach((id, i) => {
    volumes[String(i + 1)] = { id, volume_type: 'sbs_volume' };
  });
  return Object.keys(volumes).length > 0 ? volumes : undefined;
}

/** What the server was created with: its volumes in slot order, and which of them are block volumes. */
export function serverVolumes(server: Server): { volumeIds: string[]; blockVolumeIds: string[] } {
  const slots = Object.keys(server.volumes ?? {}).sort((a, b) => Number(a) - Number(b));
  const entries = slots.map((k) => server.volumes[k]!);
  return { volumeIds: entries.map((v) => v.id), blockVolumeIds: entries.filter((v) => v.volume_type === 'sbs_volume').map((v) => v.id) };
}

/** Tags every volume of the server at once (gc finds them even if the server goes): block PATCH for SBS. */
export async function tagServerVolumes(rt: PhaseRuntime, input: PhaseInput, server: Server, signal: AbortSignal): Promise<void> {
  const { client, spec, buildId } = rt.deps;
  const volumeTags = resourceTags(buildId, 'server.create', spec.tags);
  for (const volume of Object.values(server.volumes ?? {})) {
    const block = volume.volume_type === 'sbs_volume';
    // SBS entries of a server are minimal: their tags are the Block API's.
    const current = block ? (await client.block.getVolume(volume.id, { signal })).tags : (volume.tags ?? []);
    // A block volume made by volumes.create already carries its own phase tag: leave it.
    if (volumeTags.every((t) => current.includes(t)) || (block && current.includes(buildTag(buildId)))) continue;
    const tags = [...new Set([...current, ...volumeTags])];
    // No intent: the tags are read back first, so a crash before the result only makes the PATCH again.
    await trackedUpdate(rt, input, {
      result: 'volume.tagged',
      item: { volumeId: volume.id, ...(block ? { api: 'block' } : {}) },
      call: async () => {
        if (block) await client.block.updateVolume(volume.id, { tags }, { signal });
        else await client.updateVolume(volume.id, { tags }, { signal });
      },
    });
  }
}

/** Facts server.create hands on about the volumes. */
export function volumeFacts(server: Server): BuildFacts {
  const { volumeIds, blockVolumeIds } = serverVolumes(server);
  const root = volumeIds[0] ?? null;
  return { volumeIds, rootVolumeId: root, rootVolumeApi: root !== null && blockVolumeIds.includes(root) ? 'block' : 'instance', extraVolumeIds: volumeIds.slice(1) };
}

// ---- volumes.iops: root_volume.iops --------------------------------------------------------

export async function volumesIops(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const iops = rt.deps.spec.rootVolume.iops;
  if (!iops) return {};
  const volumeId = String(input.facts.rootVolumeId ?? '');
  if (input.facts.rootVolumeApi !== 'block' || !volumeId) throw new BuildError(`root_volume.iops is set but the server's root volume is not an SBS volume`);
  // The PATCH is idempotent: a pending intent on resume is simply sent again.
  await trackedUpdate(rt, input, {
    intent: 'volume.iops.requested',
    result: 'volume.iops.updated',
    item: { volumeId },
    request: { iops },
    once: true,
    call: async () => {
      await rt.deps.client.block.updateVolume(volumeId, { perf_iops: iops }, { signal });
      return { iops };
    },
  });
  return {};
}

// ---- the root snapshot of an SBS root, and one per extra volume -------------------------

/** Waits for a block snapshot until it is available (an error status is a failure); learns like every wait. */
export async function waitBlockSnapshot(
  rt: PhaseRuntime,
  input: PhaseInput,
  snapshotId: string,
  signal: AbortSignal,
  startedBy: EventType,
  key?: { volumeType: string; sizeClass: string },
): Promise<void> {
  await waitFor(rt, input, signal, {
    wait: 'sbs.snapshot',
    startedBy,
    what: `block snapshot ${snapshotId} to be available`,
    ...(key ? { key } : {}),
    changedAt: (s) => s.updated_at,
    check: async () => {
      const s = await rt.deps.client.block.getSnapshot(snapshotId, { signal });
      if (s.status === 'available' || s.status === 'in_use') return s;
      if (s.status === 'error' || s.status === 'locked' || s.status === 'deleted') throw new BuildError(`block snapshot ${snapshotId} failed: it is ${s.status}`);
      return undefined;
    },
  });
}

export async function volumeSnapshotsCreate(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec, buildId } = rt.deps;
  const ids: string[] = [];
  for (const [index, volumeId] of list(input.facts.extraVolumeIds).entries()) {
    const name = spec.blockVolumes[index]?.snapshotName ?? `${spec.snapshotName}-${index + 1}`;
    const created = await trackedCreate<BlockSnapshot>(rt, input, signal, {
      phase: 'volume_snapshots.create',
      intent: 'volume_snapshot.create.requested',
      result: 'volume_snapshot.created',
      // One snapshot per extra volume: known by the volume it is made of.
      item: { volumeId },
      idKey: 'snapshotId',
      name,
      request: { index },
      create: (tags) => client.block.createSnapshot({ name, volume_id: volumeId, tags }, { signal }),
      list: () => client.block.listSnapshots({ tags: [buildTag(buildId)] }, { signal }),
      matches: (s) => s.parent_volume?.id === volumeId,
      resultData: (s) => ({ index, name: s.name }),
    });
    ids.push(created.id);
  }
  return { volumeSnapshotIds: ids };
}

export async function volumeSnapshotsWait(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  for (const [index, snapshotId] of list(input.facts.volumeSnapshotIds).entries()) {
    const size = rt.deps.spec.blockVolumes[index]?.sizeGb;
    await waitBlockSnapshot(rt, input, snapshotId, signal, 'volume_snapshot.created', {
      volumeType: 'sbs_volume',
      sizeClass: sizeClassOf(size !== undefined ? size * GB : undefined),
    });
    await rt.record(input, 'volume_snapshot.available', { snapshotId });
  }
  return {};
}

/** The image's `extra_volumes`: one block snapshot per extra volume, slots from "1". */
export function imageExtraVolumes(facts: BuildFacts): Record<string, { id: string }> | undefined {
  const ids = list(facts.volumeSnapshotIds);
  return ids.length > 0 ? Object.fromEntries(ids.map((id, i) => [String(i + 1), { id }])) : undefined;
}

// ---- cleanup: volume deletes ----------------------------------------------------------------

/** Status that will not change by waiting: a block volume can be deleted in it once detached. */
const SETTLED = new Set(['available', 'error', 'in_use']);

/**
 * Deletes a volume the server did not take along. A block volume is deleted once nothing uses it:
 * DELETE /servers detaches SBS volumes, and a detachment may take a moment. (A terminated server
 * took its local volumes along: their delete then finds nothing, which is done.)
 */
export async function deleteVolume(rt: PhaseRuntime, input: PhaseInput, volumeId: string, api: 'block' | undefined, signal: AbortSignal): Promise<void> {
  const { client } = rt.deps;
  await trackedDelete(rt, input, {
    intent: 'volume.delete.requested',
    result: 'volume.deleted',
    item: { volumeId, ...(api ? { api } : {}) },
    call: async () => {
      if (api !== 'block') return client.deleteVolume(volumeId, { signal });
      await pollUntil(
        async () => {
          // Gone (NotFound) before the delete: done, recorded as already gone.
          const volume = await client.block.getVolume(volumeId, { signal });
          const attached = volume.references.some((r) => r.status !== 'detached');
          if (attached || !SETTLED.has(volume.status) || volume.status === 'in_use') return undefined;
          try {
            await client.block.deleteVolume(volumeId, { signal });
          } catch (error) {
            if (error instanceof NotFoundError) return true;
            // 412 resource_still_in_use / 409 transient: the detachment is not finished; look again.
            if (refusedForItsState(error)) return undefined;
            throw error;
          }
          return true;
        },
        { signal, deadlineAt: input.phaseDeadlineAt, what: `block volume ${volumeId} to be detached and deleted` },
      );
    },
  });
}
