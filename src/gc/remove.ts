// Deletion (`kiln gc --force`): carries out a plan with bounded concurrency and reports one
// result per resource. Servers are stopped (powered off and waited for), then deleted, then
// their volumes; detached volumes, images, IPs and snapshots are deleted directly. Images go
// before snapshots (an image holds its snapshot) and IPs after servers (a server holds its IP).
// Each call is retried by the API client itself; what is left failing is reported, not thrown.
import { NotFoundError, ScalewayError, isRetryable, pollDelay, sleep, type ScalewayClient, type Server } from '../scaleway/index.js';
import { formatDuration } from '../template/duration.js';
import { describeError } from './errors.js';
import { mapBounded } from './pool.js';
import type { ItemResult, PlanItem } from './types.js';

export const DEFAULT_CONCURRENCY = 8;
/** How long gc waits for one server to stop, by default (Packer's waiters give 5 minutes too). */
export const DEFAULT_SERVER_STOP_TIMEOUT_MS = 5 * 60_000;

export interface RemoveOptions {
  /** The API client of each zone in the plan. */
  clientFor: (zone: string) => ScalewayClient;
  /** At most this many deletions in flight (default 8). */
  concurrency?: number;
  /** How long to wait for one server to stop before giving up on it. */
  serverStopTimeoutMs: number;
  /** A server still `starting` (or `stopping`) after this long is stopped in place (the only
   * action Scaleway allows in those states) so that it can be powered off. */
  stuckAfterMs: number;
  /** Called once per build before any of its resources is touched; a reason means "skip them"
   * (e.g. the build was resumed since the plan was made and its lease is live again). */
  claimBuild: (buildId: string | undefined) => Promise<string | undefined>;
  /** Called as each resource's result is known (for progress output). */
  onResult?: (item: PlanItem, result: ItemResult) => void;
}

// gc waits on many servers at once and each wait is short: a lower cap than a build's.
const POLL_MAX_MS = 2000;

/** Polls a server until gc can delete it (stopped) or it is gone; powers it off on the way. */
async function stopServer(client: ScalewayClient, id: string, options: RemoveOptions): Promise<Server | undefined> {
  const started = Date.now();
  // A server in a transitional state (starting, stopping) since this time, and which state.
  let transition: { state: string; since: number } | undefined;
  // When gc last acted on the server: polls start fast again after each action.
  let waitingSince = started;
  const nextPoll = () => sleep(pollDelay(Date.now() - waitingSince, { maxMs: POLL_MAX_MS }));
  let lastError: unknown;
  for (;;) {
    let server: Server | undefined;
    try {
      server = await client.getServer(id);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      // The client already retried; keep polling until the deadline rather than give up.
      if (!isRetryable(error) || Date.now() - started > options.serverStopTimeoutMs) throw error;
    }
    if (!server) {
      await nextPoll();
      continue;
    }
    const allowed = server.allowed_actions ?? [];
    let action: 'poweroff' | 'stop_in_place' | undefined;
    switch (server.state) {
      case 'stopped':
        return server;
      case 'locked':
        throw new Error('the server is locked by Scaleway and accepts no action; try again later');
      case 'running':
      case 'stopped in place':
        action = 'poweroff';
        break;
      default:
        // starting or stopping: wait for it, unless it has not moved for too long; then stop it
        // in place, the one action Scaleway allows in these states.
        if (transition?.state !== server.state) transition = { state: server.state, since: Date.now() };
        if (Date.now() - transition.since >= options.stuckAfterMs && allowed.includes('stop_in_place')) {
          action = 'stop_in_place';
          transition = undefined;
        }
        break;
    }
    if (action) {
      try {
        await client.serverAction(id, action);
        waitingSince = Date.now();
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        // Refused because the state moved on meanwhile (400, 409, or ambiguous after a retry), or
        // still failing after the client's retries: read the state again, until the deadline.
        // Anything else (denied, quota, …) will not get better by waiting.
        const refused = error instanceof ScalewayError && (error.status === 400 || error.status === 409 || error.type === 'ambiguous');
        if (!refused && !isRetryable(error)) throw error;
        lastError = error;
      }
    }
    if (Date.now() - started > options.serverStopTimeoutMs) {
      throw new Error(
        `the server is still ${server.state} after ${formatDuration(options.serverStopTimeoutMs)}; ` +
          'run `kiln gc --force` again later (or raise --wait-timeout)' +
          (lastError === undefined ? '' : `; last error: ${describeError(lastError)}`),
      );
    }
    await nextPoll();
  }
}

/** Rounds of the client's own retries gc spends on one deletion before reporting it failed:
 * gc is a batch job, and one more round is cheap next to leaving a resource behind. */
const DELETE_ROUNDS = 3;

/** How long gc waits for an SBS volume to be detached from a deleted server before deleting it. */
const BLOCK_DETACH_TIMEOUT_MS = 5 * 60_000;

