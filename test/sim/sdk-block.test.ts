// The official Block Storage SDK (@scaleway/sdk-block) drives the simulator's Block API, beside the
// Instance SDK: SBS volumes and snapshots, their statuses and references, waiters, pagination with
// `total_count` in the body, and how server create/delete and images treat SBS volumes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Blockv1, Blockv1alpha1 } from '@scaleway/sdk-block';
import { Instancev1 } from '@scaleway/sdk-instance';
import { startTestSimulator } from '../helpers/sim.js';
import { SDK_PROJECT, sdkClient } from './sdk-client.js';

const GB = 1_000_000_000;
const WAIT = { minDelay: 1, timeout: 60 };

type HttpError = Error & { status?: number; body?: Record<string, unknown> };

async function clients() {
  const sim = await startTestSimulator();
  const client = sdkClient(sim);
  return { sim, block: new Blockv1.API(client), blockAlpha: new Blockv1alpha1.API(client), instance: new Instancev1.API(client) };
}

test('an SBS-rooted PRO2 server with an extra block volume, its snapshots and a multi-volume image, through the official SDKs', async (t) => {
  const { sim, block, blockAlpha, instance } = await clients();
  t.after(() => sim.close());

  // A block volume made ahead (as Packer's plugin does, through v1alpha1), attached at create.
  const extra = await blockAlpha.createVolume({ name: 'data', fromEmpty: { size: 20 * GB }, perfIops: 15000, tags: ['kiln'] });
  assert.equal(extra.status, 'creating');
  const ready = await block.waitForVolume({ volumeId: extra.id }, WAIT);
  assert.equal(ready.status, 'available');
  assert.equal(ready.type, 'sbs_15k');
  assert.equal(ready.specs?.perfIops, 15000);

  // Types without local storage refuse l_ssd, and nobody takes b_ssd any more.
  await assert.rejects(
    instance.createServer({ commercialType: 'PRO2-XXS', image: 'ubuntu_jammy', volumes: { '0': { volumeType: 'l_ssd', size: 20 * GB } }, protected: false }),
    (error: HttpError) => error.status === 400 && /volumes\.0\.volume_type.*l_ssd/.test(JSON.stringify(error.body ?? error.message)),
  );
  await assert.rejects(
    instance.createServer({ commercialType: 'PRO2-XXS', image: 'ubuntu_jammy', volumes: { '0': { volumeType: 'b_ssd', size: 20 * GB } }, protected: false }),
    (error: HttpError) => error.status === 400 && /b_ssd volumes are no longer supported/.test(JSON.stringify(error.body ?? error.message)),
  );

  const { server } = await instance.createServer({
    name: 'pro2',
    commercialType: 'PRO2-XXS',
    image: 'ubuntu_jammy',
    volumes: { '0': { volumeType: 'sbs_volume', size: 30 * GB }, '1': { id: extra.id, volumeType: 'sbs_volume' } },
    protected: false,
  });
  assert.ok(server);
  // The label resolved to the SBS variant of the image.
  assert.equal(server.image?.rootVolume?.volumeType, 'sbs_snapshot');
  const rootEntry = server.volumes['0']!;
  assert.equal(rootEntry.volumeType, 'sbs_volume');
  assert.equal(rootEntry.name, undefined, 'SBS entries of a server are minimal: no name, size or server');
  assert.equal(server.volumes['1']?.id, extra.id);

  const root = await block.getVolume({ volumeId: rootEntry.id });
  assert.equal(root.status, 'in_use');
  assert.equal(root.size, 30 * GB);
  assert.equal(root.type, 'sbs_5k');
  assert.equal(root.parentSnapshotId, server.image?.rootVolume?.id);
  assert.deepEqual(root.references.map((r) => [r.productResourceType, r.productResourceId, r.type, r.status]), [['instance_server', server.id, 'exclusive', 'attached']]);
  // The Instance API does not know SBS volumes.
  await assert.rejects(instance.getVolume({ volumeId: root.id }), (error: HttpError) => error.status === 404);

  // The root IOPS change: `updating` with the old type at first, then the new one.
  const updating = await blockAlpha.updateVolume({ volumeId: root.id, perfIops: 15000 });
  assert.equal(updating.status, 'updating');
  assert.equal(updating.type, 'sbs_5k');
  const updated = await block.waitForVolume({ volumeId: root.id }, WAIT);
  assert.equal(updated.status, 'in_use');
  assert.equal(updated.type, 'sbs_15k');

  // Pagination: total_count in the body, page_size pages.
  const firstPage = await block.listVolumes({ pageSize: 1, includeDeleted: false });
  assert.equal(firstPage.totalCount, 2);
  assert.equal(firstPage.volumes.length, 1);
  assert.deepEqual((await block.listVolumes({ pageSize: 1, includeDeleted: false }).all()).map((v) => v.id).sort(), [root.id, extra.id].sort());
  assert.deepEqual((await block.listVolumes({ tags: ['kiln'], includeDeleted: false })).volumes.map((v) => v.id), [extra.id]);

  await instance.serverAction({ serverId: server.id, action: 'poweron' });
  await instance.waitForServer({ serverId: server.id }, WAIT);
  await instance.serverAction({ serverId: server.id, action: 'poweroff' });
  const stopped = await instance.waitForServer({ serverId: server.id }, WAIT);
  assert.equal(stopped.state, 'stopped');

  // One block snapshot per volume; the attached volumes stay in_use meanwhile.
  const rootSnapshot = await block.createSnapshot({ volumeId: root.id, name: 'root-snap' });
  const extraSnapshot = await block.createSnapshot({ volumeId: extra.id, name: 'data-snap' });
  assert.equal(rootSnapshot.status, 'creating');
  assert.equal(rootSnapshot.parentVolume?.id, root.id);
  assert.equal((await block.getVolume({ volumeId: root.id })).status, 'in_use');
  assert.equal((await block.waitForSnapshot({ snapshotId: rootSnapshot.id }, WAIT)).status, 'available');
  assert.equal((await block.waitForSnapshot({ snapshotId: extraSnapshot.id }, WAIT)).status, 'available');

  const { image } = await instance.createImage({ name: 'multi', rootVolume: rootSnapshot.id, arch: 'x86_64', // The SDK's template has more fields than Scaleway needs: only the id travels (JSON drops undefined).
  extraVolumes: { '1': { id: extraSnapshot.id } as Instancev1.VolumeTemplate } });
  assert.ok(image);
  assert.equal(image.rootVolume?.volumeType, 'sbs_snapshot');
  assert.equal(image.extraVolumes['1']?.id, extraSnapshot.id);
  assert.equal((await instance.waitForImage({ imageId: image.id }, WAIT)).state, 'available');

  // A snapshot an image links is in_use, and cannot be deleted before the image.
  const linked = await block.getSnapshot({ snapshotId: extraSnapshot.id });
  assert.equal(linked.status, 'in_use');
  assert.deepEqual(linked.references.map((r) => [r.productResourceType, r.productResourceId, r.type]), [['instance_image', image.id, 'link']]);
  await assert.rejects(block.deleteSnapshot({ snapshotId: extraSnapshot.id }), (error: HttpError) => error.status === 412);

  await assert.rejects(block.deleteVolume({ volumeId: extra.id }), (error: HttpError) => error.status === 412, 'an attached volume cannot be deleted');
  // DELETE /servers deletes no volume: SBS volumes are detached, available, references empty.
  await instance.deleteServer({ serverId: server.id });
  for (const id of [root.id, extra.id]) {
    const detached = await block.getVolume({ volumeId: id });
    assert.equal(detached.status, 'available');
    assert.deepEqual(detached.references, []);
    assert.ok(detached.lastDetachedAt instanceof Date);
  }

  // A server from the image gets both disks back, the extra one as a new block volume.
  const { server: again } = await instance.createServer({ name: 'from-image', commercialType: 'PRO2-XXS', image: image.id, protected: false });
  assert.ok(again);
  assert.deepEqual(Object.keys(again.volumes).sort(), ['0', '1']);
  const copy = await block.getVolume({ volumeId: again.volumes['1']!.id });
  assert.equal(copy.parentSnapshotId, extraSnapshot.id);
  assert.equal(copy.size, 20 * GB);
  await instance.deleteServer({ serverId: again.id });
  for (const v of Object.values(again.volumes)) await block.deleteVolume({ volumeId: v.id });

  await instance.deleteImage({ imageId: image.id });
  await block.deleteSnapshot({ snapshotId: extraSnapshot.id });
  await block.deleteSnapshot({ snapshotId: rootSnapshot.id });
  await block.deleteVolume({ volumeId: root.id });
  await block.deleteVolume({ volumeId: extra.id });
  await assert.rejects(block.getVolume({ volumeId: extra.id }), (error: HttpError) => error.status === 404);
  assert.equal((await block.listVolumes({ includeDeleted: false })).totalCount, 0);
  assert.equal((await block.listSnapshots({ includeDeleted: false })).totalCount, 0);
});

