// The checkpoint phase (incremental builds): between two provisioners, an image of the build
// server's volumes under the cache key of the state they hold, then the build goes on. In order:
// 1. claim the key in the store — of parallel builds reaching one key, one makes the checkpoint,
//    the others go on without stopping (`checkpoint.skipped`);
// 2. wait for cloud-init to finish the user data, so that the checkpoint holds all of its effects
//    (a server made from the checkpoint gets no user data: it would run it a second time);
// 3. take the temporary SSH key out of authorized_keys (no server made from the checkpoint may
//    let it in), power off, snapshot each volume through its API, make an image, wait for it;
// 4. record it (store, `checkpoint.made`); power on, wait, reconnect — the boot puts the server's
//    tag key back (authorized_keys), as on Scaleway — and provisioning goes on.
// Every create goes through tracked.ts (item: the key), every wait through waits.ts. A cache
// problem never fails the build: a checkpoint that cannot be made is given up
// (`checkpoint.skipped`, givenUp), what was made of it removed, and the build goes on; only a server
// that cannot be stopped or started again fails it, as server.stop or server.start would.
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { isRetryable, type BlockSnapshot, type Image, type Snapshot } from '../../scaleway/index.js';
import { leaseIsLive, type BuildEvent, type CheckpointSnapshot } from '../../store/index.js';
import { manifestUpTo } from '../../template/cache-key.js';
import { cacheStepsOf, resolvedSource } from '../cache.js';
import { BuildError, nonEmpty, requireFact, type PhaseRuntime } from '../runtime.js';
import { buildTag, cacheKeyTag, checkpointTags } from '../tags.js';
import { trackedCreate } from '../tracked.js';
import { answerStamps } from '../waits.js';
import { deleteImage, deleteSnapshot, waitAvailable } from './artifact.js';
import { userDataWait } from './machine.js';
import { optionalPhasesOf } from './optional.js';
import { getServerOrMissing, serverStart, serverStop, serverWaitRunning, serverWaitStopped } from './server.js';
import { clearTemporaryKey, ensureCommunicator } from './ssh.js';
import { waitBlockSnapshot } from './volumes.js';

/** Transient failures of one checkpoint retried before it is given up (the build goes on without it). */
const CHECKPOINT_ATTEMPTS = 4;

/** The key of the checkpoint after provisioner `index`, from the facts prepare handed on. */
function keyAt(input: PhaseInput): string {
  const keys = input.facts.checkpointKeys;
  const key = Array.isArray(keys) ? keys[input.provisionerIndex] : undefined;
  if (!key) throw new BuildError(`internal: no checkpoint key for provisioner ${input.provisionerIndex}`);
  return key;
}

/** The checkpoint's snapshot of one volume: through the Block API for an SBS one, the Instance API for l_ssd. */
interface VolumeToSnapshot {
  volumeId: string;
  slot: number;
  api: 'block' | undefined;
}

export async function checkpoint(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const key = keyAt(input);
  // A checkpoint not made records why (`checkpoint.skipped`): before anything was done (another
  // build makes it, …: the build just goes on), or given up part-way (`givenUp`: what was made
  // of it is removed, and the server brought back).
  const skipped = async () => (await rt.events()).find((e) => e.type === 'checkpoint.skipped' && e.data.key === key);
  const made = async () => (await rt.events()).some((e) => e.type === 'checkpoint.made' && e.data.key === key);
  let skip = await skipped();
  if (!skip && !(await made())) {
    const why = await claim(rt, input, key);
    if (why) {
      await rt.record(input, 'checkpoint.skipped', { key, index: input.provisionerIndex, reason: why });
      return {};
    }
    try {
      await makeCheckpoint(rt, input, signal, key);
    } catch (error) {
      if (signal.aborted) throw error;
      // A transient failure (5xx, a reset) is tried again a few times, as any phase's; then, or on
      // any other failure, the checkpoint is given up and the build goes on.
      if (isRetryable(error) && input.attempt < CHECKPOINT_ATTEMPTS) throw error;
      await rt.record(input, 'checkpoint.skipped', { key, index: input.provisionerIndex, reason: `given up: ${(error as Error).message}`, givenUp: true });
    }
    skip = await skipped();
  }
  if (skip && !skip.data.givenUp) return {};
  if (skip) await removeParts(rt, input, key, signal);
  const publicIp = await bringBack(rt, input, signal);
  return { publicIp, ...((await made()) ? { checkpointMade: key } : {}) };
}

