// The scaleway builder's keys: each key's effect, the defaults, the deprecated aliases, and
// where credentials come from (template > environment > Scaleway config file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/ssh/index.js';
import { builder, fixture, cleanEnv, writeFiles, SECRET, PROJECT, IMAGE_UUID, OTHER_SECRET } from './helpers.js';
import type { BuildSpec } from '../../src/template/index.js';

const BOOTSCRIPT = 'b00b5c41-0000-4000-8000-00000000b007';

const keys: Array<{ key: string; value: unknown; read: (spec: BuildSpec) => unknown; expected: unknown }> = [
  { key: 'access_key', value: 'SCWZZZZZZZZZZZZZZZZZ', read: (s) => s.accessKey, expected: 'SCWZZZZZZZZZZZZZZZZZ' },
  { key: 'secret_key', value: OTHER_SECRET, read: (s) => s.secretKey, expected: OTHER_SECRET },
  { key: 'project_id', value: '22222222-3333-4444-8555-666666666666', read: (s) => s.projectId, expected: '22222222-3333-4444-8555-666666666666' },
  { key: 'organization_id', value: '33333333-3333-4444-8555-666666666666', read: (s) => s.organizationId, expected: '33333333-3333-4444-8555-666666666666' },
  { key: 'zone', value: 'nl-ams-1', read: (s) => s.zone, expected: 'nl-ams-1' },
  { key: 'zone', value: 'par1', read: (s) => s.zone, expected: 'fr-par-1' },
  { key: 'api_url', value: 'http://127.0.0.1:4000/', read: (s) => s.apiUrl, expected: 'http://127.0.0.1:4000' },
  { key: 'image', value: IMAGE_UUID, read: (s) => s.image, expected: IMAGE_UUID },
  { key: 'image', value: 'debian_bookworm', read: (s) => s.image, expected: 'debian_bookworm' },
  { key: 'commercial_type', value: 'play2-nano', read: (s) => s.commercialType, expected: 'PLAY2-NANO' },
  { key: 'server_name', value: 'my-server', read: (s) => s.serverName, expected: 'my-server' },
  { key: 'image_name', value: 'my-image', read: (s) => s.imageName, expected: 'my-image' },
  { key: 'snapshot_name', value: 'my-snapshot', read: (s) => s.snapshotName, expected: 'my-snapshot' },
  { key: 'boottype', value: 'local', read: (s) => s.bootType, expected: 'local' },
  { key: 'bootscript', value: BOOTSCRIPT, read: (s) => s.bootscript, expected: BOOTSCRIPT },
  { key: 'remove_volume', value: false, read: (s) => s.removeVolume, expected: false },
  { key: 'remove_volume', value: 'false', read: (s) => s.removeVolume, expected: false },
  { key: 'tags', value: ['web', 'env=prod'], read: (s) => s.tags, expected: ['web', 'env=prod'] },
  { key: 'server_tags', value: ['builder'], read: (s) => s.serverTags, expected: ['builder'] },
  { key: 'user_data', value: { 'cloud-init': '#cloud-config\n' }, read: (s) => s.userData, expected: { 'cloud-init': '#cloud-config\n' } },
  { key: 'server_creation_timeout', value: '90s', read: (s) => s.timeouts.serverCreationMs, expected: 90_000 },
  { key: 'server_shutdown_timeout', value: '5m', read: (s) => s.timeouts.serverShutdownMs, expected: 300_000 },
  { key: 'snapshot_creation_timeout', value: '1h30m', read: (s) => s.timeouts.snapshotCreationMs, expected: 5_400_000 },
  { key: 'image_creation_timeout', value: '2h', read: (s) => s.timeouts.imageCreationMs, expected: 7_200_000 },
  { key: 'state_timeout', value: '500ms', read: (s) => s.timeouts.stateMs, expected: 500 },
  {
    key: 'kiln_phase_policy',
    value: { 'server.create': { attempts: 5, attempt_timeout: '30s', phase_timeout: '5m', initial_backoff: '1s', max_backoff: '30s', backoff_factor: 3, jitter: 0.1 }, 'ssh.connect': { attempts: '7' } },
    read: (s) => s.phasePolicy,
    expected: {
      'server.create': { attempts: 5, attemptTimeoutMs: 30_000, phaseTimeoutMs: 300_000, backoff: { initialMs: 1000, maxMs: 30_000, factor: 3, jitter: 0.1 } },
      'ssh.connect': { attempts: 7 },
    },
  },
  { key: 'ssh_username', value: 'admin', read: (s) => s.communicator.type === 'ssh' && s.communicator.username, expected: 'admin' },
  { key: 'ssh_port', value: 2222, read: (s) => s.communicator.type === 'ssh' && s.communicator.port, expected: 2222 },
  { key: 'ssh_port', value: '2200', read: (s) => s.communicator.type === 'ssh' && s.communicator.port, expected: 2200 },
  { key: 'ssh_timeout', value: '10m', read: (s) => s.communicator.type === 'ssh' && s.communicator.timeoutMs, expected: 600_000 },
  { key: 'ssh_password', value: 'hunter2', read: (s) => s.communicator.type === 'ssh' && s.communicator.password, expected: 'hunter2' },
  { key: 'ssh_handshake_attempts', value: 3, read: (s) => s.communicator.type === 'ssh' && s.communicator.handshakeAttempts, expected: 3 },
  { key: 'ssh_keep_alive_interval', value: '30s', read: (s) => s.communicator.type === 'ssh' && s.communicator.keepAliveIntervalMs, expected: 30_000 },
  { key: 'ssh_keep_alive_interval', value: '-1s', read: (s) => s.communicator.type === 'ssh' && s.communicator.keepAliveIntervalMs, expected: 0 },
  { key: 'ssh_read_write_timeout', value: '1m', read: (s) => s.communicator.type === 'ssh' && s.communicator.readWriteTimeoutMs, expected: 60_000 },
  { key: 'ssh_agent_auth', value: true, read: (s) => s.communicator.type === 'ssh' && s.communicator.agentAuth, expected: true },
  { key: 'communicator', value: 'none', read: (s) => s.communicator, expected: { type: 'none' } },
  { key: 'name', value: 'web', read: (s) => s.name, expected: 'web' },
];

