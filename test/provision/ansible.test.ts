// The ansible and ansible-local provisioners with the real ansible-playbook, against a real sshd
// and a simulator's server (test/ssh/targets.ts): a role with a template and a handler, a variable
// from extra_arguments, ansible_env_vars, groups, a role ansible-galaxy installs from a local
// tarball; a failing task's message in the error.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProvisioner, ProvisionerError } from '../../src/provision/index.js';
import type { Communicator } from '../../src/ssh/index.js';
import { connectTo, run, targets, type SshTarget } from '../ssh/targets.js';
import { ansibleUnavailableReason, writePlaybookProject } from '../helpers/ansible.js';
import { ansibleLocalSpec, ansibleSpec, recordingContext } from './specs.js';

const noAnsible = ansibleUnavailableReason();
// A play on a busy machine: Python starts for every task, on both sides.
const PLAY_TIMEOUT = 240_000;

for (const kind of targets) {
  describe(`Ansible provisioners against ${kind.name}`, { skip: noAnsible ?? kind.unavailable() }, () => {
    let target: SshTarget;
    let comm: Communicator;
    let remote: string;
    let local: string;
    let keyFile: string;
    let count = 0;
    const fresh = async () => {
      count += 1;
      const folder = `${remote}/f${count}`;
      await run(comm, `mkdir -p '${folder}'`);
      return { folder, project: join(local, `p${count}`) };
    };
    const ansibleContext = () =>
      recordingContext(comm, { target: { host: target.host, port: target.port, username: target.username, privateKeyFile: keyFile } });

    before(async () => {
      target = await kind.start();
      comm = await connectTo(target);
      [remote] = await run(comm, 'mktemp -d');
      local = mkdtempSync(join(tmpdir(), 'kiln-ansible-test-'));
      keyFile = join(local, 'key');
      writeFileSync(keyFile, target.privateKey, { mode: 0o600 });
    }, { timeout: 60_000 });
    after(async () => {
      if (comm && remote) await run(comm, `rm -rf '${remote}'`);
      comm?.close();
      await target?.stop();
      if (local) rmSync(local, { recursive: true, force: true });
    }, { timeout: 60_000 });

    test('ansible: a role (template + handler), extra_arguments, ansible_env_vars, groups and a galaxy role, straight to the server', { timeout: PLAY_TIMEOUT }, async () => {
      const { folder, project: dir } = await fresh();
      const project = writePlaybookProject(dir, { hosts: 'builders' });
      const ctx = ansibleContext();
      await runProvisioner(
        ansibleSpec({
          index: 2,
          playbookFile: project.playbook,
          extraArguments: ['-e', 'greeting=hello', '-e', `dest=${folder}`, '-e', 'db_password=s3cr3t-value'],
          ansibleEnvVars: ['KILN_ANSIBLE_MARK=env-ok'],
          groups: ['builders'],
          galaxyFile: project.requirements,
          rolesPath: join(dir, 'galaxy-roles'),
        }),
        ctx,
      );
      assert.deepEqual(await run(comm, `cat '${folder}/motd'`), ['hello from default in builders, mark=env-ok']);
      assert.deepEqual(await run(comm, `cat '${folder}/handler'`), ['ran'], 'the handler the template notified ran');
      assert.deepEqual(await run(comm, `cat '${folder}/packed'`), ['installed by ansible-galaxy']);
      const lines = ctx.lines();
      assert.ok(lines.some((l) => /^default\s+: ok=3\s+changed=3 .*failed=0/.test(l)), `the play recap:\n${lines.join('\n')}`);
      assert.ok(ctx.output.every((o) => o.index === 2), 'output is tagged with the provisioner index');
      assert.ok(lines.some((l) => l.includes('db_password=*****')), 'the command line is shown, the password hidden');
      assert.ok(!lines.some((l) => l.includes('s3cr3t-value')), 'a password-named extra argument never reaches the output');
    });

    test('ansible: a failing task fails the provisioner with Ansible\'s message and the play recap', { timeout: PLAY_TIMEOUT }, async () => {
      const { folder, project: dir } = await fresh();
      const project = writePlaybookProject(dir, { hosts: 'all', failing: true });
      // The galaxy role is not installed here: the play goes to the failing task without it.
      writeFileSync(project.playbook, `- hosts: all\n  gather_facts: false\n  roles: [web]\n  tasks:\n    - name: a task that fails\n      fail: { msg: "kiln-broken-on-purpose" }\n`);
      const error = await runProvisioner(ansibleSpec({ playbookFile: project.playbook, extraArguments: ['-e', 'greeting=hi', '-e', `dest=${folder}`] }), ansibleContext()).then(
        () => assert.fail('the play should fail'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ProvisionerError, String(error));
      // What to read first, above the last output lines: Ansible's failure and the recap.
      const [summary] = error.message.split('\nlast output:');
      assert.match(summary!, /^provisioner 0 \(ansible\): ansible-playbook exited with code 2\n/);
      assert.match(summary!, /\n {2}fatal: \[default\]: FAILED! .*kiln-broken-on-purpose/);
      assert.match(summary!, /\n {2}PLAY RECAP: default : ok=1 changed=1 unreachable=0 failed=1/);
      assert.deepEqual(await run(comm, `cat '${folder}/motd'`), ['hi from default in ungrouped, mark='], 'the tasks before the failure ran');
    });

    test('ansible-local: uploads the playbook directory, installs the galaxy role on the server, runs, removes the staging directory', { timeout: PLAY_TIMEOUT }, async () => {
      const { folder, project: dir } = await fresh();
      const staging = `${folder}/staging`;
      // The requirements file names the tarball where the playbook directory's upload puts it.
      const project = writePlaybookProject(dir, { hosts: 'builders', tarballUrl: `file://${staging}/packed.tar.gz` });
      const ctx = recordingContext(comm);
      await runProvisioner(
        ansibleLocalSpec({
          index: 1,
          playbookFiles: [project.playbook],
          singlePlaybook: true,
          playbookDir: dir,
          stagingDirectory: staging,
          cleanStagingDirectory: true,
          inventoryGroups: ['builders'],
          galaxyFile: project.requirements,
          extraArguments: ['-e', 'greeting=hello', '-e', `dest=${folder}`],
        }),
        ctx,
      );
      assert.deepEqual(await run(comm, `cat '${folder}/motd'`), ['hello from 127.0.0.1 in builders, mark=']);
      assert.deepEqual(await run(comm, `cat '${folder}/handler'`), ['ran']);
      assert.deepEqual(await run(comm, `cat '${folder}/packed'`), ['installed by ansible-galaxy']);
      assert.deepEqual(await run(comm, `ls -A '${folder}'`), ['handler', 'motd', 'packed'], 'the staging directory is gone');
      assert.ok(ctx.lines().some((l) => /^127\.0\.0\.1\s+: ok=3\s+changed=3 .*failed=0/.test(l)), ctx.lines().join('\n'));
    });

    test('ansible-local: a failing task fails the provisioner with the play\'s exit code and its last lines', { timeout: PLAY_TIMEOUT }, async () => {
      const { folder, project: dir } = await fresh();
      const project = writePlaybookProject(dir, { hosts: 'all' });
      writeFileSync(project.playbook, `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: a task that fails\n      fail: { msg: "kiln-broken-on-purpose" }\n`);
      const error = await runProvisioner(
        ansibleLocalSpec({ playbookFiles: [project.playbook], singlePlaybook: true, stagingDirectory: `${folder}/staging` }),
        recordingContext(comm),
      ).then(() => assert.fail('the play should fail'), (e: unknown) => e);
      assert.ok(error instanceof ProvisionerError, String(error));
      assert.match(error.message, /^provisioner 0 \(ansible-local\): ansible-playbook exited with code 2/);
      assert.match(error.message, /kiln-broken-on-purpose/);
    });
  });
}
