// The build cache's lookup (incremental builds), made by the prepare phase once the source image is
// resolved: the keys of the server's disk after each provisioner (src/template/cache-key.ts), the
// deepest checkpoint that matches — in the store, then by tag in the cloud, so that a runner with
// an empty store finds a teammate's —, why each deeper one missed, and where this build makes
// checkpoints (flags, else history: cache-placement.ts). Recorded as `cache.checked`; what the
// machine needs goes on as facts (`provisionFrom`, `cacheImageId`, `checkpointKeys`). A cache
// problem never fails a build: whatever goes wrong here is recorded, and the build runs in full.
import type { BuildFacts, PhaseInput } from '../../machines/build.machine.js';
import { NotFoundError, predictWait, sizeClassOf, type Image } from '../scaleway/index.js';
import type { CheckpointRecord } from '../store/index.js';
import type { CacheSettings } from './cache-settings.js';
import { cacheSteps, changedInputs, manifestUpTo, type CacheStep, type ResolvedSource } from '../template/cache-key.js';
import { placeCheckpoints } from './cache-placement.js';
import { cachedAnswer, type PhaseRuntime } from './runtime.js';
import { CACHE_TAG, checkpointListCacheKey, checkpointOf } from './tags.js';

/** How long the list of checkpoint images in the cloud is taken from the store's answer cache. */
const CLOUD_LIST_TTL_MS = 10 * 60_000;

/** A checkpoint's cost when neither past checkpoints nor the waits say (stop, snapshots, image, boot, reconnect). */
const DEFAULT_CHECKPOINT_COST_MS = 60_000;
/** What a checkpoint adds to its waits: API calls, the key's removal, the reconnection. */
const CHECKPOINT_EXTRA_MS = 3_000;

/** The keys of this build's disk after each provisioner (the store's secret keys the inputs holding a secret). */
export async function cacheStepsOf(rt: PhaseRuntime, source: ResolvedSource): Promise<CacheStep[]> {
  const storeSecret = await rt.deps.log.read((store) => store.cacheSecret());
  return cacheSteps(rt.deps.spec, source, { storeSecret });
}

/** The source a build's keys start from, from prepare's facts. */
export function resolvedSource(facts: BuildFacts): ResolvedSource {
  return { imageId: String(facts.sourceImageId ?? ''), arch: String(facts.arch ?? ''), rootVolumeType: String(facts.rootVolumeType ?? '') };
}

/** One boundary's verdict, for `--explain-cache` and `kiln show`. */
export interface BoundaryVerdict {
  /** After this provisioner (0-based). */
  index: number;
  outcome: 'hit' | 'covered' | 'miss';
  reason: string;
}

/** A checkpoint the build could start from: the store's record, or what the cloud's tags say. */
interface Candidate {
  key: string;
  imageId: string;
  buildId: string | undefined;
  createdAt: string | null;
  reachMs: number | null;
  /** The cloud's answer, when it came from the listing (no look needed). */
  image?: Image;
  record?: CheckpointRecord;
}

/**
 * Prepare's part: the keys, the hit, the misses' reasons and where to make checkpoints, recorded
 * as `cache.checked`; the facts the machine and the later phases need.
 */
export async function checkCache(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal, source: ResolvedSource): Promise<BuildFacts> {
  const { spec, cache } = rt.deps;
  // Checkpoints need a server to log into, and two provisioners at least (none is made after the last).
  if (!cache || cache.mode === 'off' || spec.communicator.type !== 'ssh' || spec.provisioners.length < 2) return {};
  try {
    return await lookUp(rt, input, signal, source, cache);
  } catch (error) {
    if (signal.aborted) throw error;
    await rt.record(input, 'cache.checked', { error: (error as Error).message, mode: cache.mode });
    return {};
  }
}

