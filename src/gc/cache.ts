// The build cache's side of gc (incremental builds): every checkpoint of the zones looked at — from
// the store's index and, by tag in the cloud, a teammate's too —, which live build uses it, and the
// plan of what `kiln cache rm` and `kiln gc --cache` remove. A checkpoint is its image and the
// snapshots it is made of (Instance or Block), all tagged `kiln-cache` and `kiln-cache-key=<key>`:
// they go together, the image first (it holds its snapshots), through gc's own removal (remove.ts).
import type { BlockSnapshot, Image, ScalewayClient, Snapshot } from '../scaleway/index.js';
import { pidAlive, thisProcess, type BuildStore, type CheckpointRecord } from '../store/index.js';
import { checkpointOf, checkpointListCacheKey } from '../engine/tags.js';
import { formatAge, leaseVerdict } from './classify.js';
import { GcDiscoveryError } from './errors.js';
import { buildIdOf, CACHE_TAG, type PlanItem } from './types.js';

/** One checkpoint as `kiln cache ls` shows it. */
export interface CacheEntry {
  key: string;
  zone: string;
  imageId: string | null;
  /** The image's state in the cloud; null when the image is not there (gone, or never made). */
  imageState: string | null;
  snapshots: { id: string; api?: 'block'; state?: string; name?: string }[];
  /** The build that made it. */
  buildId: string | null;
  templatePath: string | null;
  builderName: string | null;
  /** The state after this provisioner (0-based). */
  provisionerIndex: number | null;
  provisionerType: string | null;
  /** Epoch ms: when it became available (the store), else the image's or a snapshot's creation. */
  createdAt: number | undefined;
  sizeBytes: number | null;
  hits: number;
  /** What one hit saves: how long the provisioners it covers took. */
  reachMs: number | null;
  /** Where it was found: this store's index, the cloud's tags, or both. */
  foundIn: 'store' | 'cloud' | 'both';
  /** `available`: builds can start from it; `claimed`: a build is making it; `incomplete`: parts only (its image is gone). */
  status: 'available' | 'claimed' | 'incomplete';
  /** Live builds that started from it or are making it: never removed while they run. */
  usedBy: string[];
}

export type CacheStore = Pick<BuildStore, 'checkpoints' | 'listBuilds' | 'lastEvent' | 'clock'>;

const time = (date: string | null | undefined): number | undefined => {
  const ms = date ? Date.parse(date) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
};

/** What the cloud holds of one key in one zone. */
interface CloudParts {
  image?: Image;
  snapshots: (Snapshot | BlockSnapshot)[];
}

async function cloudParts(client: ScalewayClient, project: string | undefined): Promise<Map<string, CloudParts>> {
  const byKey = new Map<string, CloudParts>();
  const parts = (tags: readonly string[] | null | undefined) => {
    const key = checkpointOf(tags ?? [])?.key;
    if (!key) return undefined;
    let entry = byKey.get(key);
    if (!entry) byKey.set(key, (entry = { snapshots: [] }));
    return entry;
  };
  try {
    for (const image of await client.listImages({ tags: [CACHE_TAG], ...(project ? { project } : {}) })) {
      const p = parts(image.tags);
      if (p) p.image = image;
    }
    for (const s of await client.listSnapshots({ tags: [CACHE_TAG], ...(project ? { project } : {}) })) parts(s.tags)?.snapshots.push(s);
    for (const s of await client.block.listSnapshots({ tags: [CACHE_TAG], ...(project ? { project_id: project } : {}) })) parts(s.tags)?.snapshots.push(s);
  } catch (error) {
    throw new GcDiscoveryError(client.zone, error);
  }
  return byKey;
}

/** Live builds (a lease that still protects them) and the checkpoint keys each uses: the one it started from, the ones it makes. */
export async function keysInUse(store: CacheStore): Promise<Map<string, string[]>> {
  const now = Date.now();
  const ctx = { now, leaseNow: await store.clock(), pidSpace: thisProcess().pidSpace, pidAlive };
  const used = new Map<string, string[]>();
  const use = (key: unknown, buildId: string) => {
    if (typeof key !== 'string' || !key) return;
    used.set(key, [...new Set([...(used.get(key) ?? []), buildId])]);
  };
  for (const build of await store.listBuilds({ status: 'running' })) {
    if (!build.lease || !leaseVerdict(build.lease, ctx).alive) continue;
    const checked = (await store.lastEvent(build.id, 'cache.checked'))?.data;
    if (!checked) continue;
    use((checked.hit as { key?: unknown } | undefined)?.key, build.id);
    const keys = Array.isArray(checked.keys) ? checked.keys : [];
    const after = Array.isArray(checked.checkpointAfter) ? checked.checkpointAfter : [];
    for (const index of after) if (typeof index === 'number') use(keys[index], build.id);
  }
  return used;
}