test('the Block API answers 404 in its own shape, creates with 200 and deletes with 204', async (t) => {
  const { sim, block } = await clients();
  t.after(() => sim.close());
  const missing = '11111111-2222-4333-8444-555555555555';
  const response = await fetch(`${sim.apiUrl}/block/v1alpha1/zones/fr-par-1/volumes/${missing}`, { headers: { 'X-Auth-Token': 'x' } });
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { message: 'resource is not found', resource: 'volume', resource_id: missing, type: 'not_found' });

  const created = await fetch(`${sim.apiUrl}/block/v1/zones/fr-par-1/volumes`, {
    method: 'POST',
    headers: { 'X-Auth-Token': 'x', 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'raw', project_id: SDK_PROJECT, from_empty: { size: 5 * GB }, tags: null }),
  });
  assert.equal(created.status, 200, 'block creates answer 200, not 201');
  const volume = (await created.json()) as { id: string; status: string };
  assert.equal(volume.status, 'creating');
  const types = await block.listVolumeTypes({});
  assert.deepEqual(types.volumeTypes.map((v) => [v.type, v.specs?.perfIops]), [['sbs_5k', 5000], ['sbs_15k', 15000]]);

  const deleted = await fetch(`${sim.apiUrl}/block/v1/zones/fr-par-1/volumes/${volume.id}`, { method: 'DELETE', headers: { 'X-Auth-Token': 'x' } });
  // A volume still being created is in a transient state; once ready it goes with a bare 204.
  if (deleted.status === 409) {
    await block.waitForVolume({ volumeId: volume.id }, WAIT);
    await block.deleteVolume({ volumeId: volume.id });
  } else assert.equal(deleted.status, 204);
  assert.equal((await block.listVolumes({ includeDeleted: false })).totalCount, 0);
});

