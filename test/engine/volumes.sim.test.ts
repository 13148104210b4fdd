// SBS builds against the simulator: a PRO2 build with an SBS root of a chosen size and IOPS and
// one extra block volume, whose provisioner writes to both; a second build from that image reads
// both files back; bad volume input stops the build before anything exists; a failed SBS build
// leaves nothing, block volumes and block snapshots included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resourceFates } from '../../src/view/index.js';
import { startHarness, template, types, type Harness } from './harness.js';

const GB = 1_000_000_000;

function outputOf(h: Harness, buildId: string): string[] {
  return h.events(buildId).filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
}

test('a PRO2 build with an SBS root and an extra block volume; a second build from its image reads both disks back', { timeout: 180_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const first = h.template(
    template(
      {
        commercial_type: 'PRO2-XXS',
        image_name: 'sbs-image',
        snapshot_name: 'sbs-root',
        root_volume: { type: 'sbs_volume', size_in_gb: 30, iops: 15000 },
        block_volume: [{ name: 'data', size_in_gb: 20 }],
      },
      [{ type: 'shell', inline: ['echo root-side > /root/on-root', 'echo data-side > /mnt/vol1/on-data'] }],
    ),
  );
  const [built] = await h.build(first);
  assert.equal(built!.status, 'succeeded', JSON.stringify(built));
  const artifact = built!.artifact!;
  const inv = await h.inventory(built!.buildId);
  assert.deepEqual(inv.servers, []);
  assert.deepEqual(inv.volumes, [], 'the server and every volume are gone');
  assert.deepEqual(inv.images, [artifact.imageId]);
  assert.equal(artifact.snapshots?.length, 2, 'the artifact lists the root and the extra snapshot');
  assert.deepEqual([...inv.snapshots].sort(), artifact.snapshots!.map((s) => s.id).sort());
  assert.deepEqual(artifact.snapshots!.map((s) => s.name), ['sbs-root', 'sbs-root-1'], 'default snapshot names are distinct per volume');

  // The image: an SBS root snapshot plus the extra volume's block snapshot.
  const image = await h.client.getImage(artifact.imageId);
  assert.equal(image.root_volume?.volume_type, 'sbs_snapshot');
  assert.deepEqual(Object.keys(image.extra_volumes), ['1']);
  const rootSnapshot = await h.client.block.getSnapshot(artifact.snapshotId);
  assert.equal(rootSnapshot.size, 30 * GB, 'the root volume had the chosen size');
  assert.equal(rootSnapshot.status, 'in_use', 'the image links it');
  const extraId = artifact.snapshots![1]!.id;
  assert.equal((await h.client.block.getSnapshot(extraId)).size, 20 * GB);
  // What the provisioner wrote is in the snapshots' disks.
  assert.equal(readFileSync(join(h.sim.diskPathOfSnapshot(artifact.snapshotId)!, 'root', 'on-root'), 'utf8'), 'root-side\n');
  assert.equal(readFileSync(join(h.sim.diskPathOfSnapshot(extraId)!, 'on-data'), 'utf8'), 'data-side\n');
  assert.ok(!existsSync(join(h.sim.diskPathOfSnapshot(artifact.snapshotId)!, 'mnt', 'vol1', 'on-data')), 'the extra volume is not part of the root disk');

  // The log: volumes before the server, the IOPS change, block snapshots through the Block API.
  const events = h.events(built!.buildId);
  const order = types(events);
  assert.ok(order.indexOf('block_volume.created') < order.indexOf('server.create.requested'));
  assert.ok(order.indexOf('volume.iops.updated') < order.indexOf('server.poweron.requested'));
  assert.equal(events.find((e) => e.type === 'volume.iops.updated')!.data.iops, 15000);
  assert.equal(events.find((e) => e.type === 'snapshot.created')!.data.api, 'block');
  assert.ok((h.sim.requestCounts()['PATCH /block/volumes/{id}'] ?? 0) >= 1, 'the IOPS went through the Block API');
  assert.equal(h.sim.requestCounts()['POST /snapshots'] ?? 0, 0, 'no Instance API snapshot of an SBS volume');
  const deleted = events.filter((e) => e.type === 'volume.deleted').map((e) => e.data.volumeId);
  assert.equal(deleted.length, 2, `the root and the extra volume were deleted: ${JSON.stringify(events.filter((e) => e.type.startsWith('volume.') || e.type === 'server.created' || e.type === 'block_volume.created').map((e) => [e.type, e.data]))}`);
  // `kiln show`: each volume and snapshot with its fate.
  const fates = resourceFates(events).map((f) => `${f.kind}${f.api ? '@sbs' : ''}:${f.fate}`).sort();
  assert.deepEqual(fates, ['image:kept', 'server:deleted', 'snapshot@sbs:kept', 'snapshot@sbs:kept', 'volume@sbs:deleted', 'volume@sbs:deleted']);

  // A second build from the image: the new server has both disks back.
  const second = h.template(
    template({ commercial_type: 'PRO2-XXS', image: artifact.imageId, image_name: 'sbs-again', snapshot_name: 'again' }, [
      { type: 'shell', inline: ['cat /root/on-root /mnt/vol1/on-data'] },
    ]),
  );
  const [again] = await h.build(second);
  assert.equal(again!.status, 'succeeded', JSON.stringify(again));
  const output = outputOf(h, again!.buildId);
  assert.ok(output.includes('root-side') && output.includes('data-side'), output.join('\n'));
  const inv2 = await h.inventory(again!.buildId);
  assert.deepEqual([inv2.servers, inv2.volumes], [[], []]);
  assert.deepEqual(inv2.images, [again!.artifact!.imageId]);
  assert.equal(inv2.snapshots.length, 2);
  // Nothing of the first build went away meanwhile.
  assert.deepEqual((await h.inventory(built!.buildId)).images, [artifact.imageId]);
});

