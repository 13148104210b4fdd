// root_volume and block_volume: the plugin's keys, defaults and the offline checks (the checks that
// need the API run in the prepare phase; see test/engine/volumes.sim.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builder, fixture, problemAt } from './helpers.js';

test('no volume keys: the API decides the root volume, no block volumes', async () => {
  const { builds, evaluation } = await fixture({ builders: [builder()] }).load();
  const timestamp = Math.floor(Date.parse(evaluation.initTime) / 1000);
  assert.deepEqual(builds[0]!.rootVolume, {});
  assert.deepEqual(builds[0]!.blockVolumes, []);
  assert.equal(builds[0]!.snapshotName, `packer-${timestamp}`);
});

test('root_volume: type, size and IOPS; size or IOPS alone mean sbs_volume; its snapshot_name names the root snapshot', async () => {
  const load = async (root: unknown, extra: Record<string, unknown> = {}) =>
    (await fixture({ builders: [builder({ root_volume: root, ...extra })] }).load()).builds[0]!;
  assert.deepEqual((await load({ type: 'sbs_volume', size_in_gb: 30, iops: 15000 })).rootVolume, { type: 'sbs_volume', sizeGb: 30, iops: 15000 });
  assert.deepEqual((await load({ type: 'L_SSD', size_in_gb: 20 })).rootVolume, { type: 'l_ssd', sizeGb: 20 });
  assert.deepEqual((await load({ size_in_gb: 25 })).rootVolume, { type: 'sbs_volume', sizeGb: 25 });
  assert.deepEqual((await load({ iops: 5000 })).rootVolume, { type: 'sbs_volume', iops: 5000 });
  assert.equal((await load({ snapshot_name: 'root-snap' }, { snapshot_name: 'top' })).snapshotName, 'root-snap');
  assert.equal((await load({ type: 'sbs_volume' }, { snapshot_name: 'top' })).snapshotName, 'top');
});

test('block_volume: each entry gets a name of its own; without snapshot_name its snapshot is packer-{{timestamp}}, as the plugin names it', async () => {
  const snapshotId = '0a1b2c3d-0000-4000-8000-000000000001';
  const { builds, evaluation } = await fixture({
    builders: [builder({ snapshot_name: 'base', block_volume: [{ size_in_gb: 20 }, { name: 'data', snapshot_id: snapshotId, iops: 15000, snapshot_name: 'data-snap' }, { size_in_gb: 5 }] })],
  }).load();
  const timestamp = Math.floor(Date.parse(evaluation.initTime) / 1000);
  assert.deepEqual(builds[0]!.blockVolumes, [
    { name: `packer-${evaluation.uuid}-1`, sizeGb: 20, snapshotName: `packer-${timestamp}` },
    { name: 'data', snapshotId, iops: 15000, snapshotName: 'data-snap' },
    { name: `packer-${evaluation.uuid}-3`, sizeGb: 5, snapshotName: `packer-${timestamp}` },
  ]);
});

const errors: Array<{ title: string; overrides: Record<string, unknown>; path: string; message: RegExp; hint?: RegExp }> = [
  { title: 'an unknown root volume type', overrides: { root_volume: { type: 'sbs_volme' } }, path: 'builders[0].root_volume.type', message: /"sbs_volme" is not a root volume type/, hint: /did you mean "sbs_volume"\?/ },
  { title: 'b_ssd', overrides: { root_volume: { type: 'b_ssd' } }, path: 'builders[0].root_volume.type', message: /b_ssd volumes are no longer supported/, hint: /sbs_volume/ },
  { title: 'IOPS on a local root', overrides: { root_volume: { type: 'l_ssd', iops: 5000 } }, path: 'builders[0].root_volume.iops', message: /only SBS volumes have a choice of IOPS/ },
  { title: 'IOPS Scaleway does not offer', overrides: { root_volume: { iops: 7000 } }, path: 'builders[0].root_volume.iops', message: /7000 IOPS is not offered/, hint: /5000.*15000/ },
  { title: 'a zero size', overrides: { root_volume: { size_in_gb: 0 } }, path: 'builders[0].root_volume.size_in_gb', message: /at least 1/ },
  { title: 'a misspelt root volume key', overrides: { root_volume: { size: 20 } }, path: 'builders[0].root_volume.size', message: /unknown key "size"/ },
  { title: 'both size_in_gb and snapshot_id', overrides: { block_volume: [{ size_in_gb: 10, snapshot_id: '0a1b2c3d-0000-4000-8000-000000000001' }] }, path: 'builders[0].block_volume[0]', message: /both size_in_gb and snapshot_id/, hint: /keep one/ },
  { title: 'neither size_in_gb nor snapshot_id', overrides: { block_volume: [{ name: 'x' }] }, path: 'builders[0].block_volume[0]', message: /needs size_in_gb or snapshot_id/ },
  { title: 'a snapshot_id that is not a UUID', overrides: { block_volume: [{ snapshot_id: 'latest' }] }, path: 'builders[0].block_volume[0].snapshot_id', message: /"latest" is not a snapshot ID/ },
  { title: 'a block volume that is not an object', overrides: { block_volume: [20] }, path: 'builders[0].block_volume[0]', message: /must be an object/ },
];

for (const { title, overrides, path, message, hint } of errors) {
  test(`volume error: ${title}`, async () => {
    const problem = problemAt(await fixture({ builders: [builder(overrides)] }).problems(), path);
    assert.match(problem.message, message);
    if (hint) assert.match(problem.hint ?? '', hint);
  });
}
