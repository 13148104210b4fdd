// The plugin's server options against the simulator (issue 12): security_group_id (checked in
// prepare, sent at creation), keep_server (kept, recorded, never an orphan for gc, said so by
// show), admin_password_encryption_ssh_key_id with a Windows image and communicator none, and
// cleanup_machine_related_data proven from the image's disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resourceFates } from '../../src/view/index.js';
import { runGc } from '../../src/gc/index.js';
import { runKiln } from '../helpers/cli.js';
import { PROJECT, SECRET, startHarness, template, type Harness } from './harness.js';

const IAM_KEY = '0be0a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b';

async function createSecurityGroup(h: Harness, name: string): Promise<string> {
  const body = await h.client.callApi({ method: 'POST', path: h.client.instancePath('/security_groups'), json: { name, project: PROJECT }, kind: 'create' });
  return (body.security_group as { id: string }).id;
}

test('security_group_id + keep_server: the server is created in the group and stays, recorded as kept; gc leaves it, show says why', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const group = await createSecurityGroup(h, 'builders');
  const path = h.template(template({ security_group_id: group, keep_server: true }, [{ type: 'shell', inline: ['echo built > /root/built'] }]));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));

  const inventory = await h.inventory(outcome!.buildId);
  assert.equal(inventory.servers.length, 1, 'the server stays');
  assert.equal(inventory.volumes.length, 1, 'with its volume');
  const server = await h.client.getServer(inventory.servers[0]!);
  assert.equal(server.security_group?.id, group);
  assert.equal(server.state, 'stopped');

  const record = h.store.getBuild(outcome!.buildId)!;
  assert.equal(record.resources.server?.kept, true);
  assert.equal(record.resources.server?.deleted, undefined);
  const events = h.events(outcome!.buildId);
  assert.equal(events.filter((e) => e.type === 'server.kept').length, 1);
  assert.ok(!events.some((e) => e.type === 'server.delete.requested'));

  // Even named and forced, gc keeps a server kept on purpose.
  const report = await runGc({ store: h.store, apiUrl: h.sim.apiUrl, secretKey: SECRET, projectId: PROJECT, zones: ['fr-par-1'], olderThanMs: 0, buildFilter: outcome!.buildId, force: true });
  const serverItem = report.items.find((i) => i.id === server.id)!;
  assert.equal(serverItem.action, 'keep');
  assert.match(serverItem.reason, /kept on purpose/);
  assert.deepEqual((await h.inventory(outcome!.buildId)).servers, [server.id]);

  const fates = resourceFates(h.events(outcome!.buildId));
  assert.deepEqual(fates.filter((f) => f.kind === 'server').map((f) => [f.fate, f.onPurpose]), [['kept', true]]);
  const show = await runKiln(['show', outcome!.buildId, '--db', h.dbPath]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`server\\s+${server.id}\\s+kept on purpose \\(keep_server\\)`));
});

test('an unknown security group stops the build in prepare, before anything is created', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ security_group_id: '5ec00000-1111-4222-8333-444444444444' }));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.failure?.phase, 'prepare');
  assert.match(outcome!.failure!.error.message, /security_group_id 5ec00000-1111-4222-8333-444444444444 is not a security group of zone fr-par-1/);
  assert.ok(!h.events(outcome!.buildId).some((e) => e.type === 'server.create.requested'));
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
});

test('Windows: windows_server_2022 on a -WIN type with communicator none and admin_password_encryption_ssh_key_id builds', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(
    template({ image: 'windows_server_2022', commercial_type: 'POP2-2C-8G-WIN', communicator: 'none', ssh_username: undefined, admin_password_encryption_ssh_key_id: IAM_KEY, server_tags: ['with-ssh'], keep_server: true }),
  );
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const [serverId] = (await h.inventory(outcome!.buildId)).servers;
  const server = (await h.client.getServer(serverId!)) as unknown as { admin_password_encryption_ssh_key_id: string | null; commercial_type: string };
  assert.equal(server.admin_password_encryption_ssh_key_id, IAM_KEY);
  assert.equal(server.commercial_type, 'POP2-2C-8G-WIN');
  assert.ok(!h.events(outcome!.buildId).some((e) => e.type === 'ssh.connected'), 'no SSH with communicator none');
});

test('a Linux image on a -WIN type (or Windows on DEV1-S) is refused by the simulator, as by Scaleway', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ commercial_type: 'POP2-2C-8G-WIN', communicator: 'none', ssh_username: undefined }));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'failed');
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
});

test('cleanup_machine_related_data: the image\'s disk has empty machine-id files; the provisioned work is there', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(
    template({ cleanup_machine_related_data: 'true' }, [
      { type: 'shell', inline: ['test -s /etc/machine-id', 'mkdir -p /var/lib/dbus && cat /etc/machine-id > /var/lib/dbus/machine-id', 'echo provisioned > /etc/kiln-provisioned'] },
    ]),
  );
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const disk = h.sim.diskPathOfSnapshot(outcome!.artifact!.snapshotId)!;
  assert.equal(readFileSync(join(disk, 'etc/kiln-provisioned'), 'utf8'), 'provisioned\n');
  assert.equal(statSync(join(disk, 'etc/machine-id')).size, 0);
  assert.equal(statSync(join(disk, 'var/lib/dbus/machine-id')).size, 0);
  const types = h.events(outcome!.buildId).map((e) => e.type);
  assert.ok(types.lastIndexOf('provisioner.succeeded') < types.indexOf('machine.cleaned'));
  assert.ok(types.indexOf('machine.cleaned') < types.indexOf('server.poweroff.requested'));

  // Without the key the machine id stays in the image.
  const plain = await h.build(h.template(template({}, [{ type: 'shell', inline: ['true'] }])));
  const plainDisk = h.sim.diskPathOfSnapshot(plain[0]!.artifact!.snapshotId)!;
  assert.match(readFileSync(join(plainDisk, 'etc/machine-id'), 'utf8'), /^[0-9a-f]{32}\n$/);
});
