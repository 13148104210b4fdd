// The artifact: the root volume's snapshot (through the Block API for an SBS root, the Instance
// API for an l_ssd one), the image made of it and of the extra volumes' snapshots, each waited for
// until available; and their deletes, which cleanup makes when a build leaves no artifact.
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import type { Arch } from '../../scaleway/index.js';
import type { EventType } from '../../store/index.js';
import { BuildError, requireFact, type PhaseRuntime } from '../runtime.js';
import { buildTag, lineageTags } from '../tags.js';
import { trackedCreate, trackedDelete } from '../tracked.js';
import { answeredWait, answerStamps, waitFor } from '../waits.js';
import { imageExtraVolumes, waitBlockSnapshot } from './volumes.js';

/** A snapshot or an image as its create answers and its list shows it, as far as its result records it. */
interface ArtifactAnswer {
  id: string;
  name: string;
  tags?: readonly string[];
  state?: string;
  creation_date?: string | null;
  modification_date?: string | null;
}

/** The result's data of a snapshot or image create: what the answer said, for the wait after it. */
const artifactResult = (extra: Record<string, unknown>) => (a: ArtifactAnswer, how: 'answered' | 'reconciled') => ({
  name: a.name,
  ...extra,
  ...(how === 'answered' ? answerStamps(a) : {}),
});

/**
 * Waits for an instance snapshot or an image to be `available` — no look at all when its create's
 * answer said so already (Scaleway often creates them available); `error` fails the build.
 */
export async function waitAvailable<T extends { state: string; modification_date?: string | null }>(
  rt: PhaseRuntime,
  input: PhaseInput,
  signal: AbortSignal,
  o: { wait: 'snapshot' | 'image'; startedBy: EventType; what: string; look: () => Promise<T>; failed: (value: T) => string },
): Promise<void> {
  const wait = { wait: o.wait, startedBy: o.startedBy, what: o.what };
  if (await answeredWait(rt, input, { ...wait, doneState: 'available' })) return;
  await waitFor(rt, input, signal, {
    ...wait,
    changedAt: (v) => v.modification_date,
    check: async () => {
      const v = await o.look();
      if (v.state === 'available') return v;
      if (v.state === 'error') throw new BuildError(o.failed(v));
      return undefined;
    },
  });
}

export async function snapshotCreate(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec, buildId } = rt.deps;
  const volumeId = requireFact(input.facts, 'rootVolumeId', 'snapshot.create');
  // An SBS root is snapshotted through the Block API, an l_ssd one through the Instance API.
  const block = input.facts.rootVolumeApi === 'block';
  const api = block ? { api: 'block' } : {};
  const created = await trackedCreate<ArtifactAnswer>(rt, input, signal, {
    phase: 'snapshot.create',
    intent: 'snapshot.create.requested',
    result: 'snapshot.created',
    idKey: 'snapshotId',
    name: spec.snapshotName,
    request: { volumeId, ...api },
    create: (tags) =>
      block
        ? client.block.createSnapshot({ name: spec.snapshotName, volume_id: volumeId, tags }, { signal }).then((b) => ({ id: b.id, name: b.name, creation_date: b.created_at }))
        : client.createSnapshot({ name: spec.snapshotName, volume_id: volumeId, tags }, { signal }),
    list: () => {
      const filter = { tags: [buildTag(buildId)] };
      return block ? client.block.listSnapshots(filter, { signal }) : client.listSnapshots(filter, { signal });
    },
    resultData: artifactResult(api),
  });
  return { snapshotId: created.id };
}

export async function snapshotWait(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const snapshotId = requireFact(input.facts, 'snapshotId', 'snapshot.wait');
  if (input.facts.rootVolumeApi === 'block') {
    await waitBlockSnapshot(rt, input, snapshotId, signal, 'snapshot.created');
    await rt.record(input, 'snapshot.available', { snapshotId });
    return {};
  }
  await waitAvailable(rt, input, signal, {
    wait: 'snapshot',
    startedBy: 'snapshot.created',
    what: `snapshot ${snapshotId} to be available`,
    look: () => rt.deps.client.getSnapshot(snapshotId, { signal }),
    failed: (s) => `snapshot ${snapshotId} failed: ${s.error_details ?? 'state error'}`,
  });
  await rt.record(input, 'snapshot.available', { snapshotId });
  return {};
}

export async function imageCreate(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec, buildId } = rt.deps;
  const snapshotId = requireFact(input.facts, 'snapshotId', 'image.create');
  const arch = requireFact(input.facts, 'arch', 'image.create') as Arch;
  const extraVolumes = imageExtraVolumes(input.facts);
  const created = await trackedCreate<ArtifactAnswer>(rt, input, signal, {
    phase: 'image.create',
    intent: 'image.create.requested',
    result: 'image.created',
    idKey: 'imageId',
    name: spec.imageName,
    // Built from a checkpoint: its lineage (the checkpoint's key and image) in its tags.
    ...(input.facts.cacheKey ? { extraTags: lineageTags(String(input.facts.cacheKey), String(input.facts.cacheImageId)) } : {}),
    request: { snapshotId, arch, ...(extraVolumes ? { extraVolumes } : {}) },
    create: (tags) =>
      client.createImage(
        {
          name: spec.imageName,
          root_volume: snapshotId,
          ...(extraVolumes ? { extra_volumes: extraVolumes } : {}),
          arch,
          tags,
          ...(spec.bootType === 'bootscript' && spec.bootscript ? { default_bootscript: spec.bootscript } : {}),
        },
        { signal },
      ),
    list: () => client.listImages({ tags: [buildTag(buildId)] }, { signal }),
    resultData: artifactResult({}),
  });
  return { imageId: created.id };
}

export async function imageWait(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const imageId = requireFact(input.facts, 'imageId', 'image.wait');
  await waitAvailable(rt, input, signal, {
    wait: 'image',
    startedBy: 'image.created',
    what: `image ${imageId} to be available`,
    look: () => rt.deps.client.getImage(imageId, { signal }),
    failed: () => `image ${imageId} failed to become available`,
  });
  await rt.record(input, 'image.available', { imageId });
  return {};
}

/** Cleanup: deletes a snapshot (the root's, or an extra volume's: Block API); gone already is done. */
export async function deleteSnapshot(rt: PhaseRuntime, input: PhaseInput, snapshotId: string, api: 'block' | undefined, signal: AbortSignal): Promise<void> {
  const { client } = rt.deps;
  await trackedDelete(rt, input, {
    intent: 'snapshot.delete.requested',
    result: 'snapshot.deleted',
    item: { snapshotId, ...(api ? { api } : {}) },
    call: () => (api === 'block' ? client.block.deleteSnapshot(snapshotId, { signal }) : client.deleteSnapshot(snapshotId, { signal })),
  });
}

/** Cleanup: deletes the image; gone already is done. */
export async function deleteImage(rt: PhaseRuntime, input: PhaseInput, imageId: string, signal: AbortSignal): Promise<void> {
  await trackedDelete(rt, input, {
    intent: 'image.delete.requested',
    result: 'image.deleted',
    item: { imageId },
    call: () => rt.deps.client.deleteImage(imageId, { signal }),
  });
}
