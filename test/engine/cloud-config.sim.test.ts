// `#cloud-config` user data is applied by the simulator's cloud-init as cloud-init applies it
// (issue 30): write_files, bootcmd, users and their keys, the default user's keys, runcmd and
// package_update (a reported no-op) — their effects are read back from the image kiln built;
// `cloud-init status` tells the truth, and a cloud-config problem shows as cloud-init reports it:
// a failing command is an error that stops the build, a YAML or schema problem a warning
// (`degraded done`) the build goes past and records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { startHarness, template } from './harness.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx8mNJ0qgvVKHCqVh2mx7Oq3Wv0cWbnL2r4P0jY2Yw5 deploy@laptop';

const CONFIG = `#cloud-config
package_update: true
bootcmd:
  - echo "booted $INSTANCE_ID" > /etc/bootcmd-ran
write_files:
  - path: /etc/app/config.ini
    content: |
      [app]
      port = 8080
  - path: /etc/app/from-b64
    permissions: '0600'
    encoding: b64
    content: ${Buffer.from('decoded from base64\n').toString('base64')}
  - path: /etc/app/from-gzip
    encoding: gz+b64
    content: ${gzipSync(Buffer.from('inflated\n')).toString('base64')}
  - path: /etc/app/config.ini
    content: "appended = yes\\n"
    append: true
  - path: /home/deploy/notes.txt
    content: written after the users exist
    owner: deploy:deploy
    defer: true
users:
  - default
  - name: deploy
    gecos: Deploy User
    shell: /bin/bash
    groups: [adm, builders]
    sudo: ALL=(ALL) NOPASSWD:ALL
    ssh_authorized_keys:
      - ${KEY}
ssh_authorized_keys:
  - ${KEY.replace('deploy@laptop', 'root@laptop')}
runcmd:
  - echo "runcmd saw $(cat /etc/app/from-b64)" > /etc/runcmd-ran
  - [ sh, -c, 'echo list form > /etc/runcmd-list' ]
`;

/** The status line and what cloud-init status --long said, from the provisioner's output in the log. */
const STATUS = { type: 'shell', inline: ['code=0; cloud-init status --long --wait || code=$?; echo "exit=$code"'] };

test('a cloud-config is applied: its files, users, keys and commands are in the image; cloud-init reports done', { timeout: 180_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const [outcome] = await h.build(h.template(template({ user_data: { 'cloud-init': CONFIG } }, [STATUS])));
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const disk = h.sim.diskPathOfSnapshot(outcome!.artifact!.snapshotId)!;
  const read = (path: string) => readFileSync(join(disk, path), 'utf8');
  const mode = (path: string) => (statSync(join(disk, path)).mode & 0o777).toString(8);

  assert.equal(read('etc/app/config.ini'), '[app]\nport = 8080\nappended = yes\n');
  assert.equal(read('etc/app/from-b64'), 'decoded from base64\n');
  assert.equal(read('etc/app/from-gzip'), 'inflated\n');
  assert.equal(mode('etc/app/from-b64'), '600');
  assert.equal(mode('etc/app/from-gzip'), '644', 'the default permissions');
  assert.match(read('etc/bootcmd-ran'), /^booted [0-9a-f-]{36}\n$/, 'bootcmd ran with INSTANCE_ID');
  assert.equal(read('etc/runcmd-ran'), 'runcmd saw decoded from base64\n', 'runcmd ran after write_files');
  assert.equal(read('etc/runcmd-list'), 'list form\n');

  const passwd = read('etc/passwd').split('\n').find((l) => l.startsWith('deploy:'))!;
  const [, , uid, gid, gecos, home, shell] = passwd.split(':');
  assert.deepEqual([gecos, home, shell], ['Deploy User', '/home/deploy', '/bin/bash']);
  assert.ok(Number(uid) >= 1000 && uid === gid, passwd);
  const groups = read('etc/group');
  assert.match(groups, /^adm:[^\n]*:deploy$/m);
  assert.match(groups, /^builders:x:\d+:deploy$/m, 'a missing group is made, as cloud-init makes it');
  assert.equal(read('etc/sudoers.d/90-cloud-init-users'), 'deploy ALL=(ALL) NOPASSWD:ALL\n');
  assert.equal(read('home/deploy/.ssh/authorized_keys'), `${KEY}\n`);
  assert.equal(mode('home/deploy/.ssh/authorized_keys'), '600');
  // deploy's, or root's where the simulator confines servers in a namespace with only uid 0 (as
  // root, or where no uid range can be mapped: README); never anyone else's.
  const rootUid = statSync(join(disk, 'root/.ssh/authorized_keys')).uid;
  const deploysOrRoots = (path: string) => [Number(uid), rootUid].includes(statSync(join(disk, path)).uid);
  assert.ok(deploysOrRoots('home/deploy/.ssh/authorized_keys'));
  assert.equal(read('home/deploy/notes.txt'), 'written after the users exist', 'a deferred file is written once its owner exists');
  assert.ok(deploysOrRoots('home/deploy/notes.txt'));
  assert.match(read('root/.ssh/authorized_keys'), /root@laptop\n$/);
  assert.match(read('var/log/cloud-init-output.log'), /package_update: the simulated image has no package mirror; nothing was updated/);

  const events = h.events(outcome!.buildId);
  assert.equal(events.find((e) => e.type === 'user_data.done')!.data.outcome, 'cloud-init done');
  const said = events.filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
  assert.deepEqual(said.slice(0, 2), ['status: done', 'extended_status: done']);
  assert.ok(said.includes('errors: []') && said.includes('recoverable_errors: {}') && said.includes('exit=0'), said.join('\n'));
});