test('a DEV1 build keeps its l_ssd root and the Instance API snapshot', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const [outcome] = await h.build(h.template(template({ root_volume: { type: 'l_ssd', size_in_gb: 20 } }, [{ type: 'shell', inline: ['echo local > /root/f'] }])));
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const image = await h.client.getImage(outcome!.artifact!.imageId);
  assert.equal(image.root_volume?.volume_type, 'l_ssd');
  assert.equal(image.root_volume?.size, 20 * GB);
  const inv = await h.inventory(outcome!.buildId);
  assert.deepEqual(inv, { servers: [], volumes: [], snapshots: [outcome!.artifact!.snapshotId], images: [outcome!.artifact!.imageId] });
  assert.equal(outcome!.artifact!.snapshots, undefined);
});

const refused: Array<{ title: string; builder: Record<string, unknown>; message: RegExp }> = [
  { title: 'an l_ssd root on a type without local storage', builder: { commercial_type: 'PRO2-XXS', root_volume: { type: 'l_ssd' } }, message: /PRO2-XXS has no local storage/ },
  { title: 'a root smaller than the image', builder: { commercial_type: 'PRO2-XXS', root_volume: { size_in_gb: 5 } }, message: /needs at least 10 GB/ },
  { title: 'an l_ssd root larger than the type allows', builder: { commercial_type: 'DEV1-S', root_volume: { type: 'l_ssd', size_in_gb: 30 } }, message: /DEV1-S holds at most 20 GB/ },
  { title: 'an unknown snapshot_id', builder: { commercial_type: 'PRO2-XXS', block_volume: [{ snapshot_id: '0a1b2c3d-0000-4000-8000-000000000001' }] }, message: /block_volume\[0\]\.snapshot_id .* is not a block snapshot/ },
];

for (const { title, builder, message } of refused) {
  test(`refused before anything is created: ${title}`, { timeout: 60_000 }, async (t) => {
    const h = await startHarness();
    t.after(() => h.close());
    const [outcome] = await h.build(h.template(template({ communicator: 'none', ...builder })));
    assert.equal(outcome!.status, 'failed');
    assert.equal(outcome!.failure?.phase, 'prepare');
    assert.match(outcome!.failure!.error.message, message);
    assert.ok(!types(h.events(outcome!.buildId)).some((type) => type.endsWith('.create.requested')), 'nothing was created');
    assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
  });
}

test('a failing SBS build removes everything it created: server, SBS root, block volume', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ commercial_type: 'PLAY2-PICO', remove_volume: false, block_volume: [{ size_in_gb: 10 }] }, [{ type: 'shell', inline: ['exit 4'] }]));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.cleanedUp, true);
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
  const blockDeletes = h.events(outcome!.buildId).filter((e) => e.type === 'volume.deleted' && e.data.api === 'block');
  assert.equal(blockDeletes.length, 2, 'the SBS root and the extra volume went through the Block API');
});

test('a failure after the snapshots removes the block snapshots through the Block API', { timeout: 120_000 }, async (t) => {
  // Every image create answers 5xx (and creates nothing): the build fails after its snapshots exist.
  const h = await startHarness({ faults: { 'POST /images': { '5xx': 1 } } });
  t.after(() => h.close());
  const path = h.template(template({ commercial_type: 'PRO2-XXS', communicator: 'none', block_volume: [{ size_in_gb: 10 }], kiln_phase_policy: { 'image.create': { attempts: 1 } } }));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'failed', JSON.stringify(outcome));
  assert.equal(outcome!.failure?.phase, 'image.create');
  const events = h.events(outcome!.buildId);
  assert.equal(events.filter((e) => e.type === 'snapshot.deleted' && e.data.api === 'block').length, 2, 'both block snapshots were deleted');
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
});
