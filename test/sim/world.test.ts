// The simulated world: disks follow volumes → snapshots → images → new servers, volumes outlive
// their servers, flexible IPs, and a state directory that survives a restart.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';
import { client, createServer, PROJECT, until } from './client.js';
import { now } from '../../src/sim/world.js';

test('what is written on a server\'s disk is in its snapshot, its image and servers made from it', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const call = client(sim);
  const server = await createServer(call, { name: 'builder' });
  const volumeDisk = sim.diskPathOfVolume(server.volumes['0'].id)!;
  assert.match(await readFile(join(volumeDisk, 'etc/os-release'), 'utf8'), /ID=ubuntu/, 'the root volume starts as a copy of the base image');
  await writeFile(join(volumeDisk, 'root', 'provisioned.txt'), 'hello from the build\n');

  const { json: created } = await call('POST', '/snapshots', { name: 'snap', volume_id: server.volumes['0'].id, project: PROJECT });
  const snapshotId = created.snapshot.id as string;
  assert.equal(created.snapshot.state, 'snapshotting');
  assert.equal(created.snapshot.base_volume.id, server.volumes['0'].id);
  await writeFile(join(volumeDisk, 'root', 'after-snapshot.txt'), 'too late\n');
  const { json: imageAnswer } = await call('POST', '/images', { name: 'built', root_volume: snapshotId, arch: 'x86_64', project: PROJECT });
  await until(() => call('GET', `/images/${imageAnswer.image.id}`), (r) => r.json.image.state === 'available');

  const snapshotDisk = sim.diskPathOfSnapshot(snapshotId)!;
  assert.equal(await readFile(join(snapshotDisk, 'root', 'provisioned.txt'), 'utf8'), 'hello from the build\n');
  assert.equal(existsSync(join(snapshotDisk, 'root', 'after-snapshot.txt')), false, 'the snapshot is the disk as it was when taken');

  const child = await createServer(call, { name: 'from-image', image: imageAnswer.image.id });
  const childDisk = sim.diskPathOfVolume(child.volumes['0'].id)!;
  assert.equal(await readFile(join(childDisk, 'root', 'provisioned.txt'), 'utf8'), 'hello from the build\n');
  await writeFile(join(childDisk, 'root', 'provisioned.txt'), 'changed\n');
  assert.equal(await readFile(join(snapshotDisk, 'root', 'provisioned.txt'), 'utf8'), 'hello from the build\n', 'a server has its own copy');

  const inUse = await call('DELETE', `/snapshots/${snapshotId}`);
  assert.equal(inUse.status, 400, 'a snapshot an image uses cannot go first');
});

test('a deleted server leaves its volume available and detached; volume tags can be set', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const call = client(sim);
  const server = await createServer(call);
  const volumeId = server.volumes['0'].id as string;
  assert.equal(server.volumes['0'].server.id, server.id);
  assert.equal((await call('DELETE', `/servers/${server.id}`)).status, 204);
  const { json } = await call('GET', `/volumes/${volumeId}`);
  assert.equal(json.volume.state, 'available');
  assert.equal(json.volume.server, null);
  const patched = await call('PATCH', `/volumes/${volumeId}`, { tags: ['kiln', 'kiln-build=7'] });
  assert.deepEqual(patched.json.volume.tags, ['kiln', 'kiln-build=7']);
  const listed = await call('GET', '/volumes?tags=kiln-build=7');
  assert.deepEqual(listed.json.volumes.map((v: { id: string }) => v.id), [volumeId]);
  assert.equal((await call('DELETE', `/volumes/${volumeId}`)).status, 204);
  assert.equal(sim.diskPathOfVolume(volumeId), undefined);
});

test('a server created with a flexible IP answers on that address', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const call = client(sim);
  const { json } = await call('POST', '/ips', { project: PROJECT, tags: ['kiln'] });
  assert.match(json.ip.address, /^127\./);
  const server = await createServer(call, { public_ip: json.ip.id, dynamic_ip_required: false });
  await call('POST', `/servers/${server.id}/action`, { action: 'poweron' });
  const running = await until(() => call('GET', `/servers/${server.id}`), (r) => r.json.server.state === 'running');
  assert.deepEqual({ address: running.json.server.public_ip.address, dynamic: running.json.server.public_ip.dynamic }, { address: json.ip.address, dynamic: false });
  assert.equal((await call('GET', `/ips/${json.ip.id}`)).json.ip.server.id, server.id);
});

test('with a state directory the world survives a restart and pending transitions complete', { timeout: 60_000 }, async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'kiln-sim-state-test-'));
  let second: Simulator | undefined;
  // The second simulator stops before its state is removed (a running server's cloud-init may still be writing to its disk).
  t.after(async () => {
    await second?.close();
    await rm(stateDir, { recursive: true, force: true });
  });
  // The boot is held across the restart: the restored transition is still pending when the test
  // looks, however long the restart took; released, it completes.
  const options = { stateDir, latency: { boot: 50 }, hold: ['boot' as const] };
  const first = await startTestSimulator(options);
  let call = client(first);
  const parked = await createServer(call, { name: 'parked' });
  const booting = await createServer(call, { name: 'booting' });
  await call('POST', `/servers/${booting.id}/action`, { action: 'poweron' });
  assert.equal((await call('GET', `/servers/${booting.id}`)).json.server.state, 'starting');
  await first.close();

  second = await startTestSimulator(options);
  call = client(second);
  const again = await call('GET', `/servers/${parked.id}`);
  assert.equal(again.json.server.name, 'parked');
  assert.equal(again.json.server.state, 'stopped');
  assert.ok(existsSync(join(second.diskPathOfVolume(parked.volumes['0'].id)!, 'etc/os-release')), 'disks are kept too');
  assert.equal((await call('GET', `/servers/${booting.id}`)).json.server.state, 'starting', 'the boot was pending at the restart');
  second.release('boot');
  const running = await until(() => call('GET', `/servers/${booting.id}`), (r) => r.json.server.state === 'running');
  assert.ok(running.json.server.public_ip.address);
  assert.equal(second.floorMs(booting.id), 50);
});

