// The Block Storage API module of kiln's client against the simulator: every page (total_count in
// the body), bare answers, and creates that are never blindly repeated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AmbiguousError, NotFoundError, ScalewayClient } from '../../src/scaleway/index.js';
import { startTestSimulator } from '../helpers/sim.js';

const SECRET = '0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
const PROJECT = '1e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7';
const GB = 1_000_000_000;

test('block lists read every page by total_count; get, patch and delete answer bare objects', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT, pageSize: 2 });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await client.block.createVolume({ name: `v${i}`, from_empty: { size: GB }, tags: ['kiln', 'kiln-build=b1'] })).id);
  await client.block.createVolume({ name: 'other', from_empty: { size: GB }, tags: ['kiln', 'kiln-build=b2'] });
  const before = sim.requestCounts()['GET /block/volumes'] ?? 0;
  const listed = await client.block.listVolumes({ tags: ['kiln-build=b1'] });
  assert.deepEqual(listed.map((v) => v.id).sort(), [...ids].sort());
  assert.equal((sim.requestCounts()['GET /block/volumes'] ?? 0) - before, 3, 'pages of 2: 2 + 2 + 1');
  const volume = await client.block.updateVolume(ids[0]!, { tags: ['kiln', 'renamed'], perf_iops: 15000 });
  assert.deepEqual(volume.tags, ['kiln', 'renamed']);
  assert.equal(volume.status, 'updating');
  for (;;) if ((await client.block.getVolume(ids[0]!)).status === 'available') break;
  await client.block.deleteVolume(ids[0]!);
  await assert.rejects(client.block.getVolume(ids[0]!), NotFoundError);
});

test('a block create that may have happened is ambiguous, not repeated', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ faults: { 'POST /block/volumes': { ghost_create: 1 } } });
  t.after(() => sim.close());
  const client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
  await assert.rejects(client.block.createVolume({ name: 'ghost', from_empty: { size: GB }, tags: ['kiln'] }), AmbiguousError);
  assert.equal(sim.requestCounts()['POST /block/volumes'], 1, 'sent once');
  assert.deepEqual((await client.block.listVolumes({ name: 'ghost' })).map((v) => v.name), ['ghost'], 'it exists: reconcile finds it by name or tags');
});
