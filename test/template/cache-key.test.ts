// The build cache's keys (src/template/cache-key.ts): what changes a key, what does not, and
// that a secret value enters a key or a manifest only as a keyed hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplate } from '../../src/template/index.js';
import { cacheSteps, changedInputs, checkpointPositions, CheckpointFlagError, manifestUpTo, type ResolvedSource } from '../../src/template/cache-key.js';
import type { BuildSpec } from '../../src/template/spec.js';
import { builder, cleanEnv, tempDir, writeFiles } from './helpers.js';

const SOURCE: ResolvedSource = { imageId: '5a1f0c3e-0000-4000-8000-000000000001', arch: 'x86_64', rootVolumeType: 'l_ssd' };
const STORE_SECRET = 'store-secret-of-this-test';

/** Loads a template of one builder (with `keys`) and these provisioners, in a fresh directory holding `files`. */
async function specOf(provisioners: unknown[], o: { keys?: Record<string, unknown>; files?: Record<string, string>; dir?: string; variables?: Record<string, unknown>; vars?: Record<string, string> } = {}): Promise<BuildSpec> {
  const dir = o.dir ?? tempDir();
  writeFiles(dir, { ...(o.files ?? {}), 't.json': { ...(o.variables ? { variables: o.variables } : {}), builders: [builder(o.keys)], provisioners } });
  const loaded = await loadTemplate(join(dir, 't.json'), { env: cleanEnv(dir), ...(o.vars ? { vars: o.vars } : {}) });
  return loaded.builds[0]!;
}

const keysOf = (spec: BuildSpec, source: ResolvedSource = SOURCE) => cacheSteps(spec, source, { storeSecret: STORE_SECRET }).map((s) => s.key);

const A = { type: 'shell', inline: ['echo a >> /root/counter'] };
const B = { type: 'shell', inline: ['echo b'] };
const C = { type: 'shell', inline: ['echo c'] };

test('one key per provisioner, chained: a change to provisioner i changes the keys from i on, not before', async () => {
  const base = keysOf(await specOf([A, B, C]));
  assert.equal(base.length, 3);
  assert.equal(new Set(base).size, 3);
  assert.match(base[0]!, /^[0-9a-f]{32}$/);
  // The same template again: the same keys.
  assert.deepEqual(keysOf(await specOf([A, B, C])), base);
  const lastChanged = keysOf(await specOf([A, B, { ...C, inline: ['echo C'] }]));
  assert.deepEqual(lastChanged.slice(0, 2), base.slice(0, 2));
  assert.notEqual(lastChanged[2], base[2]);
  const firstChanged = keysOf(await specOf([{ ...A, inline: ['echo A'] }, B, C]));
  firstChanged.forEach((key, i) => assert.notEqual(key, base[i]));
});

test('the resolved source image, the architecture, the zone, the volumes, the user data and the ssh user change every key', async () => {
  const base = keysOf(await specOf([A, B]));
  const changed = async (keys: Record<string, unknown>, source: ResolvedSource = SOURCE) => keysOf(await specOf([A, B], { keys }), source);
  const variants: [string, string[]][] = [
    ['a new release behind the label', await changed({}, { ...SOURCE, imageId: '5a1f0c3e-0000-4000-8000-000000000002' })],
    ['arch', await changed({}, { ...SOURCE, arch: 'arm64' })],
    ['root volume type', await changed({}, { ...SOURCE, rootVolumeType: 'sbs_volume' })],
    ['zone', await changed({ zone: 'nl-ams-1' })],
    ['root size', await changed({ root_volume: { size_in_gb: 30 } })],
    ['block volume', await changed({ block_volume: [{ size_in_gb: 10 }] })],
    ['user data', await changed({ user_data: { 'cloud-init': '#!/bin/sh\necho hi\n' } })],
    ['ssh user', await changed({ ssh_username: 'ubuntu', ssh_password: 'p4ssw0rd-of-ubuntu' })],
  ];
  for (const [what, keys] of variants) keys.forEach((key, i) => assert.notEqual(key, base[i], `${what} changes key ${i}`));
});

test('what only changes how a provisioner runs (retries, timeout, pause), or the server type and names, keeps the keys', async () => {
  const base = keysOf(await specOf([A, B]));
  assert.deepEqual(keysOf(await specOf([{ ...A, max_retries: 3, timeout: '5m', pause_before: '2s' }, B])), base);
  assert.deepEqual(keysOf(await specOf([A, B], { keys: { commercial_type: 'DEV1-M', image_name: 'other', snapshot_name: 'other-snap', server_name: 'x' } })), base);
});

