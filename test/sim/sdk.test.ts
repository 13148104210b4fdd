// The official Scaleway JS SDK drives the simulator unchanged: the proof that the simulator
// speaks Scaleway's wire format (paths, bodies, Content-Type, pagination, states).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '@scaleway/sdk-client';
import { Instancev1 } from '@scaleway/sdk-instance';
import { startTestSimulator } from '../helpers/sim.js';

const PROJECT = '7b3f2a1e-0c4d-4e5f-9a6b-1c2d3e4f5a6b';

interface MarketplaceImage {
  label: string;
  current_public_version: string;
  versions: { id: string; local_images: { id: string; zone: string; arch: string; compatible_commercial_types: string[] }[] }[];
}

/** Resolves a marketplace label the way Packer does (the JS SDK's marketplace package is not installed). */
async function marketplaceImageId(apiUrl: string, label: string, zone: string, commercialType: string): Promise<string> {
  const response = await fetch(`${apiUrl}/marketplace/v1/images?page=1`);
  assert.equal(response.headers.get('content-type'), 'application/json');
  const { images } = (await response.json()) as { images: MarketplaceImage[] };
  const image = images.find((candidate) => candidate.label === label);
  assert.ok(image, `marketplace has ${label}`);
  const version = image.versions.find((candidate) => candidate.id === image.current_public_version);
  const local = version?.local_images.find((candidate) => candidate.zone === zone && candidate.compatible_commercial_types.includes(commercialType));
  assert.ok(local, `${label} has a local image for ${commercialType} in ${zone}`);
  return local.id;
}

test('the official Scaleway SDK builds an image against the simulator', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const client = createClient({
    accessKey: 'SCWXXXXXXXXXXXXXXXXX',
    secretKey: '11111111-2222-4333-8444-555555555555',
    defaultProjectId: PROJECT,
    defaultZone: 'fr-par-1',
    apiURL: sim.apiUrl,
  });
  const api = new Instancev1.API(client);
  const imageId = await marketplaceImageId(sim.apiUrl, 'ubuntu_jammy', 'fr-par-1', 'DEV1-S');

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

  const mine = await api.listImages({ project: PROJECT });
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
  assert.deepEqual((await api.listSnapshots({ project: PROJECT })).snapshots, []);
});

test('the SDK pages through servers with X-Total-Count', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const client = createClient({
    accessKey: 'SCWXXXXXXXXXXXXXXXXX',
    secretKey: '11111111-2222-4333-8444-555555555555',
    defaultProjectId: PROJECT,
    defaultZone: 'nl-ams-1',
    apiURL: sim.apiUrl,
  });
  const api = new Instancev1.API(client);
  const imageId = await marketplaceImageId(sim.apiUrl, 'debian_bookworm', 'nl-ams-1', 'GP1-XS');
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
