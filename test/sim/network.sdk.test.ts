// The official Scaleway SDKs (sdk-vpc, sdk-instance) drive the simulator's networking unchanged:
// VPC private networks, security groups, and a server's private NICs with their
// `syncing` → `available` lifecycle (and `syncing_error` under an `error_state` fault).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Instancev1 } from '@scaleway/sdk-instance';
import { Vpcv2 } from '@scaleway/sdk-vpc';
import { startTestSimulator } from '../helpers/sim.js';
import { SDK_PROJECT, sdkClient } from './sdk-client.js';

async function setUp(faults?: Record<string, Record<string, number>>) {
  const sim = await startTestSimulator({ latency: { boot: 40, stop: 25, snapshot: 20, image: 20, nic: 200 }, ...(faults ? { faults } : {}) });
  const client = sdkClient(sim, 'fr-par-1', 'fr-par');
  const instance = new Instancev1.API(client);
  const vpc = new Vpcv2.API(client);
  const local = await instance.listImages({ name: 'Ubuntu 22.04', arch: 'x86_64', public: true });
  const imageId = local.images[0]!.id;
  return { sim, instance, vpc, imageId };
}

test('sdk-vpc: a private network is created, read, listed and deleted; an unknown one is a 404', async (t) => {
  const { sim, vpc } = await setUp();
  t.after(() => sim.close());
  const network = await vpc.createPrivateNetwork({ name: 'builds', defaultRoutePropagationEnabled: false, tags: ['kiln-test'] });
  assert.equal(network.region, 'fr-par');
  assert.equal(network.projectId, SDK_PROJECT);
  assert.equal(network.subnets.length, 1);
  const read = await vpc.getPrivateNetwork({ privateNetworkId: network.id });
  assert.deepEqual([read.id, read.name, read.tags], [network.id, 'builds', ['kiln-test']]);
  const listed = await vpc.listPrivateNetworks({});
  assert.deepEqual(listed.privateNetworks.map((n) => n.id), [network.id]);
  assert.equal(listed.totalCount, 1);
  await assert.rejects(vpc.getPrivateNetwork({ privateNetworkId: '00000000-0000-4000-8000-000000000000' }), (error: Error) => /not.?found|404/i.test(`${error.name} ${error.message}`));
  await vpc.deletePrivateNetwork({ privateNetworkId: network.id });
  await assert.rejects(vpc.getPrivateNetwork({ privateNetworkId: network.id }));
});

test('sdk-instance: a security group is created and read; a server created in it says so', async (t) => {
  const { sim, instance, imageId } = await setUp();
  t.after(() => sim.close());
  const { securityGroup } = await instance.createSecurityGroup({ name: 'builders', description: 'kiln test', stateful: true, inboundDefaultPolicy: 'accept', outboundDefaultPolicy: 'accept', enableDefaultSecurity: true });
  assert.ok(securityGroup);
  const { securityGroup: read } = await instance.getSecurityGroup({ securityGroupId: securityGroup.id });
  assert.equal(read?.name, 'builders');
  const { server } = await instance.createServer({ name: 'in-group', commercialType: 'DEV1-S', image: imageId, securityGroup: securityGroup.id, protected: false });
  assert.equal(server?.securityGroup?.id, securityGroup.id);
  await assert.rejects(instance.createServer({ name: 'bad-group', commercialType: 'DEV1-S', image: imageId, securityGroup: '00000000-0000-4000-8000-000000000000', protected: false }));
});