test("a script counts by its bytes and mode, not by where it lies on this machine; an upload by its name and whole tree", async () => {
  const one = tempDir();
  const two = tempDir();
  const files = { 'scripts/setup.sh': '#!/bin/sh\necho setup\n', 'site/index.html': '<h1>hi</h1>\n', 'site/css/a.css': 'body{}\n' };
  const provisioners = [
    { type: 'shell', script: 'scripts/setup.sh' },
    { type: 'file', source: 'site/', destination: '/var/www/' },
    C,
  ];
  const here = keysOf(await specOf(provisioners, { files, dir: one }));
  // A teammate's checkout elsewhere: the same keys.
  assert.deepEqual(keysOf(await specOf(provisioners, { files, dir: two })), here);
  // One byte of the script.
  writeFiles(two, { 'scripts/setup.sh': '#!/bin/sh\necho setup!\n' });
  const script = keysOf(await specOf(provisioners, { dir: two }));
  assert.notEqual(script[0], here[0]);
  writeFiles(two, { 'scripts/setup.sh': files['scripts/setup.sh'] });
  // Its mode (an uploaded file keeps its mode).
  chmodSync(join(two, 'scripts/setup.sh'), 0o700);
  assert.notEqual(keysOf(await specOf(provisioners, { dir: two }))[0], here[0]);
  chmodSync(join(two, 'scripts/setup.sh'), 0o644);
  chmodSync(join(one, 'scripts/setup.sh'), 0o644);
  const again = keysOf(await specOf(provisioners, { dir: one }));
  assert.deepEqual(keysOf(await specOf(provisioners, { dir: two })), again);
  // A file deep in an uploaded directory, and a new file in it.
  writeFiles(two, { 'site/css/a.css': 'body{color:red}\n' });
  const deep = keysOf(await specOf(provisioners, { dir: two }));
  assert.equal(deep[0], again[0]);
  assert.notEqual(deep[1], again[1]);
  writeFiles(two, { 'site/css/a.css': files['site/css/a.css'], 'site/new.txt': 'new\n' });
  assert.notEqual(keysOf(await specOf(provisioners, { dir: two }))[1], again[1]);
  // An empty directory counts too.
  mkdirSync(join(one, 'site', 'empty'));
  assert.notEqual(keysOf(await specOf(provisioners, { dir: one }))[1], again[1]);
});

test('environment_vars, execute_command and every other option of a provisioner are inputs, named as Packer names them', async () => {
  const base = await specOf([A, B]);
  const steps = cacheSteps(base, SOURCE, { storeSecret: STORE_SECRET });
  const names = manifestUpTo(steps, 1).map((i) => i.name);
  assert.ok(names.includes('source image') && names.includes('user data'), names.join(', '));
  assert.ok(names.includes('provisioner 1 (shell) inline'), names.join(', '));
  const changes: [string, Record<string, unknown>][] = [
    ['environment_vars', { environment_vars: ['A=1'] }],
    ['execute_command', { execute_command: 'sudo {{.Vars}} sh {{.Path}}' }],
    ['inline_shebang', { inline_shebang: '/bin/bash -e' }],
    ['remote_folder', { remote_folder: '/var/tmp' }],
    ['valid_exit_codes', { valid_exit_codes: [0, 2] }],
    ['expect_disconnect', { expect_disconnect: true }],
  ];
  for (const [option, extra] of changes) {
    const other = cacheSteps(await specOf([A, { ...B, ...extra }]), SOURCE, { storeSecret: STORE_SECRET });
    assert.notEqual(other[1]!.key, steps[1]!.key, option);
    assert.deepEqual(changedInputs(manifestUpTo(other, 1), manifestUpTo(steps, 1)), [`provisioner 1 (shell) ${option}`], option);
  }
});

test('a miss says which input changed: the script, the source image, the user data', async () => {
  const dir = tempDir();
  writeFiles(dir, { 'a.sh': 'echo a\n' });
  const before = cacheSteps(await specOf([{ type: 'shell', script: 'a.sh' }, B], { dir }), SOURCE, { storeSecret: STORE_SECRET });
  writeFiles(dir, { 'a.sh': 'echo A\n' });
  const after = cacheSteps(await specOf([{ type: 'shell', script: 'a.sh' }, B], { dir }), { ...SOURCE, imageId: 'another' }, { storeSecret: STORE_SECRET });
  assert.deepEqual(changedInputs(manifestUpTo(after, 1), manifestUpTo(before, 1)), ['source image', 'provisioner 0 (shell) script 0 (a.sh)']);
  const fewer = cacheSteps(await specOf([B, C]), SOURCE, { storeSecret: STORE_SECRET });
  assert.ok(changedInputs(manifestUpTo(fewer, 0), manifestUpTo(before, 0)).includes('provisioner 0 (shell) script 0 (a.sh) (gone)'));
});

