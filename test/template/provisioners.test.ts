// Provisioners: shell, file and shell-local, their keys, Packer's defaults, and their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builder, fixture, problemAt } from './helpers.js';
import type { ProvisionerSpec } from '../../src/template/index.js';

const files = { 'scripts/a.sh': 'echo a\n', 'scripts/b.sh': 'echo b\n', 'files/motd': 'hello\n', 'files/dir/x': 'x\n' };

async function provisioners(list: unknown[], variables: Record<string, string> = {}): Promise<{ specs: ProvisionerSpec[]; dir: string }> {
  const f = fixture({ variables, builders: [builder({ name: 'web' })], provisioners: list }, files);
  const { builds } = await f.load();
  return { specs: builds[0]!.provisioners, dir: f.dir };
}

test('shell: Packer defaults', async () => {
  const { specs } = await provisioners([{ type: 'shell', inline: ['echo hi'] }]);
  assert.deepEqual(specs[0], {
    type: 'shell',
    index: 0,
    pauseBeforeMs: 0,
    maxRetries: 0,
    timeoutMs: 0,
    inline: ['echo hi'],
    scripts: [],
    environmentVars: [],
    envVarFormat: "%s='%s' ",
    useEnvVarFile: false,
    executeCommand: 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}',
    inlineShebang: '/bin/sh -e',
    inlineShebangSet: false,
    remoteFolder: '/tmp',
    binary: false,
    skipClean: false,
    startRetryTimeoutMs: 300_000,
    pauseAfterMs: 0,
    expectDisconnect: false,
    validExitCodes: [0],
  });
});

test('shell: every key', async () => {
  const { specs, dir } = await provisioners(
    [
      {
        type: 'shell',
        script: 'scripts/a.sh',
        environment_vars: ['GREETING=hello {{build_name}}', 'EMPTY='],
        execute_command: 'sudo -E sh -c \'{{.Vars}} {{.Path}}\' # {{user `tag`}}',
        inline_shebang: '/bin/bash -ex',
        remote_folder: '/var/tmp',
        expect_disconnect: true,
        valid_exit_codes: [0, '2300218'],
        pause_before: '10s',
        max_retries: '3',
        timeout: '5m',
      },
    ],
    { tag: 'v1' },
  );
  assert.deepEqual(specs[0], {
    type: 'shell',
    index: 0,
    pauseBeforeMs: 10_000,
    maxRetries: 3,
    timeoutMs: 300_000,
    scripts: [join(dir, 'scripts/a.sh')],
    environmentVars: ['GREETING=hello web', 'EMPTY='],
    envVarFormat: "%s='%s' ",
    useEnvVarFile: false,
    executeCommand: "sudo -E sh -c '{{.Vars}} {{.Path}}' # v1",
    inlineShebang: '/bin/bash -ex',
    inlineShebangSet: true,
    remoteFolder: '/var/tmp',
    binary: false,
    skipClean: false,
    startRetryTimeoutMs: 300_000,
    pauseAfterMs: 0,
    expectDisconnect: true,
    validExitCodes: [0, 2300218],
  });
});

test('shell: scripts run in order, resolved against the template directory', async () => {
  const { specs, dir } = await provisioners([{ type: 'shell', scripts: ['scripts/b.sh', 'scripts/a.sh'] }]);
  assert.deepEqual(specs[0]!.type === 'shell' && specs[0]!.scripts, [join(dir, 'scripts/b.sh'), join(dir, 'scripts/a.sh')]);
});

test('file: upload (default) resolves sources locally and keeps a trailing "/"; download keeps remote sources', async () => {
  const { specs, dir } = await provisioners([
    { type: 'file', source: 'files/motd', destination: '/etc/motd' },
    { type: 'file', sources: ['files/dir/', 'files/motd'], destination: '/srv/' },
    { type: 'file', direction: 'download', source: '/var/log/cloud-init.log', destination: 'out/cloud-init.log' },
  ]);
  assert.deepEqual(specs, [
    { type: 'file', index: 0, pauseBeforeMs: 0, maxRetries: 0, timeoutMs: 0, sources: [join(dir, 'files/motd')], destination: '/etc/motd', direction: 'upload' },
    { type: 'file', index: 1, pauseBeforeMs: 0, maxRetries: 0, timeoutMs: 0, sources: [`${join(dir, 'files/dir')}/`, join(dir, 'files/motd')], destination: '/srv/', direction: 'upload' },
    { type: 'file', index: 2, pauseBeforeMs: 0, maxRetries: 0, timeoutMs: 0, sources: ['/var/log/cloud-init.log'], destination: join(dir, 'out/cloud-init.log'), direction: 'download' },
  ]);
});