/**
 * Claims the key for this build; returns why not when another build makes it (alive) or made it.
 * A claim left by a build that is gone is taken over. A store that refuses is a cache problem: no checkpoint.
 */
async function claim(rt: PhaseRuntime, input: PhaseInput, key: string): Promise<string | undefined> {
  const { buildId, spec } = rt.deps;
  const provisioner = spec.provisioners[input.provisionerIndex]!;
  try {
    // The key again, from the files as they are now: one changed since prepare made it (an edit
    // during the build) would put a disk under a key that does not describe it.
    const steps = await cacheStepsOf(rt, resolvedSource(input.facts));
    if (steps[input.provisionerIndex]?.key !== key) return 'a file the provisioners use changed during the build';
    const request = {
      key,
      buildId,
      apiUrl: spec.apiUrl,
      zone: spec.zone,
      templatePath: (await rt.build())?.templatePath ?? '',
      builderName: spec.name,
      provisionerIndex: input.provisionerIndex,
      provisionerType: provisioner.type,
      manifest: manifestUpTo(steps, input.provisionerIndex),
    };
    let row = await rt.deps.log.read((store) => store.claimCheckpoint(request));
    if (row.status === 'claimed' && row.buildId !== buildId) {
      const holder = await rt.deps.log.read((store) => store.getBuild(row.buildId));
      const now = await rt.deps.log.read((store) => store.clock());
      if (holder && holder.status === 'running' && leaseIsLive(holder.lease, now)) return `build ${row.buildId} is making it`;
      row = await rt.deps.log.read((store) => store.claimCheckpoint(request, row.buildId));
    }
    if (row.status === 'available') return `it exists already (image ${row.imageId}, made by build ${row.buildId})`;
    return row.buildId === buildId ? undefined : `build ${row.buildId} is making it`;
  } catch (error) {
    return `the store could not record it (${(error as Error).message})`;
  }
}