for (const { key, value, read, expected } of keys) {
  test(`builder key ${key} = ${JSON.stringify(value)}`, async () => {
    const { builds } = await fixture({ builders: [builder({ [key]: value })] }).load();
    assert.deepEqual(read(builds[0]!), expected);
  });
}

test('defaults of a minimal builder', async () => {
  const { builds, evaluation } = await fixture({ builders: [builder()] }).load();
  const spec = builds[0]!;
  const timestamp = Math.floor(Date.parse(evaluation.initTime) / 1000);
  assert.equal(spec.name, 'scaleway');
  assert.equal(spec.apiUrl, 'https://api.scaleway.com');
  assert.equal(spec.serverName, `packer-${evaluation.uuid}`);
  assert.equal(spec.imageName, `packer-${timestamp}`);
  assert.equal(spec.snapshotName, `packer-${timestamp}`);
  // The plugin's and Packer ≥ 1.6.3's default: Scaleway no longer offers bootscripts.
  assert.equal(spec.bootType, 'local');
  assert.equal(spec.bootscript, undefined);
  assert.equal(spec.removeVolume, true);
  assert.deepEqual([spec.tags, spec.serverTags, spec.userData, spec.phasePolicy, spec.provisioners], [[], [], {}, {}, []]);
  assert.deepEqual(spec.timeouts, { serverCreationMs: 600_000, serverShutdownMs: 600_000, snapshotCreationMs: 3_600_000, imageCreationMs: 3_600_000, stateMs: 600_000 });
  assert.deepEqual(spec.communicator, { type: 'ssh', username: 'root', port: 22, timeoutMs: 300_000, handshakeAttempts: 10, keepAliveIntervalMs: 5000, readWriteTimeoutMs: 0, agentAuth: false });
  assert.equal(spec.force, false);
  assert.equal((await fixture({ builders: [builder()] }).load({ force: true })).builds[0]!.force, true);
});

test('boottype: rescue is accepted; bootscript only when asked, with a warning; image_size_in_gb is deprecated and ignored', async () => {
  const rescue = await fixture({ builders: [builder({ boottype: 'rescue' })] }).load();
  assert.equal(rescue.builds[0]!.bootType, 'rescue');
  assert.deepEqual(rescue.warnings, []);
  const old = await fixture({ builders: [builder({ boottype: 'bootscript', image_size_in_gb: 40 })] }).load();
  assert.equal(old.builds[0]!.bootType, 'bootscript');
  assert.ok(old.warnings.some((w) => /boottype is "bootscript": Scaleway no longer offers bootscripts/.test(w)), old.warnings.join('\n'));
  assert.ok(old.warnings.some((w) => /image_size_in_gb is deprecated and ignored: .*root_volume\.size_in_gb/.test(w)), old.warnings.join('\n'));
  assert.ok(!('imageSizeInGb' in old.builds[0]!), 'ignored: nothing of it reaches the build');
});

