// `kiln gc`: finds the resources failed or killed builds left behind (cloud tags × local store)
// and, with --force, removes them. See DESIGN.md ("gc") and issue 7 for the rules.
import type { ScalewayClient } from '../scaleway/index.js';
import { LeaseHeldError, thisProcess, type BuildStore } from '../store/index.js';
import { buildsNowClean, markCleaned, recordRunEnd, recordRunStart } from './record.js';
import { DEFAULT_CONCURRENCY, DEFAULT_SERVER_STOP_TIMEOUT_MS, removePlan } from './remove.js';
import { planGc, zoneClients, type GcPlanOptions } from './survey.js';
import type { ItemResult, PlanItem } from './types.js';

export * from './types.js';
export { classifyResource, leaseVerdict, formatAge, type ClassifyContext, type Verdict } from './classify.js';
export { PlanBuilder, summarizePlan, type Plan, type PlanSummary } from './plan.js';
export { renderTable, renderSummary, formatColumns } from './render.js';
export { mapBounded } from './pool.js';
export { CLEANED_STATUS } from './record.js';
export { DEFAULT_CONCURRENCY, DEFAULT_SERVER_STOP_TIMEOUT_MS } from './remove.js';
export { describeError, GcDiscoveryError, GcUsageError } from './errors.js';
export { planGc, zoneClients, type GcPlanOptions, type GcPlanStore } from './survey.js';
export { surveyCache, selectCheckpoints, judgeCache, cachePlanItems, keepGroup, type CacheEntry, type CacheVerdict } from './cache.js';
export { removeCheckpoints, type CacheRemoval } from './cache-remove.js';

/** What `kiln gc` runs with: where to look and what counts as an orphan (GcPlanOptions), and what to do about them. */
export interface GcOptions extends Omit<GcPlanOptions, 'store'> {
  store: BuildStore;
/** Delete; without it, a dry run that changes nothing. */
  force: boolean;
  /** How long to wait for one server to stop (default 5 min); a server still `starting` after
   * a quarter of it (at most 30 s) is stopped in place. */
  serverStopTimeoutMs?: number;
  concurrency?: number;
  /** Removes a build's temporary SSH key pair once the build is cleaned. */
  removeKey?: (buildId: string) => void;
  /** Each deletion's result as it is known. */
  onResult?: (item: PlanItem, result: ItemResult) => void;
  /** The plan, once made and before any deletion (for progress output). */
  onPlanned?: (items: readonly PlanItem[]) => void;
  /** Aborted (a signal): finish the deletions in flight, start no more. */
  stop?: AbortSignal;
}

export interface GcReport {
  runId: number;
  dryRun: boolean;
  zones: readonly string[];
  olderThanMs: number;
  buildFilter: string | undefined;
  /** When the plan was made (epoch ms); ages in the table are relative to it. */
  now: number;
  items: PlanItem[];
  /** Parallel to `items`; empty in a dry run, undefined for kept items. */
  results: (ItemResult | undefined)[];
  untaggedIgnored: number;
  cleanedBuilds: string[];
  /** 0: everything planned was removed (or nothing to do, or a dry run); 1: some deletions failed. */
  exitCode: 0 | 1;
}

/** gc holds the lease of each build it cleans, so that a `kiln resume` cannot start meanwhile;
 * long enough for the slowest server stop, as gc does not renew it. */
const leaseTtlMs = (serverStopTimeoutMs: number) => serverStopTimeoutMs + 10 * 60_000;

export async function runGc(options: GcOptions): Promise<GcReport> {
  const { store } = options;
  const now = Date.now();
  const clients = zoneClients(options);
  const runId = await recordRunStart(store, {
    dryRun: !options.force,
    zones: options.zones,
    olderThanMs: options.olderThanMs,
    buildFilter: options.buildFilter,
  });

  try {
    return await planAndRemove(options, clients, runId, now);
  } catch (error) {
    // Recorded as failed (discovery or the store failed); deletion never starts after a failed discovery.
    await recordRunEnd(store, runId, { items: [], results: [], cleanedBuilds: [], exitCode: 1 });
    throw error;
  }
}

async function planAndRemove(options: GcOptions, clients: Map<string, ScalewayClient>, runId: number, now: number): Promise<GcReport> {
  const { store } = options;
  const plan = await planGc(options, clients, now);
  options.onPlanned?.(plan.items);

  let results: (ItemResult | undefined)[] = [];
  let cleanedBuilds: string[] = [];
  if (options.force) {
    const serverStopTimeoutMs = options.serverStopTimeoutMs ?? DEFAULT_SERVER_STOP_TIMEOUT_MS;
    const claimed: string[] = [];
    const owner = thisProcess();
    try {
      results = await removePlan(plan.items, {
        clientFor: (zone) => {
          const client = clients.get(zone);
          if (!client) throw new Error(`no API client for zone ${zone}`); // discovery only yields scanned zones
          return client;
        },
        concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
        serverStopTimeoutMs,
        stuckAfterMs: Math.min(30_000, serverStopTimeoutMs / 4),
        claimBuild: async (buildId) => {
          // Builds this store never saw have no lease to take.
          if (buildId === undefined || !(await store.getBuild(buildId))) return undefined;
          try {
            await store.acquireLease(buildId, owner, leaseTtlMs(serverStopTimeoutMs));
            claimed.push(buildId);
            return undefined;
          } catch (error) {
            if (error instanceof LeaseHeldError) return `build ${buildId} became live again since the plan was made (${error.holder.host} pid ${error.holder.pid})`;
            throw error;
          }
        },
        ...(options.onResult ? { onResult: options.onResult } : {}),
        ...(options.stop ? { stop: options.stop } : {}),
      });
      cleanedBuilds = await buildsNowClean(store, plan.items, results, options.zones);
      await markCleaned(store, cleanedBuilds);
      for (const id of cleanedBuilds) options.removeKey?.(id);
    } finally {
      for (const id of claimed) await store.releaseLease(id, owner);
    }
  }

  const exitCode = results.some((r) => r && r.status !== 'removed') ? 1 : 0;
  await recordRunEnd(store, runId, { items: plan.items, results, cleanedBuilds, exitCode });
  return {
    runId,
    dryRun: !options.force,
    zones: options.zones,
    olderThanMs: options.olderThanMs,
    buildFilter: options.buildFilter,
    now,
    items: plan.items,
    results,
    untaggedIgnored: plan.untaggedIgnored,
    cleanedBuilds,
    exitCode,
  };
}
