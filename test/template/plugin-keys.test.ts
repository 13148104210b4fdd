// The current Scaleway plugin's keys that kiln used to refuse (issue 12), read with the plugin's
// validation, and the seed's meaning of api_access_key (the organization) when no project is set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builder, fixture, problemAt, SECRET, IMAGE_UUID } from './helpers.js';
import type { BuildSpec } from '../../src/template/index.js';

const SG = '5ec00000-1111-4222-8333-444444444444';
const KEY = '0be0a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b';
const PN1 = 'a1a1a1a1-0000-4000-8000-000000000001';
const PN2 = 'a1a1a1a1-0000-4000-8000-000000000002';

const keys: Array<{ key: string; value: unknown; read: (spec: BuildSpec) => unknown; expected: unknown }> = [
  { key: 'security_group_id', value: SG, read: (s) => s.securityGroupId, expected: SG },
  { key: 'keep_server', value: true, read: (s) => s.keepServer, expected: true },
  { key: 'keep_server', value: 'true', read: (s) => s.keepServer, expected: true },
  { key: 'admin_password_encryption_ssh_key_id', value: KEY, read: (s) => s.adminPasswordEncryptionSshKeyId, expected: KEY },
  // The plugin's string boolean (strconv.ParseBool), JSON booleans too.
  { key: 'cleanup_machine_related_data', value: 'true', read: (s) => s.cleanupMachineRelatedData, expected: true },
  { key: 'cleanup_machine_related_data', value: '1', read: (s) => s.cleanupMachineRelatedData, expected: true },
  { key: 'cleanup_machine_related_data', value: 'False', read: (s) => s.cleanupMachineRelatedData, expected: false },
  { key: 'cleanup_machine_related_data', value: true, read: (s) => s.cleanupMachineRelatedData, expected: true },
  { key: 'user_data_timeout', value: '2m30s', read: (s) => s.userDataTimeoutMs, expected: 150_000 },
  { key: 'private_network_ids', value: [PN1, PN2], read: (s) => s.privateNetworkIds, expected: [PN1, PN2] },
];

for (const { key, value, read, expected } of keys) {
  test(`plugin key ${key} = ${JSON.stringify(value)}`, async () => {
    const { builds } = await fixture({ builders: [builder({ [key]: value })] }).load();
    assert.deepEqual(read(builds[0]!), expected);
  });
}

test('defaults of the plugin keys: nothing kept, nothing cleaned, no wait, no NIC, default security group', async () => {
  const spec = (await fixture({ builders: [builder()] }).load()).builds[0]!;
  assert.deepEqual(
    [spec.securityGroupId, spec.adminPasswordEncryptionSshKeyId, spec.keepServer, spec.cleanupMachineRelatedData, spec.userDataTimeoutMs, spec.privateNetworkIds],
    [undefined, undefined, false, false, 0, []],
  );
});

const bad: Array<{ title: string; overrides: Record<string, unknown>; path: string; message: RegExp }> = [
  { title: 'an unparsable cleanup_machine_related_data halts, as in the plugin', overrides: { cleanup_machine_related_data: 'yes please' }, path: 'builders[0].cleanup_machine_related_data', message: /true or false/ },
  { title: 'an empty private network id (the plugin\'s own check)', overrides: { private_network_ids: [PN1, ''] }, path: 'builders[0].private_network_ids[1]', message: /must not be empty/ },
  { title: 'a private network id that is not a UUID', overrides: { private_network_ids: ['my-network'] }, path: 'builders[0].private_network_ids[0]', message: /not a private network ID/ },
  { title: 'the same private network twice', overrides: { private_network_ids: [PN1, PN1] }, path: 'builders[0].private_network_ids', message: /twice/ },
  { title: 'a security group that is not a UUID', overrides: { security_group_id: 'default' }, path: 'builders[0].security_group_id', message: /not a security group ID/ },
  { title: 'an SSH key id that is not a UUID', overrides: { admin_password_encryption_ssh_key_id: 'ssh-rsa AAAA' }, path: 'builders[0].admin_password_encryption_ssh_key_id', message: /not an IAM SSH key ID/ },
  { title: 'a user_data_timeout that is not a duration', overrides: { user_data_timeout: 'soon' }, path: 'builders[0].user_data_timeout', message: /duration/ },
];

for (const { title, overrides, path, message } of bad) {
  test(`refused: ${title}`, async () => {
    const problem = problemAt(await fixture({ builders: [builder(overrides)] }).problems(), path);
    assert.match(problem.message, message);
  });
}

test("the seed's api_access_key as a UUID with no project anywhere: the organization and its default project, said in one line", async () => {
  const ORG = '7a7a7a7a-1b1b-4c2c-8d3d-4e4e4e4e4e4e';
  const f = fixture({ type: 'scaleway', api_access_key: ORG, api_token: SECRET, image: IMAGE_UUID, region: 'par1', commercial_type: 'START1-S' });
  const { builds, warnings } = await f.load();
  assert.equal(builds[0]!.organizationId, ORG);
  assert.equal(builds[0]!.projectId, ORG);
  const said = warnings.filter((w) => w.includes('organization ID and its default project'));
  assert.equal(said.length, 1, warnings.join('\n'));
  assert.ok(!said[0]!.includes('\n'));
  assert.ok(!warnings.some((w) => /no Scaleway project is set/.test(w)), warnings.join('\n'));
});

test('a project set anywhere wins over the access key: no organization is guessed', async () => {
  const ORG = '7a7a7a7a-1b1b-4c2c-8d3d-4e4e4e4e4e4e';
  const { builds, warnings } = await fixture({ builders: [builder({ access_key: undefined, api_access_key: ORG })] }).load();
  assert.equal(builds[0]!.projectId, '11111111-2222-4333-8444-555555555555');
  assert.equal(builds[0]!.organizationId, undefined);
  assert.ok(!warnings.some((w) => w.includes('its default project')));
});

test('an access key that is not a UUID (SCW…) is never taken for an organization', async () => {
  const { builds, warnings } = await fixture({ builders: [builder({ project_id: undefined })] }).load();
  assert.equal(builds[0]!.projectId, undefined);
  assert.ok(warnings.some((w) => /no Scaleway project is set/.test(w)));
});

test('cleanup_machine_related_data with communicator none: a warning that it needs SSH', async () => {
  const { warnings } = await fixture({ builders: [builder({ communicator: 'none', cleanup_machine_related_data: 'true' })] }).load();
  assert.ok(warnings.some((w) => /cleanup_machine_related_data is ignored with communicator "none"/.test(w)), warnings.join('\n'));
});