test('ssh_private_key_file: relative to the template, "~/" from $HOME, and the key must be usable', async () => {
  const { privateKey, publicKey } = generateKeyPair();
  const f = fixture({ builders: [builder({ name: 'rel', ssh_private_key_file: 'keys/id' }), builder({ name: 'home', ssh_private_key_file: '~/.ssh/id_ed25519' })] });
  writeFiles(f.dir, { 'keys/id': privateKey, 'home/.ssh/id_ed25519': privateKey, 'keys/id.pub': publicKey, 'keys/junk': 'not a key' });
  const { builds } = await f.load();
  assert.deepEqual(builds.map((b) => b.communicator.type === 'ssh' && b.communicator.privateKeyFile), [join(f.dir, 'keys/id'), join(f.dir, 'home/.ssh/id_ed25519')]);

  for (const [file, message] of [['keys/missing', /keys\/missing" does not exist/], ['keys/junk', /is not a private key SSH can use/], ['keys/id.pub', /is a public key/]] as const) {
    const bad = fixture({ builders: [builder({ ssh_private_key_file: join(f.dir, file) })] });
    const problems = await bad.problems();
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0]!.path, 'builders[0].ssh_private_key_file');
    assert.match(problems[0]!.message, message);
  }
});

test('a non-root ssh_username without a key file warns that the temporary key only lets root in', async () => {
  const { warnings } = await fixture({ builders: [builder({ ssh_username: 'ubuntu' })] }).load();
  assert.ok(warnings.some((w) => /temporary key kiln makes only authorizes root/.test(w)), warnings.join('\n'));
});

const aliases: Array<{ alias: string; value: string; current: string; read: (s: BuildSpec) => unknown; expected: string; currentValue: string }> = [
  { alias: 'api_access_key', value: 'SCWALIASXXXXXXXXXXXX', current: 'access_key', read: (s) => s.accessKey, expected: 'SCWALIASXXXXXXXXXXXX', currentValue: 'SCWCURRENTXXXXXXXXXX' },
  { alias: 'api_token', value: OTHER_SECRET, current: 'secret_key', read: (s) => s.secretKey, expected: OTHER_SECRET, currentValue: SECRET },
  { alias: 'region', value: 'par1', current: 'zone', read: (s) => s.zone, expected: 'fr-par-1', currentValue: 'pl-waw-1' },
  { alias: 'region', value: 'ams1', current: 'zone', read: (s) => s.zone, expected: 'nl-ams-1', currentValue: 'pl-waw-1' },
];

for (const { alias, value, current, read, expected, currentValue } of aliases) {
  test(`deprecated ${alias} = ${value} works and warns to use ${current}`, async () => {
    const { builds, warnings } = await fixture({ builders: [builder({ [current]: undefined, [alias]: value })] }).load();
    assert.equal(read(builds[0]!), expected);
    assert.ok(warnings.includes(`builders[0].${alias} is deprecated: use "${current}" instead`), warnings.join('\n'));
  });
  test(`deprecated ${alias} loses to ${current}, with a warning`, async () => {
    const { builds, warnings } = await fixture({ builders: [builder({ [current]: currentValue, [alias]: value })] }).load();
    assert.equal(read(builds[0]!), currentValue);
    assert.ok(warnings.includes(`builders[0].${alias} is deprecated and ignored because "${current}" is set`), warnings.join('\n'));
  });
}

test('api_access_key holding a UUID: the warning says it looks like an organization ID', async () => {
  const { warnings } = await fixture({ builders: [builder({ access_key: undefined, api_access_key: PROJECT })] }).load();
  assert.ok(warnings.some((w) => /looks like an organization ID/.test(w) && /organization_id/.test(w)), warnings.join('\n'));
});

test("the seed's Basic Example is accepted as it is, its placeholders filled", async () => {
  const { privateKey } = generateKeyPair();
  const f = fixture({
    type: 'scaleway',
    api_access_key: 'SCWABCDEFGHIJKLMNOPQ',
    api_token: SECRET,
    image: IMAGE_UUID,
    region: 'par1',
    commercial_type: 'START1-S',
    ssh_username: 'root',
    ssh_private_key_file: '~/.ssh/id_rsa',
  });
  writeFiles(f.dir, { 'home/.ssh/id_rsa': privateKey });
  const { builds, warnings } = await f.load();
  assert.equal(builds.length, 1);
  const spec = builds[0]!;
  assert.deepEqual(
    [spec.name, spec.accessKey, spec.secretKey, spec.image, spec.zone, spec.commercialType],
    ['scaleway', 'SCWABCDEFGHIJKLMNOPQ', SECRET, IMAGE_UUID, 'fr-par-1', 'START1-S'],
  );
  assert.deepEqual(spec.communicator.type === 'ssh' && [spec.communicator.username, spec.communicator.privateKeyFile], ['root', join(f.dir, 'home/.ssh/id_rsa')]);
  assert.equal(warnings.filter((w) => /deprecated/.test(w)).length, 3);
});