/**
 * Every checkpoint of the zones asked for: the store's rows for this API, joined by key with the
 * images and snapshots tagged `kiln-cache` in each zone (a teammate's have no row here).
 */
export async function surveyCache(store: CacheStore, clients: Map<string, ScalewayClient>, apiUrl: string, projectId?: string): Promise<CacheEntry[]> {
  const rows = (await store.checkpoints()).filter((c) => c.apiUrl === apiUrl && clients.has(c.zone));
  const inUse = await keysInUse(store);
  const entries: CacheEntry[] = [];
  for (const [zone, client] of clients) {
    const cloud = await cloudParts(client, projectId);
    const known = new Map(rows.filter((r) => r.zone === zone).map((r) => [r.key, r]));
    for (const key of new Set([...known.keys(), ...cloud.keys()])) entries.push(entryOf(key, zone, known.get(key), cloud.get(key), inUse.get(key) ?? []));
  }
  // Newest first, as `kiln ls` lists builds.
  return entries.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0) || a.key.localeCompare(b.key));
}

function entryOf(key: string, zone: string, row: CheckpointRecord | undefined, cloud: CloudParts | undefined, usedBy: string[]): CacheEntry {
  const image = cloud?.image;
  const tagged = image ? checkpointOf(image.tags ?? []) : undefined;
  const snapshots = new Map<string, CacheEntry['snapshots'][number]>();
  for (const s of row?.snapshots ?? []) snapshots.set(s.id, { ...s });
  for (const s of cloud?.snapshots ?? []) {
    const block = 'status' in s;
    snapshots.set(s.id, { id: s.id, name: s.name, ...(block ? { api: 'block' as const } : {}), state: block ? (s as BlockSnapshot).status : (s as Snapshot).state });
  }
  const cloudSize = (cloud?.snapshots ?? []).reduce((sum, s) => sum + Number(s.size ?? 0), 0);
  const firstCreated = [image?.creation_date, ...(cloud?.snapshots ?? []).map((s) => ('created_at' in s ? s.created_at : (s as Snapshot).creation_date))]
    .map(time)
    .filter((t): t is number => t !== undefined);
  const madeBy = row?.buildId || buildIdOf(image?.tags ?? cloud?.snapshots[0]?.tags ?? []) || null;
  const status: CacheEntry['status'] = image ? (row?.status === 'claimed' ? 'claimed' : 'available') : row?.status === 'claimed' ? 'claimed' : 'incomplete';
  return {
    key,
    zone,
    imageId: image?.id ?? row?.imageId ?? null,
    imageState: image?.state ?? null,
    snapshots: [...snapshots.values()],
    buildId: madeBy,
    templatePath: row?.templatePath || null,
    builderName: row?.builderName || null,
    provisionerIndex: row?.provisionerIndex ?? tagged?.provisionerIndex ?? null,
    provisionerType: row?.provisionerType || null,
    createdAt: time(row?.createdAt) ?? (firstCreated.length > 0 ? Math.min(...firstCreated) : time(row?.claimedAt)),
    sizeBytes: row?.sizeBytes ?? (cloudSize > 0 ? cloudSize : null),
    hits: row?.hits ?? 0,
    reachMs: row?.reachMs ?? tagged?.reachMs ?? null,
    foundIn: row && cloud ? 'both' : row ? 'store' : 'cloud',
    status,
    usedBy,
  };
}

/** What is to be done with one checkpoint, and why. */
export interface CacheVerdict {
  entry: CacheEntry;
  remove: boolean;
  reason: string;
}

/** Why a checkpoint may not go, whatever was asked: a live build uses it. */
function protectedReason(entry: CacheEntry): string | undefined {
  if (entry.usedBy.length > 0) return `in use by live build ${entry.usedBy.join(', ')}: never removed while it runs`;
  return undefined;
}

/**
 * `kiln cache rm <key|image-id…>`: the checkpoints named by full key, a key's first characters (at
 * least 8, as `kiln cache ls` shows 12) or their image id. Returns the verdicts and the names that
 * matched nothing (or several).
 */
