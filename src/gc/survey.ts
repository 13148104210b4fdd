// What `kiln gc` would remove, and why: lists the zones' kiln-tagged resources page by page and
// judges each against the store. Reads only, from the cloud and from the store: `kiln gc` removes
// what it plans (index.ts), `kiln ui` shows the plan of a dry run without recording it.
import { hostname } from 'node:os';
import { ScalewayClient, type RequestReport } from '../scaleway/index.js';
import { pidAlive, type BuildStore } from '../store/index.js';
import { discoverZone } from './discover.js';
import { GcDiscoveryError } from './errors.js';
import { PlanBuilder, type Plan } from './plan.js';
import { BuildLookup } from './record.js';
import { buildIdOf, type GcResource } from './types.js';

/** What planning asks of a store: reads only. */
export type GcPlanStore = Pick<BuildStore, 'getBuild' | 'clock'>;

/** What the plan needs: where to look and what counts as an orphan (no `force`: planning deletes nothing). */
export interface GcPlanOptions {
  store: GcPlanStore;
  apiUrl: string;
  /** SECRET: only handed to the API client. */
  secretKey: string;
  projectId?: string;
  zones: readonly string[];
  /** Resources younger than this are left alone (0 = any age). */
  olderThanMs: number;
  /** Only this build's resources (`--build`). */
  buildFilter?: string;
  onRequest?: (report: RequestReport) => void;
}

/** One API client per zone to look at. */
export function zoneClients(options: Omit<GcPlanOptions, 'store'>): Map<string, ScalewayClient> {
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

/**
 * What `kiln gc` would remove, and why (a dry run that records nothing: the caller decides whether
 * it is a run). Lists the zones' kiln resources page by page and judges each against the store.
 */
export async function planGc(options: GcPlanOptions, clients: Map<string, ScalewayClient> = zoneClients(options), now: number = Date.now()): Promise<Plan> {
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