test('a cloud-config problem shows as cloud-init reports it: a failing command is an error that stops the build (nothing left), a YAML or schema problem a warning (`degraded done`, exit 2) the build goes past and records', { timeout: 180_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const templates = [
    template({ user_data: { 'cloud-init': '#cloud-config\nruncmd:\n  - echo cannot reach the mirror\n  - exit 7\n' }, image_name: 'runcmd' }),
    template({ user_data: { 'cloud-init': '#cloud-config\nbootcmd:\n  - exit 3\nruncmd:\n  - touch /etc/still-ran\n' }, image_name: 'bootcmd' }),
    template({ user_data: { 'cloud-init': '#cloud-config\nruncmd: [touch /etc/x\n' }, image_name: 'yaml' }, [STATUS]),
    template({ user_data: { 'cloud-init': '#cloud-config\nruncmd: touch /etc/x\nhostname: builder\nwrite_files:\n  - path: /etc/kept\n    content: kept\n' }, image_name: 'schema' }),
  ];
  const [[a], [b], [c], [d]] = await Promise.all(templates.map((body, i) => h.build(h.template(body, `problem-${i}.json`))));

  // A failing runcmd: scripts_user's error, and the end of the output log.
  assert.equal(a!.status, 'failed');
  assert.equal(a!.failure?.phase, 'user_data.wait');
  const m = a!.failure!.error.message;
  assert.match(m, /status: error\nextended_status: error - done/);
  assert.match(m, /errors:\n\t- \('scripts_user', RuntimeError\('Runparts: 1 failures \(runcmd\) in 1 attempted commands'\)\)/);
  assert.match(m, /cannot reach the mirror/, 'the end of the output log is shown');
  // A failing bootcmd: its ProcessExecutionError.
  assert.equal(b!.status, 'failed');
  assert.match(b!.failure!.error.message, /\('bootcmd', ProcessExecutionError\("Unexpected error while running command\.\\nCommand: \['\/bin\/sh', '\/var\/lib\/cloud\/instance\/boothooks\/bootcmd\.sh'\]\\nExit code: 3\\nReason: -\\nStdout: -\\nStderr: -"\)\)/);
  for (const o of [a!, b!]) {
    assert.equal(o.cleanedUp, true);
    assert.deepEqual(await h.inventory(o.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
  }

  // Broken YAML: warnings, `degraded done`, exit 2; the build succeeds and its log says why it was degraded.
  assert.equal(c!.status, 'succeeded', JSON.stringify(c));
  const said = h.events(c!.buildId).filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
  assert.deepEqual(said.slice(0, 2), ['status: done', 'extended_status: degraded done']);
  assert.ok(said.includes('exit=2'), said.join('\n'));
  assert.ok(said.some((l) => /^\t- Failed loading yaml blob\. Invalid format at line \d+ column \d+: "/.test(l)), said.join('\n'));
  assert.ok(said.includes('\t- Failed at merging in cloud config part from part-001: empty cloud config'), said.join('\n'));
  assert.match(String(h.events(c!.buildId).find((e) => e.type === 'user_data.done')!.data.outcome), /^cloud-init degraded done, with warnings: Failed loading yaml blob/);

  // runcmd as a string: cloud-init warns about the schema, and the module fails.
  assert.equal(d!.status, 'failed');
  const md = d!.failure!.error.message;
  assert.match(md, /\('runcmd', TypeError\('Failed to shellify "touch \/etc\/x" into file \/var\/lib\/cloud\/instance\/scripts\/runcmd'\)\)/);
  assert.match(md, /recoverable_errors:\nWARNING:\n\t- cloud-config failed schema validation! You may run 'sudo cloud-init schema --system' to check the details\.\n\t- kiln simulator: cloud-config keys not applied: hostname/);
});
