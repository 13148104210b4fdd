// Removing checkpoints (`kiln cache rm --force`, `kiln gc --cache --force`): in the order that keeps
// every step safe to kill and to run again —
//   1. a last look at which live builds use each checkpoint (one may have started since the plan);
//   2. the checkpoint forgotten by this store's index, and the cached list of the cloud's, so that
//      no build of this store starts from it from now on (the intent: what is left in the cloud of
//      it is still found by its tags, by `kiln cache ls` and by the next run);
//   3. its image, then its snapshots, deleted by gc's removal (remove.ts: retried, "already gone" is
//      done), and the run recorded in the gc_runs log as every `kiln gc` run is.
// A kill between 2 and 3 leaves a checkpoint that is whole in the cloud (found again by tag, still
// usable) or its snapshots only (listed `incomplete`; the next removal takes them).
import type { ScalewayClient } from '../scaleway/index.js';
import type { BuildStore } from '../store/index.js';
import { cachePlanItems, cloudListKeys, keysInUse, type CacheVerdict } from './cache.js';
import { recordRunEnd, recordRunStart } from './record.js';
import { DEFAULT_CONCURRENCY, DEFAULT_SERVER_STOP_TIMEOUT_MS, removePlan } from './remove.js';
import type { ItemResult, PlanItem } from './types.js';

export interface CacheRemoval {
  runId: number;
  dryRun: boolean;
  verdicts: CacheVerdict[];
  items: PlanItem[];
  /** Parallel to `items`; empty in a dry run, undefined for kept items. */
  results: (ItemResult | undefined)[];
  exitCode: 0 | 1;
}

export interface CacheRemoveOptions {
  store: BuildStore;
  clients: Map<string, ScalewayClient>;
  apiUrl: string;
  zones: readonly string[];
  olderThanMs: number;
  force: boolean;
  onResult?: (item: PlanItem, result: ItemResult) => void;
  stop?: AbortSignal;
}

export async function removeCheckpoints(planned: readonly CacheVerdict[], o: CacheRemoveOptions): Promise<CacheRemoval> {
  const { store } = o;
  const runId = await recordRunStart(store, { dryRun: !o.force, zones: o.zones, olderThanMs: o.olderThanMs, buildFilter: undefined });
  let verdicts = [...planned];
  let results: (ItemResult | undefined)[] = [];
  let items = verdicts.flatMap(cachePlanItems);
  try {
    if (o.force) {
      // 1. A build that started from one of them since the plan keeps it.
      const inUse = await keysInUse(store);
      verdicts = verdicts.map((v) => {
        const users = inUse.get(v.entry.key);
        return v.remove && users ? { entry: { ...v.entry, usedBy: users }, remove: false, reason: `in use by live build ${users.join(', ')} (it started since the plan): kept` } : v;
      });
      items = verdicts.flatMap(cachePlanItems);
      // 2. Forgotten here first.
      for (const v of verdicts.filter((x) => x.remove)) await store.dropCheckpoint(v.entry.key);
      for (const key of cloudListKeys(o.apiUrl, o.zones)) await store.uncache(key);
      // 3. Image, then snapshots.
      results = await removePlan(items, {
        clientFor: (zone) => {
          const client = o.clients.get(zone);
          if (!client) throw new Error(`no API client for zone ${zone}`);
          return client;
        },
        concurrency: DEFAULT_CONCURRENCY,
        serverStopTimeoutMs: DEFAULT_SERVER_STOP_TIMEOUT_MS,
        stuckAfterMs: 30_000,
        // Checkpoints outlive their builds: no build's lease is taken (step 1 judged the live ones).
        claimBuild: async () => undefined,
        ...(o.onResult ? { onResult: o.onResult } : {}),
        ...(o.stop ? { stop: o.stop } : {}),
      });
    }
  } catch (error) {
    await recordRunEnd(store, runId, { items: [], results: [], cleanedBuilds: [], exitCode: 1 });
    throw error;
  }
  const exitCode = results.some((r) => r && r.status !== 'removed') ? 1 : 0;
  await recordRunEnd(store, runId, { items, results, cleanedBuilds: [], exitCode });
  return { runId, dryRun: !o.force, verdicts, items, results, exitCode };
}