async function lookUp(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal, source: ResolvedSource, cache: CacheSettings): Promise<BuildFacts> {
  const { spec, client, buildId } = rt.deps;
  const steps = await cacheStepsOf(rt, source);
  const keys = steps.map((s) => s.key);
  const boundaries = steps.slice(0, -1);
  const known = (await rt.deps.log.read((store) => store.checkpoints())).filter((c) => c.apiUrl === spec.apiUrl && c.zone === spec.zone);
  const candidates = new Map<string, Candidate>();
  for (const c of known) {
    if (c.status === 'available' && c.imageId && keys.includes(c.key)) {
      candidates.set(c.key, { key: c.key, imageId: c.imageId, buildId: c.buildId, createdAt: c.createdAt, reachMs: c.reachMs, record: c });
    }
  }
  // Not in the store: a teammate's, by tag in the cloud (listed once a while, through the answer cache).
  if (boundaries.every((s) => !candidates.has(s.key))) {
    const listed = (await cachedAnswer(rt, checkpointListCacheKey(spec.apiUrl, client.zone), () => client.listImages({ tags: [CACHE_TAG] }, { signal }), CLOUD_LIST_TTL_MS)).value;
    for (const image of listed) {
      const tagged = checkpointOf(image.tags ?? []);
      if (!tagged || !keys.includes(tagged.key) || candidates.has(tagged.key)) continue;
      const madeBy = (image.tags ?? []).find((t) => t.startsWith('kiln-build='))?.slice('kiln-build='.length);
      candidates.set(tagged.key, { key: tagged.key, imageId: image.id, buildId: madeBy, createdAt: image.creation_date, reachMs: tagged.reachMs ?? null, image });
    }
  }

  // The deepest checkpoint that is there, available and young enough.
  const verdicts: BoundaryVerdict[] = [];
  let hit: { index: number; candidate: Candidate } | undefined;
  const now = Date.now();
  for (let i = boundaries.length - 1; i >= 0 && !hit; i--) {
    const candidate = candidates.get(boundaries[i]!.key);
    if (!candidate) {
      verdicts.push({ index: i, outcome: 'miss', reason: whyNoCheckpoint(steps, i, known, spec.name) });
      continue;
    }
    const age = candidate.createdAt ? now - Date.parse(candidate.createdAt) : 0;
    if (age > cache.maxAgeMs) {
      verdicts.push({ index: i, outcome: 'miss', reason: `checkpoint ${candidate.imageId} was made ${candidate.createdAt}, more than --cache-max-age ago` });
      continue;
    }
    let image = candidate.image;
    if (!image) {
      try {
        image = await client.getImage(candidate.imageId, { signal });
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        verdicts.push({ index: i, outcome: 'miss', reason: `checkpoint ${candidate.imageId}${candidate.buildId ? ` of build ${candidate.buildId}` : ''} is gone (deleted outside kiln?)` });
        await rt.deps.log.read((store) => store.dropCheckpoint(candidate.key));
        continue;
      }
    }
    if (image.state !== 'available') {
      verdicts.push({ index: i, outcome: 'miss', reason: `checkpoint ${candidate.imageId} is ${image.state}, not available` });
      continue;
    }
    hit = { index: i, candidate };
    verdicts.push({ index: i, outcome: 'hit', reason: `from checkpoint ${candidate.imageId}` });
  }
  if (hit) for (let i = hit.index - 1; i >= 0; i--) verdicts.push({ index: i, outcome: 'covered', reason: `in checkpoint ${hit.candidate.imageId}` });
  verdicts.sort((a, b) => a.index - b.index);

  if (hit) {
    const { candidate, index } = hit;
    // A teammate's checkpoint joins this store's index, so that `kiln cache ls` and gc know it.
    if (!candidate.record) {
      await rt.deps.log.read((store) =>
        store.importCheckpoint(
          { key: candidate.key, buildId: candidate.buildId ?? '', apiUrl: spec.apiUrl, zone: spec.zone, templatePath: '', builderName: spec.name, provisionerIndex: index, provisionerType: spec.provisioners[index]!.type, manifest: manifestUpTo(steps, index) },
          { imageId: candidate.imageId, snapshots: [], sizeBytes: null, reachMs: candidate.reachMs, ...(candidate.createdAt ? { createdAt: candidate.createdAt } : {}) },
        ),
      );
    }
    await rt.deps.log.read((store) => store.recordCheckpointHit(candidate.key, buildId));
  }

  // Where this build makes checkpoints: the flags, else its history; never where it starts from or before.
  const placement = cache.mode === 'on' ? await place(rt, keys, source) : undefined;
  const wanted = new Set([...(cache.mode === 'on' ? cache.checkpointAfter : []), ...(placement?.positions ?? [])]);
  const checkpointKeys = boundaries.map((s, i) => (wanted.has(i) && (!hit || i > hit.index) && !candidates.has(s.key) ? s.key : ''));
  await rt.record(input, 'cache.checked', {
    mode: cache.mode,
    keys,
    zone: spec.zone,
    commercialType: spec.commercialType.toUpperCase(),
    verdicts,
    ...(hit
      ? {
          hit: {
            index: hit.index,
            key: hit.candidate.key,
            imageId: hit.candidate.imageId,
            madeBy: hit.candidate.buildId ?? null,
            madeAt: hit.candidate.createdAt,
            savesMs: hit.candidate.reachMs,
          },
        }
      : {}),
    checkpointAfter: checkpointKeys.flatMap((k, i) => (k ? [i] : [])),
    ...(placement ? { placement: { fromHistory: placement.positions, costMs: Math.round(placement.costMs), costLearnt: placement.costLearnt } } : {}),
  });
  return {
    checkpointKeys,
    ...(hit
      ? { provisionFrom: hit.index + 1, cacheImageId: hit.candidate.imageId, cacheKey: hit.candidate.key, ...(hit.candidate.reachMs !== null ? { cacheReachMs: hit.candidate.reachMs } : {}) }
      : {}),
  };
}

