// private_network_ids against the simulator (issue 12): one NIC per network once the server runs,
// tagged like everything kiln makes, recorded intent → result → available, waited for before SSH,
// and gone after cleanup; an unknown network stops the build in prepare; a NIC stuck in
// syncing_error fails the build (the plugin counts it a success) and nothing is left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROJECT, startHarness, template, types, type Harness } from './harness.js';

async function createPrivateNetwork(h: Harness, name: string): Promise<string> {
  const body = await h.client.callApi({ method: 'POST', path: '/vpc/v2/regions/fr-par/private-networks', json: { name, project_id: PROJECT }, kind: 'create' });
  return String(body.id);
}

/** Deleting a private network succeeds only when no NIC is left in it (412 otherwise). */
async function deletePrivateNetwork(h: Harness, id: string): Promise<void> {
  await h.client.callApi({ method: 'DELETE', path: `/vpc/v2/regions/fr-par/private-networks/${id}`, kind: 'delete' });
}

test('two private networks: a tagged NIC in each, available before SSH, deleted by cleanup', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const [a, b] = [await createPrivateNetwork(h, 'a'), await createPrivateNetwork(h, 'b')];
  const path = h.template(template({ private_network_ids: [a, b], tags: ['team=builds'] }, [{ type: 'shell', inline: ['true'] }]));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));

  const events = h.events(outcome!.buildId);
  const of = (type: string) => events.filter((e) => e.type === type);
  assert.deepEqual(of('private_nic.create.requested').map((e) => e.data.privateNetworkId), [a, b]);
  const created = of('private_nic.created');
  assert.deepEqual(created.map((e) => e.data.privateNetworkId), [a, b]);
  const tags = of('private_nic.create.requested')[0]!.data.tags as string[];
  assert.deepEqual(tags, ['kiln', `kiln-build=${outcome!.buildId}`, 'kiln-phase=network.attach', 'team=builds']);
  const all = types(events);
  assert.ok(all.lastIndexOf('private_nic.available') < all.indexOf('ssh.connected'), 'both NICs are available before SSH');
  assert.equal(of('private_nic.available').length, 2);
  for (const nic of created) {
    const intent = of('private_nic.create.requested').find((e) => e.data.privateNetworkId === nic.data.privateNetworkId)!;
    assert.ok(intent.seq < nic.seq);
  }
  // Cleanup removed them (before the server), and the networks are free again.
  assert.deepEqual(of('private_nic.deleted').map((e) => e.data.nicId).sort(), created.map((e) => e.data.nicId).sort());
  assert.ok(all.lastIndexOf('private_nic.deleted') < all.indexOf('server.deleted'));
  const record = h.store.getBuild(outcome!.buildId)!;
  assert.deepEqual(record.resources.privateNics?.map((n) => n.deleted), [true, true]);
  await deletePrivateNetwork(h, a);
  await deletePrivateNetwork(h, b);
});

test('an unknown private network stops the build in prepare, before anything is created', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const known = await createPrivateNetwork(h, 'known');
  const missing = '0dead000-0000-4000-8000-000000000000';
  const [outcome] = await h.build(h.template(template({ private_network_ids: [known, missing] })));
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.failure?.phase, 'prepare');
  assert.match(outcome!.failure!.error.message, new RegExp(`private_network_ids: ${missing} is not a private network of region fr-par`));
  assert.ok(!types(h.events(outcome!.buildId)).includes('server.create.requested'));
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
});

test('a NIC that ends in syncing_error fails the build in network.attach; cleanup leaves nothing', { timeout: 120_000 }, async (t) => {
  const h = await startHarness({ faults: { 'POST /servers/{id}/private_nics': { error_state: 1 } } });
  t.after(() => h.close());
  const network = await createPrivateNetwork(h, 'flaky');
  const [outcome] = await h.build(h.template(template({ private_network_ids: [network] }, [{ type: 'shell', inline: ['true'] }])));
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.failure?.phase, 'network.attach');
  assert.match(outcome!.failure!.error.message, /failed to join private network .* \(state syncing_error\)/);
  assert.equal(outcome!.cleanedUp, true);
  const all = types(h.events(outcome!.buildId));
  assert.ok(!all.includes('private_nic.available'));
  assert.ok(!all.includes('ssh.connected'), 'no provisioning on a server missing its network');
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
  await deletePrivateNetwork(h, network);
});

test('keep_server keeps the NICs with the server', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const network = await createPrivateNetwork(h, 'kept');
  const [outcome] = await h.build(h.template(template({ private_network_ids: [network], keep_server: true })));
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const [serverId] = (await h.inventory(outcome!.buildId)).servers;
  const server = (await h.client.getServer(serverId!)) as unknown as { private_nics: { private_network_id: string; state: string }[] };
  assert.deepEqual(server.private_nics.map((n) => [n.private_network_id, n.state]), [[network, 'available']]);
  assert.equal(h.store.getBuild(outcome!.buildId)!.resources.privateNics?.[0]?.kept, true);
  await assert.rejects(deletePrivateNetwork(h, network), 'the kept NIC still uses the network');
});
