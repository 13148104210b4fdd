// `kiln gc` finds the SBS leftovers of a killed build in the Block API too: a running PRO2 server
// with its SBS root and an extra block volume attached, a block snapshot, in every zone; it
// deletes the server, waits for the block volumes to be detached, and deletes them and the
// snapshots through the Block API. Untagged block volumes are never touched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { deadPid, kilnTags, recordBuild, startGcWorld, waitForState, type GcWorld } from './fixtures.js';
import type { ScalewayClient } from '../../src/scaleway/index.js';

const GB = 1_000_000_000;
let world: GcWorld;
after(() => world?.close());
before(async () => {
  world = await startGcWorld();
});

async function blockInventory(client: ScalewayClient, buildId: string): Promise<string[]> {
  const tags = [`kiln-build=${buildId}`];
  return [...(await client.block.listVolumes({ tags })), ...(await client.block.listSnapshots({ tags }))].map((r) => r.id);
}

test('gc removes a killed SBS build: server, SBS root, attached block volume, block snapshots, in each zone', { timeout: 120_000 }, async () => {
  const build = `sbs-${randomUUID().slice(0, 8)}`;
  const par = world.client('fr-par-1');
  const ams = world.client('nl-ams-1');
  const extra = await par.block.createVolume({ name: `${build}-data`, from_empty: { size: 10 * GB }, tags: kilnTags(build, 'volumes.create') });
  const server = await par.createServer({
    name: build,
    commercial_type: 'PRO2-XXS',
    image: 'ubuntu_jammy',
    tags: kilnTags(build, 'server.create'),
    volumes: { '1': { id: extra.id, volume_type: 'sbs_volume' } },
  });
  const rootId = server.volumes['0']!.id;
  await par.block.updateVolume(rootId, { tags: kilnTags(build, 'server.create') });
  await par.serverAction(server.id, 'poweron');
  await waitForState(par, server.id, 'running');
  const snapshot = await par.block.createSnapshot({ name: `${build}-snap`, volume_id: extra.id, tags: kilnTags(build, 'volume_snapshots.create') });
  // The same build's leftovers in another zone: a detached block volume.
  const amsVolume = await ams.block.createVolume({ name: `${build}-ams`, from_empty: { size: 5 * GB }, tags: kilnTags(build, 'volumes.create') });
  const untagged = await par.block.createVolume({ name: `packer-${build}`, from_empty: { size: 5 * GB }, tags: [] });
  recordBuild(world, build, 'killed', { pid: await deadPid() });

  const dry = await world.gc('--older-than', '0', '--all-zones', '--json');
  assert.equal(dry.code, 0, dry.stderr);
  const rows = (JSON.parse(dry.stdout) as { resources: { id: string; action: string; api?: string }[] }).resources;
  const action = (id: string) => rows.find((r) => r.id === id)?.action;
  assert.equal(rows.find((r) => r.id === extra.id)?.api, 'block');
  const table = await world.gc('--older-than', '0', '--all-zones');
  assert.match(table.stdout.split('\n').find((line) => line.includes(snapshot.id)) ?? '', /^snapshot \(sbs\)/);
  assert.equal(action(server.id), 'delete');
  assert.equal(action(rootId), 'with-server');
  assert.equal(action(extra.id), 'with-server');
  assert.equal(action(snapshot.id), 'delete');
  assert.equal(action(amsVolume.id), 'delete');
  assert.equal(action(untagged.id), undefined, 'an untagged block volume is not even listed');

  const run = await world.gc('--older-than', '0', '--all-zones', '--force');
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.deepEqual(await blockInventory(par, build), []);
  assert.deepEqual(await blockInventory(ams, build), []);
  assert.deepEqual((await par.listServers({ tags: [`kiln-build=${build}`] })).map((s) => s.id), []);
  assert.equal((await par.block.getVolume(untagged.id)).id, untagged.id, 'the untagged volume is still there');
  const again = await world.gc('--older-than', '0', '--all-zones', '--json');
  assert.ok(!(JSON.parse(again.stdout) as { resources: { id: string }[] }).resources.some((r) => r.id === extra.id));
});