/** A block volume goes once no server holds it: DELETE /servers only detaches it, and that takes a moment. */
async function deleteBlockVolume(client: ScalewayClient, id: string): Promise<void> {
  const startedAt = Date.now();
  for (;;) {
    const volume = await client.block.getVolume(id);
    const attached = volume.status === 'in_use' || volume.references.some((r) => r.status !== 'detached');
    if (!attached) {
      try {
        await client.block.deleteVolume(id);
        return;
      } catch (error) {
        // 412 resource_still_in_use / 409 transient state: still detaching.
        if (!(error instanceof ScalewayError && (error.status === 412 || error.status === 409))) throw error;
      }
    }
    if (Date.now() - startedAt > BLOCK_DETACH_TIMEOUT_MS)
      throw new Error(`block volume ${id} is still attached after ${formatDuration(BLOCK_DETACH_TIMEOUT_MS)}; run \`kiln gc --force\` again later`);
    await sleep(pollDelay(Date.now() - startedAt));
  }
}

async function deleteOne(client: ScalewayClient, item: PlanItem): Promise<ItemResult> {
  if (item.api === 'block') {
    const call = item.type === 'volume' ? () => deleteBlockVolume(client, item.id) : () => client.block.deleteSnapshot(item.id);
    return deleteWithRounds(call);
  }
  const calls = {
    server: (id: string) => client.deleteServer(id),
    volume: (id: string) => client.deleteVolume(id),
    snapshot: (id: string) => client.deleteSnapshot(id),
    image: (id: string) => client.deleteImage(id),
    ip: (id: string) => client.deleteIp(id),
  } as const;
  return deleteWithRounds(() => calls[item.type](item.id));
}

async function deleteWithRounds(call: () => Promise<void>): Promise<ItemResult> {
  for (let round = 1; ; round++) {
    try {
      await call();
      return { status: 'removed' };
    } catch (error) {
      if (error instanceof NotFoundError) return { status: 'removed', reason: 'already gone' };
      if (round < DELETE_ROUNDS && isRetryable(error)) continue;
      return { status: 'failed', reason: describeError(error) };
    }
  }
}

/** Stops and deletes a server, then the volumes that go with it. */
async function removeServer(client: ScalewayClient, server: PlanItem, volumes: PlanItem[], options: RemoveOptions): Promise<ItemResult[]> {
  let serverResult: ItemResult;
  try {
    const stopped = await stopServer(client, server.id, options);
    serverResult = stopped ? await deleteOne(client, server) : { status: 'removed', reason: 'already gone' };
  } catch (error) {
    serverResult = { status: 'failed', reason: describeError(error) };
  }
  if (serverResult.status !== 'removed') {
    const skipped: ItemResult = { status: 'skipped', reason: `its server ${server.id} could not be removed` };
    return [serverResult, ...volumes.map(() => skipped)];
  }
  const volumeResults: ItemResult[] = [];
  for (const volume of volumes) volumeResults.push(await deleteOne(client, volume));
  return [serverResult, ...volumeResults];
}

/** Carries out the plan. Returns results parallel to `items` (undefined for kept items). */
export async function removePlan(items: readonly PlanItem[], options: RemoveOptions): Promise<(ItemResult | undefined)[]> {
  const results: (ItemResult | undefined)[] = new Array(items.length).fill(undefined);
  const settle = (index: number, result: ItemResult) => {
    results[index] = result;
    options.onResult?.(items[index]!, result);
  };

  // A build is claimed once, before its first resource is touched.
  const claims = new Map<string | undefined, Promise<string | undefined>>();
  const claim = (buildId: string | undefined) => {
    let pending = claims.get(buildId);
    if (!pending) claims.set(buildId, (pending = options.claimBuild(buildId)));
    return pending;
  };

  const volumesOf = new Map<string, number[]>();
  items.forEach((item, index) => {
    if (item.action !== 'with-server' || item.serverId === undefined) return;
    const key = `${item.zone}/${item.serverId}`;
    volumesOf.set(key, [...(volumesOf.get(key) ?? []), index]);
  });

  const indexes = (filter: (item: PlanItem) => boolean) =>
    items.flatMap((item, index) => (item.action === 'delete' && filter(item) ? [index] : []));
  const first = indexes((i) => i.type === 'server' || i.type === 'volume' || i.type === 'image');
  const second = indexes((i) => i.type === 'snapshot' || i.type === 'ip');

  const run = async (index: number) => {
    const item = items[index]!;
    const refusal = await claim(item.buildId);
    const client = options.clientFor(item.zone);
    if (item.type === 'server') {
      const attached = volumesOf.get(`${item.zone}/${item.id}`) ?? [];
      if (refusal) {
        for (const i of [index, ...attached]) settle(i, { status: 'skipped', reason: refusal });
        return;
      }
      const [serverResult, ...volumeResults] = await removeServer(client, item, attached.map((i) => items[i]!), options);
      settle(index, serverResult!);
      attached.forEach((i, n) => settle(i, volumeResults[n]!));
      return;
    }
    settle(index, refusal ? { status: 'skipped', reason: refusal } : await deleteOne(client, item));
  };

  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  for (const phase of [first, second]) {
    const outcomes = await mapBounded(phase, concurrency, run);
    // `run` reports its failures as results; a throw here is a bug or an unexpected error from
    // claimBuild: report it on the item rather than lose the other results.
    outcomes.forEach((outcome, n) => {
      if (outcome.status === 'rejected' && results[phase[n]!] === undefined) {
        settle(phase[n]!, { status: 'failed', reason: describeError(outcome.reason) });
      }
    });
  }
  return results;
}
