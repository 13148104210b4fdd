// The official Scaleway JS SDK drives the simulator unchanged: the proof that the simulator
// speaks Scaleway's wire format (paths, bodies, Content-Type, pagination, states).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Instancev1 } from '@scaleway/sdk-instance';
import { marketplaceImageId } from '../fixtures/sim-ssh/harness.js';
import { startTestSimulator } from '../helpers/sim.js';
import { SDK_PROJECT, sdkClient } from './sdk-client.js';

test('the official Scaleway SDK builds an image against the simulator', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const api = new Instancev1.API(sdkClient(sim));
  const imageId = await marketplaceImageId(sim, 'ubuntu_jammy', 'DEV1-S', 'fr-par-1');

  const { server } = await api.createServer({ name: 'sdk-build', commercialType: 'DEV1-S', image: imageId, tags: ['kiln', 'sdk'], protected: false });
  assert.ok(server);
  assert.equal(server.state, 'stopped');
  assert.deepEqual(server.allowedActions, ['poweron', 'backup']);

  await api.serverAction({ serverId: server.id, action: 'poweron' });
  const running = await api.waitForServer({ serverId: server.id }, { minDelay: 1, timeout: 60 });
  assert.equal(running.state, 'running');
  assert.ok(running.publicIp?.address.startsWith('127.'), 'a running server has a loopback public IP');

  await api.serverAction({ serverId: server.id, action: 'poweroff' });
  const stopped = await api.waitForServer({ serverId: server.id }, { minDelay: 1, timeout: 60 });
  assert.equal(stopped.state, 'stopped');
  assert.equal(stopped.publicIp, undefined, 'a stopped server has no public IP');
  const rootVolume = stopped.volumes['0'];
  assert.ok(rootVolume);

  const { snapshot } = await api.createSnapshot({ name: 'sdk-snap', volumeId: rootVolume.id });
  assert.ok(snapshot);
  const readySnapshot = await api.waitForSnapshot({ snapshotId: snapshot.id }, { minDelay: 1, timeout: 60 });
  assert.equal(readySnapshot.state, 'available');
  assert.equal(readySnapshot.baseVolume?.id, rootVolume.id);

  const { image } = await api.createImage({ name: 'sdk-image', rootVolume: snapshot.id, arch: 'x86_64' });
  assert.ok(image);
  const readyImage = await api.waitForImage({ imageId: image.id }, { minDelay: 1, timeout: 60 });
  assert.equal(readyImage.state, 'available');
  assert.equal(readyImage.rootVolume?.id, snapshot.id);

  const mine = await api.listImages({ project: SDK_PROJECT });
  assert.deepEqual(mine.images.map((i) => i.id), [image.id]);

  await api.deleteServer({ serverId: server.id });
  await assert.rejects(api.getServer({ serverId: server.id }), (error: Error & { status?: number }) => error.status === 404);
  // The root volume outlives its server, detached.
  const { volume } = await api.getVolume({ volumeId: rootVolume.id });
  assert.equal(volume?.server, undefined);
  assert.equal(volume?.state, 'available');

  await api.deleteImage({ imageId: image.id });
  await api.deleteSnapshot({ snapshotId: snapshot.id });
  await api.deleteVolume({ volumeId: rootVolume.id });
  assert.deepEqual((await api.listSnapshots({ project: SDK_PROJECT })).snapshots, []);
});

test('the SDK pages through servers with X-Total-Count', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const api = new Instancev1.API(sdkClient(sim, 'nl-ams-1'));
  const imageId = await marketplaceImageId(sim, 'debian_bookworm', 'GP1-XS', 'nl-ams-1');
  const created: string[] = [];
  for (let i = 0; i < 7; i++) {
    const { server } = await api.createServer({ name: `page-${i}`, commercialType: 'GP1-XS', image: imageId, protected: false });
    created.push(server!.id);
  }
  const firstPage = await api.listServers({ perPage: 3 });
  assert.equal(firstPage.totalCount, 7);
  assert.equal(firstPage.servers.length, 3);
  const all = await api.listServers({ perPage: 3 }).all();
  assert.deepEqual(all.map((s) => s.id).sort(), [...created].sort());

  for (const id of created) await api.deleteServer({ serverId: id });
  assert.equal((await api.listServers({})).totalCount, 0);
});