/** Steps 2–4 up to the record: idempotent, each step skipped once its result is in the log. */
async function makeCheckpoint(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal, key: string): Promise<void> {
  const { spec, buildId, client } = rt.deps;
  const serverId = requireFact(input.facts, 'serverId', 'checkpoint');
  const state = (await getServerOrMissing(rt, input, serverId, signal)).state;
  if (state === 'running') {
    // The user data's effects, whole, in the checkpoint (user_data.wait then finds it done).
    if (optionalPhasesOf(spec).includes('user_data.wait')) await userDataWait(rt, input, signal);
    await clearTemporaryKey(rt, input, signal, { key });
  }
  await serverStop(rt, input, signal);
  await serverWaitStopped(rt, input, signal);

  const reachMs = await timeToReach(rt, input);
  const tags = checkpointTags(key, input.provisionerIndex, reachMs);
  // Extra volumes first, the root last: its create's answer (instance snapshots answer `available`)
  // is then the latest, which the wait reads.
  const volumes: VolumeToSnapshot[] = [
    ...((input.facts.extraVolumeIds as string[] | undefined) ?? []).map((volumeId, i) => ({ volumeId, slot: i + 1, api: 'block' as const })),
    { volumeId: requireFact(input.facts, 'rootVolumeId', 'checkpoint'), slot: 0, api: input.facts.rootVolumeApi === 'block' ? ('block' as const) : undefined },
  ];
  const snapshots: (CheckpointSnapshot & { slot: number; size: number })[] = [];
  for (const volume of volumes) {
    const name = `kiln-cache-${key.slice(0, 12)}-${volume.slot}`;
    const created = await trackedCreate<(Snapshot | BlockSnapshot) & { size: number }>(rt, input, signal, {
      phase: 'checkpoint',
      intent: 'checkpoint.snapshot.requested',
      result: 'checkpoint.snapshot.created',
      item: { key, volumeId: volume.volumeId },
      idKey: 'snapshotId',
      name,
      extraTags: tags,
      request: { slot: volume.slot, ...(volume.api ? { api: volume.api } : {}) },
      create: (t) =>
        volume.api === 'block'
          ? client.block.createSnapshot({ name, volume_id: volume.volumeId, tags: t }, { signal })
          : client.createSnapshot({ name, volume_id: volume.volumeId, tags: t }, { signal }),
      list: () => (volume.api === 'block' ? client.block.listSnapshots({ tags: [buildTag(buildId)] }, { signal }) : client.listSnapshots({ tags: [buildTag(buildId)] }, { signal })),
      matches: (s) => (s.tags ?? []).includes(cacheKeyTag(key)) && ('parent_volume' in s ? s.parent_volume?.id : (s as Snapshot).base_volume?.id) === volume.volumeId,
      resultData: (s, how) => ({ slot: volume.slot, size: s.size, ...(volume.api ? { api: volume.api } : {}), ...(how === 'answered' && 'state' in s ? answerStamps(s) : {}) }),
    });
    const size = Number((await resultOf(rt, 'checkpoint.snapshot.created', { key, volumeId: volume.volumeId }))?.data.size ?? 0);
    snapshots.push({ id: created.id, slot: volume.slot, size, ...(volume.api ? { api: volume.api } : {}) });
  }
  for (const s of snapshots) {
    if (s.api === 'block') await waitBlockSnapshot(rt, input, s.id, signal, 'checkpoint.snapshot.created');
    else
      await waitAvailable(rt, input, signal, {
        wait: 'snapshot',
        startedBy: 'checkpoint.snapshot.created',
        what: `checkpoint snapshot ${s.id} to be available`,
        look: () => client.getSnapshot(s.id, { signal }),
        failed: (v) => `checkpoint snapshot ${s.id} failed: ${v.error_details ?? 'state error'}`,
      });
  }

  const root = snapshots.find((s) => s.slot === 0)!;
  const extras = snapshots.filter((s) => s.slot > 0);
  const arch = requireFact(input.facts, 'arch', 'checkpoint');
  const name = `kiln-cache-${key.slice(0, 12)}`;
  const image = await trackedCreate<Image>(rt, input, signal, {
    phase: 'checkpoint',
    intent: 'checkpoint.image.requested',
    result: 'checkpoint.image.created',
    item: { key },
    idKey: 'imageId',
    name,
    extraTags: tags,
    request: { snapshotId: root.id, arch },
    create: (t) =>
      client.createImage(
        {
          name,
          root_volume: root.id,
          ...(extras.length > 0 ? { extra_volumes: Object.fromEntries(extras.map((s) => [String(s.slot), { id: s.id }])) } : {}),
          arch: arch as Image['arch'],
          tags: t,
        },
        { signal },
      ),
    list: () => client.listImages({ tags: [buildTag(buildId)] }, { signal }),
    matches: (i) => (i.tags ?? []).includes(cacheKeyTag(key)),
    resultData: (i, how) => (how === 'answered' ? answerStamps(i) : {}),
  });
  await waitAvailable(rt, input, signal, {
    wait: 'image',
    startedBy: 'checkpoint.image.created',
    what: `checkpoint image ${image.id} to be available`,
    look: () => client.getImage(image.id, { signal }),
    failed: () => `checkpoint image ${image.id} failed to become available`,
  });

  const made = {
    imageId: image.id,
    snapshots: snapshots.map(({ id, api }) => ({ id, ...(api ? { api } : {}) })),
    sizeBytes: snapshots.reduce((sum, s) => sum + s.size, 0) || null,
    reachMs,
  };
  const recorded = await rt.deps.log.read((store) => store.completeCheckpoint(key, buildId, made));
  if (!recorded) throw new BuildError(`the store gave the checkpoint's key to another build meanwhile`);
  await rt.record(input, 'checkpoint.made', { key, index: input.provisionerIndex, ...made });
}

