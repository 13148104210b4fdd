// kiln and the real Packer 1.6.6 (/usr/bin/packer) judge the same templates the same way:
// what Packer accepts with keys both know, kiln accepts; what Packer rejects, kiln rejects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fixture, cleanEnv, SECRET, PROJECT } from './helpers.js';
import { loadTemplate, TemplateError } from '../../src/template/index.js';

const PACKER = '/usr/bin/packer';

// Keys and functions that Packer 1.6.6's scaleway builder and kiln both understand.
function template(): Record<string, any> {
  return {
    variables: { sk: `{{or (env \`NOT_SET\`) \`${SECRET}\`}}`, name: 'img-{{isotime `2006-01-02`}}' },
    'sensitive-variables': ['sk'],
    builders: [
      {
        type: 'scaleway',
        name: 'web',
        access_key: 'SCWABCDEFGHIJKLMNOPQ',
        secret_key: '{{user `sk`}}',
        project_id: PROJECT,
        zone: 'fr-par-1',
        image: 'ubuntu_jammy',
        commercial_type: 'DEV1-S',
        image_name: '{{user `name`}}-{{build_name}}',
        snapshot_name: 'snap-{{timestamp}}',
        server_name: 'srv-{{uuid}}',
        boottype: 'local',
        remove_volume: true,
        ssh_username: 'root',
        ssh_port: 22,
        ssh_timeout: '5m',
        ssh_handshake_attempts: 5,
        ssh_keep_alive_interval: '10s',
        ssh_read_write_timeout: '1m',
        ssh_agent_auth: false,
      },
    ],
    provisioners: [
      { type: 'shell', inline: ['echo hi'], environment_vars: ['A=1'], execute_command: 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}', inline_shebang: '/bin/sh -e', remote_folder: '/tmp', expect_disconnect: false, valid_exit_codes: [0], pause_before: '1s', max_retries: 2, timeout: '5m', only: ['web'] },
      { type: 'file', source: 'files/motd', destination: '/etc/motd', direction: 'upload' },
      { type: 'shell-local', inline: ['echo local'], environment_vars: ['B=2'] },
    ],
  };
}

const cases: Array<{ title: string; change: (t: Record<string, any>) => void; valid: boolean }> = [
  { title: 'the full template', change: () => {}, valid: true },
  { title: 'a misspelt builder key', change: (t) => { t.builders[0].comercial_type = 'DEV1-S'; }, valid: false },
  { title: 'no image', change: (t) => { delete t.builders[0].image; }, valid: false },
  { title: 'a required variable not set', change: (t) => { t.variables.needed = null; }, valid: false },
  { title: 'a duration that is not one', change: (t) => { t.builders[0].ssh_timeout = '5 minutes'; }, valid: false },
  { title: 'a provisioner type neither has', change: (t) => { t.provisioners.push({ type: 'frobnicate' }); }, valid: false },
  { title: 'a shell provisioner with nothing to run', change: (t) => { t.provisioners.push({ type: 'shell' }); }, valid: false },
  { title: 'a file provisioner whose source is missing', change: (t) => { t.provisioners[1].source = 'files/none'; }, valid: false },
  { title: 'a misspelt provisioner key', change: (t) => { t.provisioners[0].inlin = ['x']; }, valid: false },
  { title: 'an unknown template function', change: (t) => { t.builders[0].image_name = '{{nope}}'; }, valid: false },
];

for (const { title, change, valid } of cases) {
  test(`packer 1.6.6 and kiln agree: ${title} is ${valid ? 'valid' : 'invalid'}`, async (t) => {
    if (!existsSync(PACKER)) return t.skip(`${PACKER} is not installed`);
    const body = template();
    change(body);
    const f = fixture(body, { 'files/motd': 'hello\n' });
    const env = cleanEnv(f.dir);
    const packer = spawnSync(PACKER, ['validate', f.path], { cwd: f.dir, env: { ...env, PATH: process.env.PATH, CHECKPOINT_DISABLE: '1' }, encoding: 'utf8' });
    assert.equal(packer.status === 0, valid, `packer: ${packer.stdout}${packer.stderr}`);
    let kilnValid = true;
    try {
      await loadTemplate(f.path, { env });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      kilnValid = false;
    }
    assert.equal(kilnValid, valid);
  });
}

test('examples/basic.json is a syntactically valid Packer template', (t) => {
  if (!existsSync(PACKER)) return t.skip(`${PACKER} is not installed`);
  const examples = new URL(import.meta.url.endsWith('.ts') ? '../../examples/basic.json' : '../../../examples/basic.json', import.meta.url);
  const result = spawnSync(PACKER, ['validate', '-syntax-only', examples.pathname], { env: { PATH: process.env.PATH, CHECKPOINT_DISABLE: '1', HOME: fixture({}).dir }, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
