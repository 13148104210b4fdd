// `kiln gc`: finds the resources failed or killed builds left behind (cloud tags × local store)
// and, with --force, removes them. See DESIGN.md ("gc") and issue 7 for the rules.
import { hostname } from 'node:os';
import { ScalewayClient, type RequestReport } from '../scaleway/index.js';
import { LeaseHeldError, pidAlive, thisProcess, type BuildStore } from '../store/index.js';
import { discoverZone } from './discover.js';
import { PlanBuilder, type Plan } from './plan.js';
import { BuildLookup, buildsNowClean, markCleaned, recordRunEnd, recordRunStart } from './record.js';
import { DEFAULT_CONCURRENCY, DEFAULT_SERVER_STOP_TIMEOUT_MS, describeError, removePlan } from './remove.js';
import { buildIdOf, type GcResource, type ItemResult, type PlanItem } from './types.js';

export * from './types.js';
export { classifyResource, leaseVerdict, formatAge, type ClassifyContext, type Verdict } from './classify.js';
export { PlanBuilder, summarizePlan, type Plan, type PlanSummary } from './plan.js';
export { renderTable, renderSummary, formatColumns } from './render.js';
export { mapBounded } from './pool.js';
export { CLEANED_STATUS } from './record.js';
export { DEFAULT_CONCURRENCY, DEFAULT_SERVER_STOP_TIMEOUT_MS, describeError } from './remove.js';

export interface GcOptions {
  store: BuildStore;
  apiUrl: string;
  /** SECRET: only handed to the API client. */
  secretKey: string;
  projectId?: string;
  zones: readonly string[];
  /** Resources younger than this are left alone (0 = any age). */
  olderThanMs: number;
  /** Only this build's resources (`--build`). */
  buildFilter?: string;
  /** Delete; without it, a dry run that changes nothing. */
  force: boolean;
  /** How long to wait for one server to stop (default 5 min); a server still `starting` after
   * a quarter of it (at most 30 s) is stopped in place. */
  serverStopTimeoutMs?: number;
  concurrency?: number;
  /** Removes a build's temporary SSH key pair once the build is cleaned. */
  removeKey?: (buildId: string) => void;
  onRequest?: (report: RequestReport) => void;
  /** Each deletion's result as it is known. */
  onResult?: (item: PlanItem, result: ItemResult) => void;
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

/** Listing the cloud failed (after the client's retries): gc deletes nothing on a partial view. */
export class GcDiscoveryError extends Error {
  override readonly name = 'GcDiscoveryError';
  constructor(
    readonly zone: string,
    cause: unknown,
  ) {
    super(`could not list the resources of ${zone}: ${describeError(cause)}. Nothing was deleted.`, { cause });
  }
}

/** gc holds the lease of each build it cleans, so that a `kiln resume` cannot start meanwhile;
 * long enough for the slowest server stop, as gc does not renew it. */
const leaseTtlMs = (serverStopTimeoutMs: number) => serverStopTimeoutMs + 10 * 60_000;

/** What planning asks of a store: reads only (`kiln ui` shows the plan of a dry run without recording it). */
export type GcPlanStore = Pick<BuildStore, 'getBuild' | 'clock'>;

/** What the plan needs: where to look and what counts as an orphan (no `force`: planning deletes nothing). */
export type GcPlanOptions = Pick<GcOptions, 'apiUrl' | 'secretKey' | 'projectId' | 'zones' | 'olderThanMs' | 'buildFilter' | 'onRequest'> & { store: GcPlanStore };

function clientsFor(options: GcPlanOptions): Map<string, ScalewayClient> {
  const clients = new Map<string, ScalewayClient>();
  for (const zone of options.zones) {
    clients.set(
      zone,
      new ScalewayClient({
        apiUrl: options.apiUrl,
        zone,
        secretKey: options.secretKey,
        ...(options.projectId ? { projectId: options.projectId } : {}),
        ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      }),
    );
  }
  return clients;
}

export async function runGc(options: GcOptions): Promise<GcReport> {
  const { store } = options;
  const now = Date.now();
  const clients = clientsFor(options);
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

/**
 * What `kiln gc` would remove, and why (a dry run that records nothing: the caller decides whether
 * it is a run). Lists the zones' kiln resources page by page and judges each against the store.
 */
export async function planGc(options: GcPlanOptions, clients: Map<string, ScalewayClient> = clientsFor(options), now: number = Date.now()): Promise<Plan> {
  const { store } = options;
  const builds = new BuildLookup(store);
  const planner = new PlanBuilder({
    now,
    // Leases written by other hosts expire by the store's clock, as acquire and renew judge them.
    leaseNow: await store.clock(),
    host: hostname(),
    olderThanMs: options.olderThanMs,
    pidAlive,
    lookupBuild: builds.get,
    ...(options.buildFilter !== undefined ? { buildFilter: options.buildFilter, namedBuild: options.buildFilter } : {}),
  });
  for (const client of clients.values()) {
    const pages = discoverZone(client, options.buildFilter, options.projectId);
    for (;;) {
      let page: IteratorResult<GcResource[]>;
      try {
        page = await pages.next();
      } catch (error) {
        throw new GcDiscoveryError(client.zone, error);
      }
      if (page.done) break;
      // The plan asks about builds synchronously: the page's builds are read from the store first.
      await builds.preload(page.value.map((resource) => buildIdOf(resource.tags)));
      for (const resource of page.value) planner.add(resource);
    }
  }
  return planner.finish();
}

async function planAndRemove(options: GcOptions, clients: Map<string, ScalewayClient>, runId: number, now: number): Promise<GcReport> {
  const { store } = options;
  const plan = await planGc(options, clients, now);

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