// Credentials and defaults: template > environment (current, then legacy names) > config file.
const settings: Array<{ key: string; env: string; legacyEnv?: string; configKey: string; values: [string, string, string, string?]; read: (s: BuildSpec) => unknown; expected?: (v: string) => unknown }> = [
  { key: 'access_key', env: 'SCW_ACCESS_KEY', legacyEnv: 'SCALEWAY_API_ACCESS_KEY', configKey: 'access_key', values: ['SCWTEMPLATEXXXXXXXXX', 'SCWENVXXXXXXXXXXXXXX', 'SCWCONFIGXXXXXXXXXXX', 'SCWLEGACYXXXXXXXXXXX'], read: (s) => s.accessKey },
  { key: 'secret_key', env: 'SCW_SECRET_KEY', legacyEnv: 'SCALEWAY_API_TOKEN', configKey: 'secret_key', values: [SECRET, OTHER_SECRET, '44444444-4444-4444-8444-444444444444', '55555555-5555-4555-8555-555555555555'], read: (s) => s.secretKey },
  { key: 'project_id', env: 'SCW_DEFAULT_PROJECT_ID', configKey: 'default_project_id', values: [PROJECT, '66666666-6666-4666-8666-666666666666', '77777777-7777-4777-8777-777777777777'], read: (s) => s.projectId },
  { key: 'organization_id', env: 'SCW_DEFAULT_ORGANIZATION_ID', configKey: 'default_organization_id', values: ['88888888-8888-4888-8888-888888888888', '99999999-9999-4999-8999-999999999999', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'], read: (s) => s.organizationId },
  { key: 'zone', env: 'SCW_DEFAULT_ZONE', configKey: 'default_zone', values: ['fr-par-2', 'nl-ams-1', 'pl-waw-1'], read: (s) => s.zone },
  { key: 'api_url', env: 'SCW_API_URL', configKey: 'api_url', values: ['http://template.test', 'http://env.test', 'http://config.test'], read: (s) => s.apiUrl },
];

for (const { key, env, legacyEnv, configKey, values, read } of settings) {
  const [inTemplate, inEnv, inConfig, inLegacyEnv] = values;
  const run = async (layers: { template?: boolean; env?: boolean; legacy?: boolean; config?: boolean }) => {
    const f = fixture({ builders: [builder(layers.template ? { [key]: inTemplate } : { [key]: undefined })] });
    const configPath = join(f.dir, 'scw.yaml');
    writeFiles(f.dir, { 'scw.yaml': layers.config ? `${configKey}: ${inConfig}\n` : '' });
    const vars: Record<string, string> = { SCW_CONFIG_PATH: configPath };
    if (layers.env) vars[env] = inEnv;
    if (layers.legacy && legacyEnv) vars[legacyEnv] = inLegacyEnv!;
    return f.load({ env: cleanEnv(f.dir, vars) });
  };
  test(`${key}: the config file's ${configKey} when nothing else sets it`, async () => {
    assert.equal(read((await run({ config: true })).builds[0]!), inConfig);
  });
  test(`${key}: ${env} wins over the config file`, async () => {
    assert.equal(read((await run({ env: true, config: true })).builds[0]!), inEnv);
  });
  test(`${key}: the template wins over ${env} and the config file`, async () => {
    assert.equal(read((await run({ template: true, env: true, config: true })).builds[0]!), inTemplate);
  });
  if (legacyEnv) {
    test(`${key}: legacy ${legacyEnv} is read (with a warning) and loses to ${env}`, async () => {
      const legacy = await run({ legacy: true, config: true });
      assert.equal(read(legacy.builds[0]!), inLegacyEnv);
      assert.ok(legacy.warnings.includes(`the environment variable ${legacyEnv} is deprecated: use ${env} instead`), legacy.warnings.join('\n'));
      assert.equal(read((await run({ legacy: true, env: true })).builds[0]!), inEnv);
    });
  }
}

test('config file profiles: active_profile, SCW_PROFILE over it, named profile over the defaults', async () => {
  const f = fixture({ builders: [builder({ zone: undefined, project_id: undefined, secret_key: undefined })] });
  writeFiles(f.dir, {
    'scw.yaml': [
      `secret_key: ${SECRET}`,
      'default_zone: fr-par-1',
      `default_project_id: ${PROJECT}`,
      'active_profile: staging',
      'profiles:',
      '  staging:',
      '    default_zone: nl-ams-1',
      '  prod:',
      '    default_zone: pl-waw-1',
      `    secret_key: ${OTHER_SECRET}`,
    ].join('\n'),
  });
  const load = (extra: Record<string, string>) => f.load({ env: cleanEnv(f.dir, { SCW_CONFIG_PATH: join(f.dir, 'scw.yaml'), ...extra }) });
  const staging = (await load({})).builds[0]!;
  assert.deepEqual([staging.zone, staging.secretKey, staging.projectId], ['nl-ams-1', SECRET, PROJECT]);
  const prod = (await load({ SCW_PROFILE: 'prod' })).builds[0]!;
  assert.deepEqual([prod.zone, prod.secretKey, prod.projectId], ['pl-waw-1', OTHER_SECRET, PROJECT]);
});

test('the config file is found at the configPath option, $SCW_CONFIG_PATH, $XDG_CONFIG_HOME/scw and ~/.config/scw', async () => {
  const f = fixture({ builders: [builder({ zone: undefined })] });
  writeFiles(f.dir, {
    'explicit.yaml': 'default_zone: fr-par-3\n',
    'env.yaml': 'default_zone: fr-par-2\n',
    'xdg/scw/config.yaml': 'default_zone: nl-ams-2\n',
    'home/.config/scw/config.yaml': 'default_zone: pl-waw-2\n',
  });
  const zone = async (env: Record<string, string>, configPath?: string) =>
    (await f.load({ env: cleanEnv(f.dir, env), ...(configPath ? { configPath } : {}) })).builds[0]!.zone;
  assert.equal(await zone({ SCW_CONFIG_PATH: join(f.dir, 'env.yaml') }, join(f.dir, 'explicit.yaml')), 'fr-par-3');
  assert.equal(await zone({ SCW_CONFIG_PATH: join(f.dir, 'env.yaml'), XDG_CONFIG_HOME: join(f.dir, 'xdg') }), 'fr-par-2');
  assert.equal(await zone({ XDG_CONFIG_HOME: join(f.dir, 'xdg') }), 'nl-ams-2');
  assert.equal(await zone({}), 'pl-waw-2');
});

test('several builders: each gets its own spec, provisioners filtered by only/except', async () => {
  const { builds } = await fixture({
    builders: [builder({ name: 'a', zone: 'fr-par-1' }), builder({ name: 'b', zone: 'nl-ams-1', image_name: 'img-{{build_name}}' })],
    provisioners: [
      { type: 'shell', inline: ['echo all'] },
      { type: 'shell', inline: ['echo only a'], only: ['a'] },
      { type: 'shell', inline: ['echo not a'], except: ['a'] },
    ],
  }).load();
  assert.deepEqual(builds.map((b) => [b.name, b.zone, b.provisioners.map((p) => p.index)]), [['a', 'fr-par-1', [0, 1]], ['b', 'nl-ams-1', [0, 2]]]);
  assert.equal(builds[1]!.imageName, 'img-b');
});

test('two builds making the same image name in one zone: a warning suggesting {{build_name}}', async () => {
  const { warnings } = await fixture({ builders: [builder({ name: 'a', image_name: 'same' }), builder({ name: 'b', image_name: 'same' })] }).load();
  assert.ok(warnings.some((w) => /builds "a" and "b" both make an image named "same" in fr-par-1/.test(w) && /\{\{build_name\}\}/.test(w)), warnings.join('\n'));
});

test('no project anywhere: a warning that says where kiln looked (the build stops in prepare); organization_id is enough', async () => {
  const { warnings } = await fixture({ builders: [builder({ project_id: undefined })] }).load();
  assert.ok(
    warnings.some((w) => /no Scaleway project is set/.test(w) && /SCW_DEFAULT_PROJECT_ID/.test(w) && /default_project_id/.test(w)),
    warnings.join('\n'),
  );
  const withOrganization = await fixture({ builders: [builder({ project_id: undefined, organization_id: PROJECT })] }).load();
  assert.ok(!withOrganization.warnings.some((w) => /no Scaleway project/.test(w)), withOrganization.warnings.join('\n'));
});
