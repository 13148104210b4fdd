// gc's side of the local store: what it reads about builds (status, artifact, lease), the
// `gc_runs` log (migrations/0010_gc.sql), and the `cleaned` status of builds whose leftovers
// are all gone.
import { hostname } from 'node:os';
import type { EventStore } from '../store/index.js';
import type { GcBuild, ItemResult, PlanItem } from './types.js';

/** gc's own build status: every resource the build left behind has been removed. */
export const CLEANED_STATUS = 'cleaned';

/** The store's builds as gc sees them, each read once per run. */
export function buildLookup(store: EventStore): (id: string) => GcBuild | undefined {
  const seen = new Map<string, GcBuild | undefined>();
  return (id) => {
    if (!seen.has(id)) {
      const record = store.getBuild(id);
      seen.set(
        id,
        record && {
          id: record.id,
          status: record.status,
          hasArtifact: record.artifact !== null,
          lease: record.lease,
          updatedAt: Date.parse(record.updatedAt),
          keptIds: [record.resources.server, ...(record.resources.volumes ?? [])].filter((r) => r?.kept).map((r) => r!.id),
        },
      );
    }
    return seen.get(id);
  };
}

/** The zone a build ran in, from its (redacted) spec. */
export function buildZone(store: EventStore, id: string): string | undefined {
  const spec = store.getBuild(id)?.spec;
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
export function recordRunStart(store: EventStore, run: RunStart): number {
  return store.startGcRun({ ...run, host: hostname(), pid: process.pid });
}

export function recordRunEnd(store: EventStore, runId: number, run: RunEnd): void {
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
  store.finishGcRun(runId, { found, removed, notRemoved, cleanedBuilds: run.cleanedBuilds, exitCode: run.exitCode });
}

/**
 * The builds this run finished cleaning: known to the store, not succeeded (an artifact stays
 * the user's), run in a zone this run scanned, and every one of their resources found was removed.
 */
export function buildsNowClean(
  store: EventStore,
  items: readonly PlanItem[],
  results: readonly (ItemResult | undefined)[],
  scannedZones: readonly string[],
): string[] {
  const complete = new Map<string, boolean>();
  items.forEach((item, index) => {
    if (item.buildId === undefined) return;
    const removed = results[index]?.status === 'removed';
    complete.set(item.buildId, (complete.get(item.buildId) ?? true) && removed);
  });
  return [...complete]
    .filter(([id, allRemoved]) => {
      if (!allRemoved) return false;
      const record = store.getBuild(id);
      if (!record || record.status === 'succeeded' || record.artifact !== null) return false;
      const zone = buildZone(store, id);
      return zone === undefined || scannedZones.includes(zone);
    })
    .map(([id]) => id);
}

/** Marks builds `cleaned`. Not an event: the event catalogue has no such type (see report). */
export function markCleaned(store: EventStore, buildIds: readonly string[]): void {
  // Through the event log, like every other status change: `kiln show` tells who cleaned it.
  for (const id of buildIds) {
    if (store.getBuild(id)?.status === 'succeeded') continue;
    store.append(id, { type: 'build.cleaned', data: { by: 'gc' } });
  }
}