test('a secret value enters a key or a manifest only as an HMAC under the store secret, never in clear or as a plain hash', async () => {
  const token = 'tok-3c9f8e2a7b61';
  const dir = tempDir();
  writeFiles(dir, { 'deploy.sh': `#!/bin/sh\ncurl -H 'Authorization: ${token}' https://example.invalid\n` });
  const spec = await specOf(
    [{ type: 'shell', environment_vars: ['TOKEN={{user `token`}}'], inline: ['echo ok'] }, { type: 'shell', script: 'deploy.sh' }, C],
    { dir, variables: { token: '' }, vars: { token } },
  );
  // A variable is sensitive when the template says so: here it is given by the build's secrets list.
  spec.sensitiveValues = [...spec.sensitiveValues, token];
  const steps = cacheSteps(spec, SOURCE, { storeSecret: STORE_SECRET });
  const text = JSON.stringify(steps);
  assert.ok(!text.includes(token));
  const env = steps[0]!.inputs.find((i) => i.name === 'provisioner 0 (shell) environment_vars')!;
  const script = steps[1]!.inputs.find((i) => i.name.startsWith('provisioner 1 (shell) script 0'))!;
  assert.match(env.hash, /^hmac:/);
  assert.match(script.hash, /^hmac:/);
  // The other inputs stay plain hashes (a teammate's store finds the same keys for them).
  assert.match(steps[0]!.inputs.find((i) => i.name === 'source image')!.hash, /^sha256:/);
  // Another store's secret: other keys from the secret's step on.
  const elsewhere = cacheSteps(spec, SOURCE, { storeSecret: 'another-store' });
  assert.notEqual(elsewhere[0]!.key, steps[0]!.key);
  // A changed secret: another key, and the explanation names the input, not the value.
  const changed = { ...spec, sensitiveValues: [...spec.sensitiveValues, 'tok-other-value'], provisioners: spec.provisioners.map((p, i) => (i === 0 && p.type === 'shell' ? { ...p, environmentVars: ['TOKEN=tok-other-value'] } : p)) };
  const after = cacheSteps(changed, SOURCE, { storeSecret: STORE_SECRET });
  assert.notEqual(after[0]!.key, steps[0]!.key);
  assert.deepEqual(changedInputs(manifestUpTo(after, 0), manifestUpTo(steps, 0)), ['provisioner 0 (shell) environment_vars']);
  assert.throws(() => cacheSteps(spec, SOURCE, { storeSecret: undefined }), /no store secret/);
});

test('--checkpoint-after: a position, a unique type, or a script or upload name; never the last provisioner', async () => {
  const dir = tempDir();
  writeFiles(dir, { 'setup.sh': 'echo\n', 'motd': 'hi\n' });
  const spec = await specOf([{ type: 'shell', script: 'setup.sh' }, { type: 'file', source: 'motd', destination: '/etc/motd' }, C], { dir });
  assert.deepEqual(checkpointPositions(spec.provisioners, ['0']), [0]);
  assert.deepEqual(checkpointPositions(spec.provisioners, ['setup.sh', 'motd', '0']), [0, 1]);
  assert.deepEqual(checkpointPositions(spec.provisioners, ['file']), [1]);
  assert.throws(() => checkpointPositions(spec.provisioners, ['shell']), (e: Error) => e instanceof CheckpointFlagError && /2 provisioners have that name/.test(e.message));
  assert.throws(() => checkpointPositions(spec.provisioners, ['2']), /last provisioner/);
  assert.throws(() => checkpointPositions(spec.provisioners, ['7']), /provisioners 0 to 2: 0 \(shell, setup\.sh\); 1 \(file, motd\); 2 \(shell\)/);
  assert.throws(() => checkpointPositions(spec.provisioners, ['nope.sh']), /no provisioner has that name/);
});

test("an ansible play counts by the bytes of its playbook's directory (roles read unnamed), not by where it lies", async () => {
  const one = tempDir();
  const two = tempDir();
  const files = {
    'ansible/site.yml': '- hosts: all\n  roles: [web]\n',
    'ansible/roles/web/tasks/main.yml': '- ansible.builtin.command: /bin/true\n',
  };
  const provisioners = [A, { type: 'ansible', playbook_file: 'ansible/site.yml', skip_version_check: true }, C];
  const here = keysOf(await specOf(provisioners, { files, dir: one }));
  assert.deepEqual(keysOf(await specOf(provisioners, { files, dir: two })), here);
  writeFiles(two, { 'ansible/roles/web/tasks/main.yml': '- ansible.builtin.command: /bin/false\n' });
  const changed = keysOf(await specOf(provisioners, { dir: two }));
  assert.equal(changed[0], here[0]);
  assert.notEqual(changed[1], here[1], 'a changed role is a new key');
});