/** The latest result of `type` for this item (tracked.ts's notion of an item). */
async function resultOf(rt: PhaseRuntime, type: BuildEvent['type'], item: Record<string, string>): Promise<BuildEvent | undefined> {
  return (await rt.events()).filter((e) => e.type === type && Object.entries(item).every(([k, v]) => e.data[k] === v)).at(-1);
}

/**
 * How long the provisioners the checkpoint covers took in this build, plus what the checkpoint it
 * started from covered: what a build that starts here saves.
 */
async function timeToReach(rt: PhaseRuntime, input: PhaseInput): Promise<number | null> {
  const done = (await rt.events()).filter(
    (e) => e.type === 'phase.succeeded' && e.phase === 'provision' && typeof e.data.provisionerIndex === 'number' && e.data.provisionerIndex <= input.provisionerIndex,
  );
  if (done.length === 0) return null;
  const before = typeof input.facts.cacheReachMs === 'number' ? input.facts.cacheReachMs : 0;
  return before + done.reduce((sum, e) => sum + (Number(e.data.durationMs) || 0), 0);
}

/** A given-up checkpoint: its image and snapshots deleted (failing that, left to `kiln gc --cache`), its claim dropped. */
async function removeParts(rt: PhaseRuntime, input: PhaseInput, key: string, signal: AbortSignal): Promise<void> {
  const events = await rt.events();
  const deleted = new Set(events.filter((e) => e.type.endsWith('.deleted')).map((e) => String(e.data.imageId ?? e.data.snapshotId)));
  const made = events.filter((e) => e.data.key === key);
  try {
    for (const e of made.filter((x) => x.type === 'checkpoint.image.created' && !deleted.has(String(x.data.imageId)))) await deleteImage(rt, input, String(e.data.imageId), signal);
    for (const e of made.filter((x) => x.type === 'checkpoint.snapshot.created' && !deleted.has(String(x.data.snapshotId)))) {
      await deleteSnapshot(rt, input, String(e.data.snapshotId), e.data.api === 'block' ? 'block' : undefined, signal);
    }
  } catch (error) {
    if (signal.aborted) throw error;
  }
  await Promise.resolve(rt.deps.log.read((store) => store.dropCheckpoint(key, rt.deps.buildId))).catch(() => undefined);
}

/**
 * The server running again and connected, whatever the checkpoint got to: powered off and on if
 * its temporary key was taken out (the boot puts it back), on if it is stopped. Returns its address.
 */
async function bringBack(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<string> {
  const serverId = requireFact(input.facts, 'serverId', 'checkpoint');
  const state = (await getServerOrMissing(rt, input, serverId, signal)).state;
  const keyCleared = (await rt.last('key.cleared'))?.data.key === keyAt(input);
  if (state === 'running' && keyCleared && !(await poweredOffSince(rt, input))) {
    await serverStop(rt, input, signal);
    await serverWaitStopped(rt, input, signal);
  }
  await serverStart(rt, input, signal);
  const running = await serverWaitRunning(rt, input, signal);
  const publicIp = nonEmpty(running.publicIp) ?? requireFact(input.facts, 'publicIp', 'checkpoint');
  rt.closeCommunicator();
  await ensureCommunicator(rt, { ...input, facts: { ...input.facts, publicIp } }, signal, input.phaseDeadlineAt);
  return publicIp;
}

/** Whether this checkpoint phase powered the server off (its boot since then put the key back). */
async function poweredOffSince(rt: PhaseRuntime, input: PhaseInput): Promise<boolean> {
  const started = (await rt.events()).filter((e) => e.type === 'phase.started' && e.phase === 'checkpoint' && e.data.provisionerIndex === input.provisionerIndex)[0];
  return ((await rt.last('server.poweroff.accepted'))?.seq ?? 0) > (started?.seq ?? Number.POSITIVE_INFINITY);
}