// 300 servers, each a disk copy by `cp`: about 25 s on an idle 2-core machine.
test('a zone holds more servers than one /24 of addresses, each with its own address', { timeout: 300_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const call = client(sim);
  const addresses = new Set<string>();
  // 300 > the 253 hosts of one /24; created a few at a time, as a client would.
  for (let batch = 0; batch < 30; batch++) {
    const servers = await Promise.all(Array.from({ length: 10 }, (_, i) => createServer(call, { name: `many-${batch}-${i}` })));
    for (const server of servers) {
      const started = await call('POST', `/servers/${server.id}/action`, { action: 'poweron' });
      assert.equal(started.status, 202);
    }
    for (const server of servers) {
      const { json } = await until(() => call('GET', `/servers/${server.id}`), (r) => r.json.server.public_ip !== null);
      addresses.add(json.server.public_ip.address);
    }
  }
  assert.equal(addresses.size, 300, 'no two servers share an address');
  for (const address of addresses) assert.match(address, /^127\.(\d+)\.\d+\.\d+$/);
  assert.equal(new Set([...addresses].map((a) => a.split('.')[1])).size, 1, 'all in this simulator\'s 127.A range');
});

test('a latency of 0: an instance snapshot and an image answer available in their create, with nothing left pending', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ latency: { snapshot: 0, image: 0 } });
  t.after(() => sim.close());
  const call = client(sim);
  const server = await createServer(call, { name: 'instant' });
  const volumeId = server.volumes['0'].id as string;
  const { json: created } = await call('POST', '/snapshots', { name: 'snap', volume_id: volumeId, project: PROJECT });
  assert.equal(created.snapshot.state, 'available');
  assert.equal(created.snapshot.modification_date, created.snapshot.creation_date, 'created and available: one change');
  assert.equal((await call('GET', `/volumes/${volumeId}`)).json.volume.state, 'available', 'the volume is not left snapshotting');
  const { json: image } = await call('POST', '/images', { name: 'built', root_volume: created.snapshot.id, arch: 'x86_64', project: PROJECT });
  assert.equal(image.image.state, 'available');
  assert.equal(image.image.modification_date, image.image.creation_date);
  // The floor records each as 0 ms (a bench matches a client's wait to it); the server's floor is unchanged.
  assert.deepEqual(sim.floorParts(server.id), [{ kind: 'snapshot', ms: 0 }, { kind: 'image', ms: 0 }]);
  assert.equal(sim.floorMs(server.id), 0);
});

test('a stuck fault keeps a 0 ms snapshot snapshotting', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ latency: { snapshot: 0 }, faults: { 'POST /snapshots': { stuck: 1 } } });
  t.after(() => sim.close());
  const call = client(sim);
  const server = await createServer(call);
  const { json } = await call('POST', '/snapshots', { name: 'stuck', volume_id: server.volumes['0'].id, project: PROJECT });
  assert.equal(json.snapshot.state, 'snapshotting');
});

test('the simulator\'s stamps never repeat: two changes in one millisecond get two stamps, in order', () => {
  const stamps = Array.from({ length: 50 }, () => now());
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!, `${stamps[i]} after ${stamps[i - 1]}`);
});

test('a server\'s modification_date moves at each state change and only then, even within one millisecond; details as recorded on Scaleway', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  sim.hold('boot', 'stop');
  const call = client(sim);
  const server = await createServer(call);
  const look = async () => (await call('GET', `/servers/${server.id}`)).json.server;
  assert.equal((await look()).modification_date, server.modification_date, 'a GET changes nothing');
  await call('POST', `/servers/${server.id}/action`, { action: 'poweron' });
  const starting = await look();
  assert.equal(starting.state_detail, 'allocating node');
  assert.ok(starting.modification_date > server.modification_date, 'poweron: stopped → starting');
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal((await look()).modification_date, starting.modification_date, 'looking again changes nothing');
  sim.release('boot');
  const running = (await until(() => call('GET', `/servers/${server.id}`), (r) => r.json.server.state === 'running')).json.server;
  assert.equal(running.state_detail, 'booting kernel');
  assert.ok(running.modification_date > starting.modification_date, 'starting → running');
  const off = await call('POST', `/servers/${server.id}/action`, { action: 'poweroff' });
  assert.equal(off.json.task.description, 'server_poweroff');
  const stopping = await look();
  assert.equal(stopping.state_detail, 'stopping');
  assert.ok(stopping.modification_date > running.modification_date, 'running → stopping');
  sim.release('stop');
  const stopped = (await until(() => call('GET', `/servers/${server.id}`), (r) => r.json.server.state === 'stopped')).json.server;
  assert.equal(stopped.state_detail, '');
  assert.ok(stopped.modification_date > stopping.modification_date, 'stopping → stopped');
});