export function selectCheckpoints(entries: readonly CacheEntry[], names: readonly string[]): { verdicts: CacheVerdict[]; problems: string[] } {
  const chosen = new Map<CacheEntry, string>();
  const problems: string[] = [];
  for (const name of names) {
    const matches = entries.filter((e) => e.key === name || e.imageId === name || (name.length >= 8 && e.key.startsWith(name)));
    if (matches.length === 0) problems.push(`"${name}" names no checkpoint: give a key (at least its first 8 characters) or an image id from \`kiln cache ls\``);
    else if (matches.length > 1 && !matches.every((m) => m.key === matches[0]!.key))
      problems.push(`"${name}" matches several checkpoints (${matches.map((m) => m.key.slice(0, 12)).join(', ')}): give more of the key`);
    else for (const m of matches) chosen.set(m, name);
  }
  const verdicts = [...chosen.keys()].map((entry) => {
    const kept = protectedReason(entry);
    return kept ? { entry, remove: false, reason: kept } : { entry, remove: true, reason: `named: ${chosen.get(entry)}` };
  });
  return { verdicts, problems };
}

/** The group `--keep` counts in: one template's builder at one provisioner (null: not this store's, never counted). */
export function keepGroup(entry: CacheEntry): string | null {
  if (!entry.templatePath || !entry.builderName || entry.provisionerIndex === null) return null;
  return `${entry.zone}\n${entry.templatePath}\n${entry.builderName}\n${entry.provisionerIndex}`;
}

/**
 * `kiln gc --cache`: the checkpoints older than `olderThanMs`, except the `keep` newest available
 * ones of each template's builder at each provisioner (keepGroup), and any a live build uses or is
 * making. One a dead build left unfinished (claimed, or its image gone) is judged by age alone.
 */
export function judgeCache(entries: readonly CacheEntry[], o: { now: number; olderThanMs: number; keep?: number }): CacheVerdict[] {
  const seen = new Map<string, number>();
  // Newest first: the first `keep` of each group are the ones kept.
  const sorted = [...entries].sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
  return sorted.map((entry) => {
    const kept = protectedReason(entry);
    if (kept) return { entry, remove: false, reason: kept };
    const group = entry.status === 'available' ? keepGroup(entry) : null;
    if (o.keep !== undefined && group !== null) {
      const rank = (seen.get(group) ?? 0) + 1;
      seen.set(group, rank);
      if (rank <= o.keep) return { entry, remove: false, reason: `one of the ${o.keep} newest of its template at provisioner ${entry.provisionerIndex} (--keep ${o.keep})` };
    }
    if (o.olderThanMs > 0) {
      if (entry.createdAt === undefined) return { entry, remove: false, reason: 'its age is unknown: kept unless --older-than 0' };
      if (o.now - entry.createdAt < o.olderThanMs) return { entry, remove: false, reason: `younger than --older-than ${formatAge(o.olderThanMs)}` };
    }
    const older = `older than --older-than ${formatAge(o.olderThanMs)}`;
    const beyond = group !== null ? `beyond the ${o.keep} newest of its template at provisioner ${entry.provisionerIndex} (--keep ${o.keep})` : 'not of a template this store knows (--keep counts only those)';
    // A claim no live build holds (a live maker is in usedBy): its build died making it.
    const unfinished = entry.status === 'claimed' ? `never finished: build ${entry.buildId ?? '?'} is not running` : undefined;
    const why = entry.status === 'incomplete' ? 'incomplete (its image is gone): its snapshots are of no use' : (unfinished ?? (o.keep !== undefined ? beyond : older));
    return { entry, remove: true, reason: o.keep !== undefined && o.olderThanMs > 0 ? `${why}, and ${older}` : why };
  });
}

/** The plan rows of a checkpoint: its image, then its snapshots (remove.ts deletes images before snapshots). */
export function cachePlanItems(verdict: CacheVerdict): PlanItem[] {
  const { entry } = verdict;
  const base = { zone: entry.zone, buildId: entry.buildId ?? undefined, createdAt: entry.createdAt, action: verdict.remove ? ('delete' as const) : ('keep' as const), reason: verdict.reason };
  const name = `kiln-cache-${entry.key.slice(0, 12)}`;
  return [
    ...(entry.imageId && entry.imageState !== null ? [{ ...base, type: 'image' as const, id: entry.imageId, name, state: entry.imageState }] : []),
    ...entry.snapshots.map((s) => ({ ...base, type: 'snapshot' as const, id: s.id, name: s.name ?? '', state: s.state ?? 'unknown', ...(s.api ? { api: s.api } : {}) })),
  ];
}

/** The store's answer cache of the cloud's checkpoint list, for these zones: forgotten once a checkpoint is removed. */
export const cloudListKeys = (apiUrl: string, zones: Iterable<string>): string[] => [...zones].map((zone) => checkpointListCacheKey(apiUrl, zone));