/** Why no checkpoint holds the state after provisioner `index`: what changed since the nearest one of this builder there. */
function whyNoCheckpoint(steps: readonly CacheStep[], index: number, known: readonly CheckpointRecord[], builderName: string): string {
  const nearest = known.find((c) => c.builderName === builderName && c.provisionerIndex === index && c.manifest.length > 0);
  if (!nearest) return `no checkpoint of this state, nor of this builder after provisioner ${index}`;
  const changed = changedInputs(manifestUpTo(steps, index), nearest.manifest);
  return changed.length === 0
    ? `no checkpoint of this state (checkpoint ${nearest.key.slice(0, 12)} has the same inputs but is ${nearest.status})`
    : `no checkpoint of this state; since checkpoint ${nearest.key.slice(0, 12)} (build ${nearest.buildId}) changed: ${changed.join(', ')}`;
}

/** Where history says checkpoints pay (cache-placement.ts), with the waits' predictions as the fallback cost. */
async function place(rt: PhaseRuntime, keys: readonly string[], source: ResolvedSource) {
  const { spec } = rt.deps;
  const history = await rt.deps.log.read((store) => store.cacheHistory());
  const waits = await rt.waitHistory();
  const base = { zone: spec.zone, commercialType: spec.commercialType.toUpperCase(), volumeType: source.rootVolumeType, sizeClass: sizeClassOf(spec.rootVolume.sizeGb ? spec.rootVolume.sizeGb * 1e9 : undefined) };
  const expected = ['server.stop', 'snapshot', 'image', 'server.boot'].map((wait) => predictWait(waits, { ...base, wait })?.expectedMs);
  const fallbackCostMs = expected.every((ms) => ms !== undefined) ? expected.reduce((a, b) => a! + b!, 0)! + CHECKPOINT_EXTRA_MS : DEFAULT_CHECKPOINT_COST_MS;
  return placeCheckpoints({ keys, history, here: { zone: spec.zone, commercialType: spec.commercialType.toUpperCase() }, fallbackCostMs });
}
