// `kiln gc --force` when the cloud misbehaves: injected 5xx and 429 answers (the client's and
// gc's retries carry the deletions through), and a server stuck in `starting` (gc stops it in
// place and removes it, or, when it stays stuck, reports that server failed and exits 1 without
// hanging or touching the rest of the plan).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiPost, inventory, kilnTags, makeLeftovers, PROJECT, recordBuild, startGcWorld } from './fixtures.js';

interface Row {
  type: string;
  id: string;
  action: string;
  result: { status: string; reason?: string } | null;
}

test('deletions succeed under injected 5xx and 429 answers', { timeout: 120_000 }, async (t) => {
  const faulty = { '5xx': 0.25, '429': 0.15, retry_after: 0 };
  const world = await startGcWorld({
    seed: 7,
    faults: {
      'DELETE /servers/{id}': faulty,
      'DELETE /volumes/{id}': faulty,
      'DELETE /snapshots/{id}': faulty,
      'DELETE /images/{id}': faulty,
      'DELETE /ips/{id}': faulty,
      'GET /servers/{id}': { '5xx': 0.2 },
      'GET /servers': { '429': 0.2, retry_after: 0 },
    },
  });
  t.after(() => world.close());
  const client = world.client();
  const ids: string[] = [];
  for (const build of ['failed-1', 'failed-2', 'failed-3']) {
    const left = await makeLeftovers(client, build, { running: build === 'failed-1', snapshot: true, image: true });
    ids.push(left.serverId, left.rootVolumeId, left.snapshotId!, left.imageId!);
    ids.push((await apiPost(world, 'fr-par-1', '/volumes', { name: `data-${build}`, size: 1_000_000_000, volume_type: 'b_ssd', project: PROJECT, tags: kilnTags(build, 'server.create') })).volume!.id);
    ids.push((await apiPost(world, 'fr-par-1', '/ips', { project: PROJECT, tags: kilnTags(build, 'server.create') })).ip!.id);
    recordBuild(world, build, 'failed');
  }
  const deletesBefore = Object.entries(world.sim.requestCounts()).filter(([route]) => route.startsWith('DELETE')).reduce((n, [, c]) => n + c, 0);

  const run = await world.gc('--older-than', '0', '--force', '--json');
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const rows = (JSON.parse(run.stdout) as { resources: Row[] }).resources;
  assert.equal(rows.length, ids.length);
  assert.ok(rows.every((r) => r.result?.status === 'removed'), JSON.stringify(rows.filter((r) => r.result?.status !== 'removed')));

  const left = JSON.stringify(await inventory(client));
  for (const id of ids) assert.equal(left.includes(id), false, `${id} should be gone`);
  // The faults really struck: more DELETE requests reached the simulator than there were deletions.
  const deletes = Object.entries(world.sim.requestCounts()).filter(([route]) => route.startsWith('DELETE')).reduce((n, [, c]) => n + c, 0) - deletesBefore;
  assert.ok(deletes > ids.length, `expected retried DELETEs, saw ${deletes} for ${ids.length} resources`);
});

test('servers stuck in starting or stopping are stopped in place, powered off and deleted', { timeout: 120_000 }, async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kiln-gc-sim-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const world = await startGcWorld({ stateDir });
  t.after(() => world.close());
  const stopping = await makeLeftovers(world.client(), 'stuck-1', { running: true });
  // From now on actions answer 202 but their transition never completes.
  await world.restartSim({ stateDir, faults: { 'POST /servers/{id}/action': { stuck: 1 } } });
  const starting = await makeLeftovers(world.client(), 'stuck-1', {});
  await world.client().serverAction(starting.serverId, 'poweron');
  await world.client().serverAction(stopping.serverId, 'poweroff');
  recordBuild(world, 'stuck-1', 'failed');
  // The same world without the fault: both servers stay stuck (their transitions were never scheduled).
  await world.restartSim({ stateDir });
  assert.equal((await world.client().getServer(starting.serverId)).state, 'starting');
  assert.equal((await world.client().getServer(stopping.serverId)).state, 'stopping');

  const run = await world.gc('--older-than', '0', '--force', '--wait-timeout', '8s');
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.match(run.stdout, /removed 4 of 4 \(2 servers, 2 volumes\)/);
  const after = JSON.stringify(await inventory(world.client()));
  for (const id of [starting.serverId, starting.rootVolumeId, stopping.serverId, stopping.rootVolumeId]) assert.equal(after.includes(id), false);
});

test('a server that stays stuck fails alone, after --wait-timeout, with the reason; exit 1', { timeout: 120_000 }, async (t) => {
  const world = await startGcWorld({ faults: { 'POST /servers/{id}/action': { stuck: 1 } } });
  t.after(() => world.close());
  const left = await makeLeftovers(world.client(), 'stuck-2', {});
  await world.client().serverAction(left.serverId, 'poweron');
  const data = (await apiPost(world, 'fr-par-1', '/volumes', { name: 'data', size: 1_000_000_000, volume_type: 'b_ssd', project: PROJECT, tags: kilnTags('stuck-2', 'server.create') })).volume!.id;
  recordBuild(world, 'stuck-2', 'failed');

  const run = await world.gc('--older-than', '0', '--force', '--wait-timeout', '2s', '--json');
  assert.equal(run.code, 1, run.stderr);
  const rows = (JSON.parse(run.stdout) as { resources: Row[] }).resources;
  const result = (id: string) => rows.find((r) => r.id === id)?.result;
  assert.equal(result(left.serverId)?.status, 'failed');
  assert.match(result(left.serverId)?.reason ?? '', /still (starting|stopping) after 2s; run `kiln gc --force` again later/);
  assert.deepEqual(result(left.rootVolumeId), { status: 'skipped', reason: `its server ${left.serverId} could not be removed` });
  assert.equal(result(data)?.status, 'removed');
  const store = world.openStore();
  try {
    assert.equal(store.getBuild('stuck-2')?.status, 'failed', 'a build with leftovers is not marked cleaned');
  } finally {
    store.close();
  }
  const human = await world.gc('--older-than', '0');
  assert.match(human.stdout, /Found 2 kiln resources in fr-par-1: 2 would be removed/);
});
