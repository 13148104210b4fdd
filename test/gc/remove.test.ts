// The deletion scheduler on a real plan against the simulator: a build that came back to life
// after the plan was made (its lease could not be taken) is skipped whole; otherwise servers are
// stopped and deleted with their volumes, images before their snapshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverZone } from '../../src/gc/discover.js';
import { PlanBuilder } from '../../src/gc/plan.js';
import { removePlan } from '../../src/gc/remove.js';
import type { ItemResult, PlanItem } from '../../src/gc/types.js';
import { inventory, makeLeftovers, startGcWorld, ZONE } from './fixtures.js';

test('removePlan skips a build it cannot claim, and removes one it can', { timeout: 60_000 }, async (t) => {
  const world = await startGcWorld();
  t.after(() => world.close());
  const client = world.client();
  const left = await makeLeftovers(client, 'comeback', { running: true, snapshot: true });

  const planner = new PlanBuilder({ now: Date.now(), pidSpace: 'boot/1', olderThanMs: 0, pidAlive: () => false, lookupBuild: () => undefined, namedBuild: 'comeback' });
  for await (const page of discoverZone(client)) for (const resource of page) planner.add(resource);
  const { items } = planner.finish();
  assert.deepEqual(items.map((i) => [i.type, i.action]).sort(), [['server', 'delete'], ['snapshot', 'delete'], ['volume', 'with-server']]);

  const seen: [PlanItem, ItemResult][] = [];
  const options = { clientFor: () => client, serverStopTimeoutMs: 30_000, stuckAfterMs: 5_000, onResult: (i: PlanItem, r: ItemResult) => seen.push([i, r]) };
  const before = await inventory(client);
  const refused = await removePlan(items, { ...options, claimBuild: async () => 'build comeback became live again' });
  assert.ok(refused.every((r) => r?.status === 'skipped' && r.reason === 'build comeback became live again'));
  assert.equal(seen.length, 3, 'each skipped resource is reported');
  assert.deepEqual(await inventory(client), before);

  const claims: (string | undefined)[] = [];
  const done = await removePlan(items, { ...options, claimBuild: async (id) => void claims.push(id) });
  assert.deepEqual(done.map((r) => r?.status), ['removed', 'removed', 'removed']);
  assert.deepEqual(claims, ['comeback'], 'a build is claimed once');
  const after = await inventory(client);
  assert.deepEqual([after.servers, after.snapshots], [[], []]);
  assert.equal(after.volumes.some((v) => v.startsWith(left.rootVolumeId)), false);
  assert.equal(items[0]!.zone, ZONE);
});