test('sdk-instance: a project has a default security group in each zone; a server created without one is put in it', async (t) => {
  const { sim, instance, imageId } = await setUp();
  t.after(() => sim.close());
  // Before the project made anything, a look at its groups finds the default one already.
  const { securityGroups } = await instance.listSecurityGroups({ project: SDK_PROJECT, projectDefault: true });
  assert.equal(securityGroups.length, 1);
  const group = securityGroups[0]!;
  assert.deepEqual([group.name, group.projectDefault, group.project, group.zone], ['Default security group', true, SDK_PROJECT, 'fr-par-1']);
  assert.deepEqual([group.inboundDefaultPolicy, group.outboundDefaultPolicy], ['accept', 'accept']);
  const { securityGroup: read } = await instance.getSecurityGroup({ securityGroupId: group.id });
  assert.equal(read?.id, group.id);

  const { server: plain } = await instance.createServer({ name: 'no-group', commercialType: 'DEV1-S', image: imageId, protected: false });
  assert.deepEqual([plain?.securityGroup?.id, plain?.securityGroup?.name], [group.id, 'Default security group']);
  const { server: named } = await instance.createServer({ name: 'default-group', commercialType: 'DEV1-S', image: imageId, securityGroup: group.id, protected: false });
  assert.equal(named?.securityGroup?.id, group.id);
  // The group lists its servers; another zone has a default group of its own.
  const { securityGroup: withServers } = await instance.getSecurityGroup({ securityGroupId: group.id });
  assert.deepEqual(withServers?.servers.map((s) => s.name).sort(), ['default-group', 'no-group']);
  const elsewhere = await instance.listSecurityGroups({ zone: 'nl-ams-1', project: SDK_PROJECT });
  assert.equal(elsewhere.securityGroups.length, 1);
  assert.notEqual(elsewhere.securityGroups[0]!.id, group.id);
  // A group of one's own is not a default one.
  await instance.createSecurityGroup({ name: 'mine', description: '', stateful: true, inboundDefaultPolicy: 'drop', outboundDefaultPolicy: 'accept', enableDefaultSecurity: true });
  assert.deepEqual((await instance.listSecurityGroups({ project: SDK_PROJECT, projectDefault: true })).securityGroups.map((g) => g.id), [group.id]);
});

test('sdk-instance: a private NIC syncs, then is available; listed on the server and in the server object; deleted with DELETE', async (t) => {
  const { sim, instance, vpc, imageId } = await setUp();
  t.after(() => sim.close());
  const network = await vpc.createPrivateNetwork({ name: 'pn', defaultRoutePropagationEnabled: false });
  const { server } = await instance.createServer({ name: 'nic', commercialType: 'DEV1-S', image: imageId, protected: false });
  await instance.serverAction({ serverId: server!.id, action: 'poweron' });
  await instance.waitForServer({ serverId: server!.id }, { minDelay: 1, timeout: 60 });

  const { privateNic } = await instance.createPrivateNIC({ serverId: server!.id, privateNetworkId: network.id, tags: ['kiln'] });
  assert.equal(privateNic?.state, 'syncing');
  const available = await instance.waitForPrivateNIC({ serverId: server!.id, privateNicId: privateNic!.id }, { minDelay: 1, timeout: 30 });
  assert.equal(available.state, 'available');
  assert.equal(available.privateNetworkId, network.id);
  const { privateNics, totalCount } = await instance.listPrivateNICs({ serverId: server!.id, tags: ['kiln'] });
  assert.deepEqual([privateNics.map((n) => n.id), totalCount], [[privateNic!.id], 1]);
  const { server: withNic } = await instance.getServer({ serverId: server!.id });
  assert.deepEqual(withNic?.privateNics.map((n) => n.id), [privateNic!.id]);
  // One NIC per network; an unknown network is a 404.
  await assert.rejects(instance.createPrivateNIC({ serverId: server!.id, privateNetworkId: network.id }));
  await assert.rejects(instance.createPrivateNIC({ serverId: server!.id, privateNetworkId: '00000000-0000-4000-8000-000000000000' }));

  await instance.deletePrivateNIC({ serverId: server!.id, privateNicId: privateNic!.id });
  assert.equal((await instance.listPrivateNICs({ serverId: server!.id })).totalCount, 0);
});

test('an error_state fault on the NIC create leaves the NIC in syncing_error, where the SDK wait stops', async (t) => {
  const { sim, instance, vpc, imageId } = await setUp({ 'POST /servers/{id}/private_nics': { error_state: 1 } });
  t.after(() => sim.close());
  const network = await vpc.createPrivateNetwork({ name: 'pn', defaultRoutePropagationEnabled: false });
  const { server } = await instance.createServer({ name: 'nic-error', commercialType: 'DEV1-S', image: imageId, protected: false });
  const { privateNic } = await instance.createPrivateNIC({ serverId: server!.id, privateNetworkId: network.id });
  const ended = await instance.waitForPrivateNIC({ serverId: server!.id, privateNicId: privateNic!.id }, { minDelay: 1, timeout: 30 });
  assert.equal(ended.state, 'syncing_error');
  // The NIC goes with its server: the private network can then be deleted.
  await assert.rejects(vpc.deletePrivateNetwork({ privateNetworkId: network.id }), 'a network with a NIC in it is in use');
  await instance.deleteServer({ serverId: server!.id });
  await vpc.deletePrivateNetwork({ privateNetworkId: network.id });
});
