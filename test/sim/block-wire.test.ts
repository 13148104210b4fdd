// The simulator answers the exact requests Packer's current scaleway plugin sends for an SBS build
// the way Scaleway answered them in the plugin's recorded traffic (facts from
// reference/scaleway-modern-api.md; no recording is copied here): raw bodies, statuses, shapes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';
import { client, PROJECT, until, type Call } from './client.js';

let sim: Simulator;
let call: Call;
before(async () => {
  sim = await startTestSimulator();
  call = client(sim);
});
after(() => sim.close());

const block = (version: 'v1' | 'v1alpha1', path: string) => `//block/${version}/zones/fr-par-1${path}`;

test("the plugin's SBS build, request by request, on the wire", async () => {
  // stepCreateVolume: block v1alpha1 POST, tags null; a bare 200 answer, `creating`.
  const created = await call('POST', block('v1alpha1', '/volumes'), { name: 'packer-extra', project_id: PROJECT, from_empty: { size: 20_000_000_000 }, tags: null });
  assert.equal(created.status, 200);
  assert.equal(created.json.volume, undefined, 'no {"volume": …} wrapper');
  assert.equal(created.json.status, 'creating');
  assert.deepEqual(created.json.specs, { perf_iops: 5000, class: 'sbs' });

  // stepCreateServer: the label as it is, an SBS root of 50 GB, the block volume as "1".
  const server = await call('POST', '/servers', {
    name: 'packer-sbs',
    commercial_type: 'PRO2-XXS',
    image: 'ubuntu_jammy',
    boot_type: 'local',
    project: PROJECT,
    tags: ['AUTHORIZED_KEY=ssh-rsa_AAAA'],
    volumes: { '0': { size: 50_000_000_000, volume_type: 'sbs_volume' }, '1': { id: created.json.id, volume_type: 'sbs_volume' } },
  });
  assert.equal(server.status, 201, server.text);
  const s = server.json.server;
  assert.deepEqual(Object.keys(s.volumes['0']).sort(), ['boot', 'id', 'state', 'volume_type', 'zone'], 'SBS entries are minimal');
  assert.equal(s.image.root_volume.volume_type, 'sbs_snapshot');
  assert.deepEqual([s.dynamic_ip_required, s.routed_ip_enabled, s.public_ip, s.public_ips], [true, true, null, []]);
  const rootId = s.volumes['0'].id as string;

  // The root IOPS: block v1alpha1 PATCH answers `updating` with the old type still shown.
  const patched = await call('PATCH', block('v1alpha1', `/volumes/${rootId}`), { perf_iops: 15000 });
  assert.deepEqual([patched.status, patched.json.status, patched.json.type], [200, 'updating', 'sbs_5k']);
  await until(() => call('GET', block('v1', `/volumes/${rootId}`)), (r) => r.json.type === 'sbs_15k' && r.json.status === 'in_use');

  await call('POST', `/servers/${s.id}/action`, { action: 'poweron' });
  await until(() => call('GET', `/servers/${s.id}`), (r) => r.json.server.state === 'running');
  await call('POST', `/servers/${s.id}/action`, { action: 'poweroff' });
  await until(() => call('GET', `/servers/${s.id}`), (r) => r.json.server.state === 'stopped');

  // stepBackup: one block v1 snapshot per volume, `creating` with an internal reference first.
  const snapshots: string[] = [];
  for (const volumeId of [rootId, created.json.id as string]) {
    const snap = await call('POST', block('v1', '/snapshots'), { volume_id: volumeId, name: `packer-${volumeId.slice(0, 4)}`, project_id: PROJECT, tags: [], public: false });
    assert.deepEqual([snap.status, snap.json.status, snap.json.class], [200, 'creating', 'sbs']);
    assert.equal(snap.json.references[0].product_resource_type, 'internal');
    assert.equal(snap.json.parent_volume.id, volumeId);
    snapshots.push(snap.json.id);
  }
  for (const id of snapshots) await until(() => call('GET', block('v1', `/snapshots/${id}`)), (r) => r.json.status === 'available');
  const image = await call('POST', '/images', { name: 'packer-image', root_volume: snapshots[0], arch: 'x86_64', extra_volumes: { '1': { id: snapshots[1] } }, project: PROJECT, public: false });
  assert.equal(image.status, 201, image.text);
  assert.deepEqual(image.json.image.root_volume, { volume_type: 'sbs_snapshot', id: snapshots[0], size: 0, name: '' });
  assert.deepEqual(image.json.image.extra_volumes, { '1': { volume_type: 'sbs_snapshot', id: snapshots[1], size: 0, name: '' } });
  assert.equal(image.json.image.from_server, '');
  const linked = await call('GET', block('v1', `/snapshots/${snapshots[1]}`));
  assert.equal(linked.json.status, 'in_use');
  assert.deepEqual([linked.json.references[0].product_resource_type, linked.json.references[0].type], ['instance_image', 'link']);
  // The plugin's sweep deletes block snapshots with the Instance DELETE: Scaleway does not know them there.
  assert.equal((await call('DELETE', `/snapshots/${snapshots[1]}`)).status, 404);

  // Cleanup: DELETE /servers deletes no volume; the Instance API 404s on SBS ids; block DELETE 204.
  const deleted = await call('DELETE', `/servers/${s.id}`);
  assert.deepEqual([deleted.status, deleted.text], [204, '']);
  const instanceGet = await call('GET', `/volumes/${rootId}`);
  assert.equal(instanceGet.status, 404);
  assert.deepEqual(instanceGet.json, { type: 'not_found', message: 'resource is not found', resource: 'instance_volume', resource_id: rootId });
  const detached = await call('GET', block('v1alpha1', `/volumes/${rootId}`));
  assert.deepEqual([detached.json.status, detached.json.references], ['available', []]);
  assert.ok(detached.json.last_detached_at);
  const list = await call('GET', block('v1', '/volumes?page=1&page_size=1'));
  assert.equal(list.json.total_count, 2);
  assert.equal(list.headers.get('x-total-count'), null, 'block lists carry the total in the body only');
  for (const id of [rootId, created.json.id]) assert.deepEqual(await call('DELETE', block('v1alpha1', `/volumes/${id}`)).then((r) => [r.status, r.text]), [204, '']);
});

test('a held blockSnapshot keeps a Block snapshot `creating` until it is released', { timeout: 60_000 }, async (t) => {
  // A latency of 0 ends a snapshot in its create's answer; held, it stays `creating` (as the
  // cassette replay needs to see it on a busy machine).
  const held = await startTestSimulator({ latency: { blockSnapshot: 0 }, hold: ['blockSnapshot'] });
  t.after(() => held.close());
  const heldCall = client(held);
  const volume = await heldCall('POST', block('v1', '/volumes'), { name: 'held', project_id: PROJECT, from_empty: { size: 10_000_000_000 } });
  await until(() => heldCall('GET', block('v1', `/volumes/${volume.json.id}`)), (r) => r.json.status === 'available');
  const snap = await heldCall('POST', block('v1', '/snapshots'), { volume_id: volume.json.id, name: 'held', project_id: PROJECT });
  assert.deepEqual([snap.status, snap.json.status], [200, 'creating']);
  held.release('blockSnapshot');
  await until(() => heldCall('GET', block('v1', `/snapshots/${snap.json.id}`)), (r) => r.json.status === 'available');
});