test('shell-local: inline, command, script and environment_vars', async () => {
  const { specs, dir } = await provisioners([
    { type: 'shell-local', inline: ['echo {{build_name}}'], environment_vars: ['A=1'] },
    { type: 'shell-local', command: 'date' },
    { type: 'shell-local', script: 'scripts/a.sh' },
  ]);
  const common = { pauseBeforeMs: 0, maxRetries: 0, timeoutMs: 0 };
  const defaults = { envVarFormat: "%s='%s' ", executeCommand: ['/bin/sh', '-c', '{{.Vars}} {{.Script}}'], inlineShebang: '/bin/sh -e', validExitCodes: [0] };
  assert.deepEqual(specs, [
    { type: 'shell-local', index: 0, ...common, inline: ['echo web'], scripts: [], environmentVars: ['A=1'], ...defaults },
    { type: 'shell-local', index: 1, ...common, command: 'date', scripts: [], environmentVars: [], ...defaults },
    { type: 'shell-local', index: 2, ...common, scripts: [join(dir, 'scripts/a.sh')], environmentVars: [], ...defaults },
  ]);
});

const errors: Array<{ title: string; provisioner: Record<string, unknown>; path: string; message: RegExp; hint?: RegExp; communicator?: string }> = [
  { title: 'shell with nothing to run', provisioner: { type: 'shell' }, path: 'provisioners[0]', message: /nothing to run: set one of "inline", "script", "scripts"/ },
  { title: 'shell with inline and script', provisioner: { type: 'shell', inline: ['x'], script: 'scripts/a.sh' }, path: 'provisioners[0]', message: /only one of "inline", "script", "scripts" may be set, but "inline" and "script" are/ },
  { title: 'a missing script', provisioner: { type: 'shell', script: 'scripts/nope.sh' }, path: 'provisioners[0].script', message: /"scripts\/nope.sh" \(.*scripts\/nope.sh\) does not exist/, hint: /template's directory/ },
  { title: 'a script that is a directory', provisioner: { type: 'shell', scripts: ['scripts'] }, path: 'provisioners[0].scripts[0]', message: /is not a file/ },
  { title: 'a malformed environment variable', provisioner: { type: 'shell', inline: ['x'], environment_vars: ['OK=1', 'TOKEN_WITHOUT_EQUALS'] }, path: 'provisioners[0].environment_vars[1]', message: /^is not of the form NAME=value$/ },
  { title: 'a bad environment variable name', provisioner: { type: 'shell', inline: ['x'], environment_vars: ['1X=1'] }, path: 'provisioners[0].environment_vars[0]', message: /"1X" is not a valid environment variable name/ },
  { title: 'execute_command without {{.Path}}', provisioner: { type: 'shell', inline: ['x'], execute_command: 'true' }, path: 'provisioners[0].execute_command', message: /has no \{\{\.Path\}\}/, hint: /chmod \+x/ },
  { title: 'an unknown field in execute_command', provisioner: { type: 'shell', inline: ['x'], execute_command: '{{.Path}} {{.Foo}}' }, path: 'provisioners[0].execute_command', message: /\{\{\.Foo\}\} has no value here/, hint: /only \{\{\.Path\}\} and \{\{\.Vars\}\}/ },
  { title: 'a relative remote_folder', provisioner: { type: 'shell', inline: ['x'], remote_folder: 'tmp' }, path: 'provisioners[0].remote_folder', message: /not an absolute path/ },
  { title: 'a bad exit code', provisioner: { type: 'shell', inline: ['x'], valid_exit_codes: [0, 'one'] }, path: 'provisioners[0].valid_exit_codes[1]', message: /must be a whole number/ },
  { title: 'file without destination', provisioner: { type: 'file', source: 'files/motd' }, path: 'provisioners[0].destination', message: /needs "destination"/ },
  { title: 'file without source', provisioner: { type: 'file', destination: '/x' }, path: 'provisioners[0].source', message: /needs "source" \(or "sources", or "content"\)/ },
  { title: 'file uploading a missing file', provisioner: { type: 'file', source: 'files/none', destination: '/x' }, path: 'provisioners[0].source', message: /does not exist/ },
  { title: 'file with a bad direction', provisioner: { type: 'file', source: 'files/motd', destination: '/x', direction: 'uplaod' }, path: 'provisioners[0].direction', message: /"uplaod" is not one of "upload", "download"/, hint: /did you mean "upload"\?/ },
  { title: 'shell-local with nothing to run', provisioner: { type: 'shell-local' }, path: 'provisioners[0]', message: /nothing to run: set one of "inline", "command", "script", "scripts"/ },
  { title: 'a misspelt type', provisioner: { type: 'shel', inline: ['x'] }, path: 'provisioners[0].type', message: /"shel" is not supported by kiln/, hint: /did you mean "shell"\?/ },
  { title: 'ansible without playbook_file', provisioner: { type: 'ansible' }, path: 'provisioners[0].playbook_file', message: /the ansible provisioner needs "playbook_file"/ },
  { title: 'ansible whose ansible-playbook is missing', provisioner: { type: 'ansible', playbook_file: 'files/motd', command: '/nonexistent/ansible-playbook' }, path: 'provisioners[0].command', message: /"\/nonexistent\/ansible-playbook" was not found/, hint: /apt-get install ansible-core/ },
  { title: "a key of Packer's Ansible proxy", provisioner: { type: 'ansible', playbook_file: 'files/motd', sftp_command: '/usr/lib/sftp-server -e' }, path: 'provisioners[0].sftp_command', message: /kiln does not support/, hint: /straight to the server.*use_sftp/ },
  { title: 'ansible-local without a playbook', provisioner: { type: 'ansible-local' }, path: 'provisioners[0].playbook_file', message: /needs "playbook_file" \(or "playbook_files"\)/ },
  { title: 'a provisioner kiln does not have', provisioner: { type: 'puppet-masterless' }, path: 'provisioners[0].type', message: /"puppet-masterless" is not supported by kiln/, hint: /kiln has shell, file, shell-local, ansible, ansible-local/ },
  { title: 'no type', provisioner: { inline: ['x'] }, path: 'provisioners[0].type', message: /needs a type/ },
  { title: 'only naming an unknown builder', provisioner: { type: 'shell', inline: ['x'], only: ['wbe'] }, path: 'provisioners[0].only[0]', message: /there is no builder named "wbe"/, hint: /did you mean "web"\?/ },
  { title: 'only and except together', provisioner: { type: 'shell', inline: ['x'], only: ['web'], except: ['web'] }, path: 'provisioners[0]', message: /only one of "only" and "except" may be set/ },
  { title: 'a misspelt key', provisioner: { type: 'shell', inlin: ['x'], inline: ['x'] }, path: 'provisioners[0].inlin', message: /unknown key "inlin"/, hint: /did you mean "inline"\?/ },
  { title: 'a Packer key that cannot mean anything here', provisioner: { type: 'shell-local', inline: ['x'], use_linux_pathing: true }, path: 'provisioners[0].use_linux_pathing', message: /Windows Subsystem for Linux; kiln runs on Linux/, hint: /remove it/ },
  { title: 'a bad pause_before', provisioner: { type: 'shell', inline: ['x'], pause_before: '10' }, path: 'provisioners[0].pause_before', message: /"10" is not a duration/, hint: /"90s", "5m", "1h30m"/ },
  { title: 'a negative max_retries', provisioner: { type: 'shell', inline: ['x'], max_retries: -1 }, path: 'provisioners[0].max_retries', message: /must be at least 0/ },
  { title: 'a shell provisioner with communicator none', communicator: 'none', provisioner: { type: 'shell', inline: ['x'] }, path: 'provisioners[0]', message: /needs SSH, but the builder "web" has communicator "none"/, hint: /"except": \["web"\]/ },
];

for (const { title, provisioner, path, message, hint, communicator } of errors) {
  test(`provisioner error: ${title}`, async () => {
    const f = fixture({ builders: [builder({ name: 'web', ...(communicator ? { communicator } : {}) })], provisioners: [provisioner] }, files);
    const problem = problemAt(await f.problems(), path);
    assert.match(problem.message, message);
    if (hint) assert.match(problem.hint ?? '', hint);
  });
}

test('a provisioner applying to several builds reports each problem once', async () => {
  const f = fixture({ builders: [builder({ name: 'a' }), builder({ name: 'b' })], provisioners: [{ type: 'shell', script: 'nope.sh' }] });
  const problems = await f.problems();
  assert.equal(problems.filter((p) => p.path === 'provisioners[0].script').length, 1, JSON.stringify(problems));
});

test('an inline command that fails to interpolate is one problem, not also "nothing to run"', async () => {
  const problems = await fixture({ builders: [builder()], provisioners: [{ type: 'shell', inline: ['echo {{nosuch}}'] }, { type: 'shell-local', inline: ['echo {{user `a`'] }] }).problems();
  assert.deepEqual(problems.map((p) => p.path), ['provisioners[0].inline[0]', 'provisioners[1].inline[0]'], JSON.stringify(problems));
});

test('ansible whose ansible-playbook is older than 2.9 is refused when the template is read, with how to install a newer one', async (t) => {
  // Debian ships 2.14; an older one is stood in for by a program that answers --version as 2.8 did.
  const bin = mkdtempSync(join(tmpdir(), 'kiln-old-ansible-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  const command = join(bin, 'ansible-playbook');
  writeFileSync(command, '#!/bin/sh\necho "ansible-playbook 2.8.20"\necho "  config file = None"\n', { mode: 0o755 });
  const f = fixture({ builders: [builder({ name: 'web' })], provisioners: [{ type: 'ansible', playbook_file: 'files/motd', command }] }, files);
  const problem = problemAt(await f.problems(), 'provisioners[0].command');
  assert.match(problem.message, /is Ansible 2\.8; kiln needs Ansible 2\.9 or later/);
  assert.match(problem.hint ?? '', /apt-get install ansible-core/);
});
