// gc's side of the local store: what it reads about builds (status, artifact, lease), the
// `gc_runs` log (migrations/0010_gc.sql), and the `cleaned` status of builds whose leftovers
// are all gone.
import { hostname } from 'node:os';
import type { BuildRecord, BuildStore } from '../store/index.js';
import type { GcBuild, ItemResult, PlanItem } from './types.js';

/** gc's own build status: every resource the build left behind has been removed. */
export const CLEANED_STATUS = 'cleaned';

/**
 * The store's builds as gc sees them, each read once per run. The plan asks synchronously, so the
 * builds of each page of resources are read (`preload`) before the page is planned.
 */
export class BuildLookup {
  private readonly seen = new Map<string, GcBuild | undefined>();

  constructor(private readonly store: Pick<BuildStore, 'getBuild'>) {}

  async preload(ids: Iterable<string | undefined>): Promise<void> {
    for (const id of ids) {
      if (id !== undefined && !this.seen.has(id)) this.seen.set(id, gcBuildOf(await this.store.getBuild(id)));
    }
  }

  /** A preloaded build (undefined: the store has no such build). */
  readonly get = (id: string): GcBuild | undefined => {
    // Not read is not "unknown": taking it for unknown could delete a live build's resources.
    if (!this.seen.has(id)) throw new Error(`internal: gc asked for build ${id} before reading it from the store`);
    return this.seen.get(id);
  };
}

function gcBuildOf(record: BuildRecord | undefined): GcBuild | undefined {
  return (
    record && {
      id: record.id,
      status: record.status,
      hasArtifact: record.artifact !== null,
      lease: record.lease,
      updatedAt: Date.parse(record.updatedAt),
      keptIds: [record.resources.server, ...(record.resources.volumes ?? [])].filter((r) => r?.kept).map((r) => r!.id),
    }
  );
}

/** The zone a build ran in, from its (redacted) spec. */
export function buildZone(record: BuildRecord | undefined): string | undefined {
  const spec = record?.spec;
  const zone = typeof spec === 'object' && spec !== null ? (spec as { zone?: unknown }).zone : undefined;
  return typeof zone === 'string' ? zone : undefined;
}

export interface RunStart {
  dryRun: boolean;
  zones: readonly string[];
  olderThanMs: number;
  buildFilter: string | undefined;
}

export interface RunEnd {
  items: readonly PlanItem[];
  results: readonly (ItemResult | undefined)[];
  cleanedBuilds: readonly string[];
  exitCode: number;
}

/** Inserts the run's row as it starts (a row never finished is a run that was killed). */
export async function recordRunStart(store: BuildStore, run: RunStart): Promise<number> {
  return store.startGcRun({ ...run, host: hostname(), pid: process.pid });
}

export async function recordRunEnd(store: BuildStore, runId: number, run: RunEnd): Promise<void> {
  const found = run.items.map((i) => ({ type: i.type, id: i.id, name: i.name, zone: i.zone, build: i.buildId ?? null, action: i.action, reason: i.reason }));
  const removed: object[] = [];
  const notRemoved: object[] = [];
  run.items.forEach((item, index) => {
    const result = run.results[index];
    if (!result) return;
    const ref = { type: item.type, id: item.id, zone: item.zone, build: item.buildId ?? null };
    if (result.status === 'removed') removed.push(ref);
    else notRemoved.push({ ...ref, status: result.status, reason: result.reason ?? null });
  });
  await store.finishGcRun(runId, { found, removed, notRemoved, cleanedBuilds: run.cleanedBuilds, exitCode: run.exitCode });
}

/**
 * The builds this run finished cleaning: known to the store, not succeeded (an artifact stays
 * the user's), run in a zone this run scanned, and every one of their resources found was removed.
 */
export async function buildsNowClean(
  store: BuildStore,
  items: readonly PlanItem[],
  results: readonly (ItemResult | undefined)[],
  scannedZones: readonly string[],
): Promise<string[]> {
  const complete = new Map<string, boolean>();
  items.forEach((item, index) => {
    if (item.buildId === undefined) return;
    const removed = results[index]?.status === 'removed';
    complete.set(item.buildId, (complete.get(item.buildId) ?? true) && removed);
  });
  const clean: string[] = [];
  for (const [id, allRemoved] of complete) {
    if (!allRemoved) continue;
    const record = await store.getBuild(id);
    if (!record || record.status === 'succeeded' || record.artifact !== null) continue;
    const zone = buildZone(record);
    if (zone === undefined || scannedZones.includes(zone)) clean.push(id);
  }
  return clean;
}

/** Marks builds `cleaned`. Not an event: the event catalogue has no such type (see report). */
export async function markCleaned(store: BuildStore, buildIds: readonly string[]): Promise<void> {
  // Through the event log, like every other status change: `kiln show` tells who cleaned it.
  for (const id of buildIds) {
    if ((await store.getBuild(id))?.status === 'succeeded') continue;
    await store.append(id, { type: 'build.cleaned', data: { by: 'gc' } });
  }
}