test('a DEV1 server still gets an l_ssd root; terminate deletes local volumes and only detaches SBS ones', async (t) => {
  const { sim, block, instance } = await clients();
  t.after(() => sim.close());
  const extra = await block.createVolume({ name: 'keep', fromEmpty: { size: 10 * GB } });
  await block.waitForVolume({ volumeId: extra.id }, WAIT);
  const { server } = await instance.createServer({ commercialType: 'DEV1-S', image: 'ubuntu_jammy', volumes: { '1': { id: extra.id, volumeType: 'sbs_volume' } }, protected: false });
  assert.ok(server);
  const local = server.volumes['0']!;
  assert.equal(local.volumeType, 'l_ssd');
  assert.equal(server.image?.rootVolume?.volumeType, 'l_ssd');
  await instance.serverAction({ serverId: server.id, action: 'poweron' });
  await instance.waitForServer({ serverId: server.id }, WAIT);
  await instance.serverAction({ serverId: server.id, action: 'terminate' });
  await assert.rejects(
    (async () => {
      for (;;) {
        await instance.getServer({ serverId: server.id });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })(),
    (error: HttpError) => error.status === 404,
  );
  await assert.rejects(instance.getVolume({ volumeId: local.id }), (error: HttpError) => error.status === 404);
  assert.equal((await block.getVolume({ volumeId: extra.id })).status, 'available');
  await block.deleteVolume({ volumeId: extra.id });
});
