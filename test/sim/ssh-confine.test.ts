// The confinement under the simulator's SSH side, in each mode this machine offers: a command runs
// as root inside the disk and cannot write anywhere else, not even by the classic chroot escape.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { runToEnd, spawnConfined, type ConfinementMode } from '../../src/sim/confine.js';
import { createBaseDisk } from '../../src/sim/disk.js';

function unavailable(tool: string): string | false {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return false;
  } catch {
    return `${tool} is not installed on this machine`;
  }
}

const modes = ['unshare', 'unshare-userns', 'bwrap'] as const satisfies readonly ConfinementMode[];
for (const mode of modes) {
  const tool = mode === 'bwrap' ? 'bwrap' : 'unshare';
  describe(`confinement with ${mode}`, { skip: unavailable(tool) }, () => {
    let workDir: string;
    let diskDir: string;
    const run = (command: string, env?: Record<string, string>) =>
      runToEnd(spawnConfined({ diskDir, command, env, mode }));

    before(async () => {
      workDir = await fs.mkdtemp(path.join(os.tmpdir(), `kiln-sim-confine-${mode}-`));
      diskDir = path.join(workDir, 'disk');
      await createBaseDisk(diskDir, { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12', arch: 'x86_64' });
    }, { timeout: 60_000 });

    after(async () => {
      if (workDir) await fs.rm(workDir, { recursive: true, force: true });
    }, { timeout: 60_000 });

    it('runs as root in /root with the given environment and exit code', { timeout: 60_000 }, async () => {
      const result = await run('echo "$(id -u) $(pwd) $HOME $GREETING"; exit 7', { GREETING: 'hi there' });
      assert.deepEqual(result, { code: 7, signal: null, stdout: '0 /root /root hi there\n', stderr: '' });
    });

    it('reports death by signal as a signal', { timeout: 60_000 }, async () => {
      const result = await run('kill -KILL $$');
      assert.equal(result.signal, 'SIGKILL');
    });

    it('writes to absolute paths land in the disk; /usr is read-only', { timeout: 60_000 }, async () => {
      const hostDir = path.join(workDir, 'host-side');
      await fs.mkdir(hostDir);
      await fs.writeFile(path.join(hostDir, 'keep.txt'), 'host\n');
      const result = await run(`mkdir -p ${hostDir}; echo guest > ${hostDir}/keep.txt; touch /usr/kiln-planted`);
      assert.match(result.stderr, /Read-only file system/);
      assert.equal(await fs.readFile(path.join(hostDir, 'keep.txt'), 'utf8'), 'host\n');
      assert.equal(await fs.readFile(path.join(diskDir, hostDir, 'keep.txt'), 'utf8'), 'guest\n');
    });

    it('the classic chroot escape stays inside the disk', { timeout: 60_000 }, async () => {
      const marker = `kiln-escape-${randomUUID()}`;
      try {
        // chroot into a subdirectory, climb out of it with "..", chroot to where we ended up.
        const escape = `mkdir("x"); chroot("x") or die "chroot: $!"; chdir("..") for 1..64; chroot(".") or die "chroot2: $!"; ` +
          `open(my $f, ">", "/tmp/${marker}") or die "open: $!"; print $f "escaped\\n";`;
        const result = await run(`cd /root && perl -e '${escape}'`);
        assert.equal(result.code, 0, result.stderr);
        await assert.rejects(fs.access(path.join('/tmp', marker)), 'nothing written to the host /tmp');
        assert.equal(await fs.readFile(path.join(diskDir, 'tmp', marker), 'utf8'), 'escaped\n');
      } finally {
        await fs.rm(path.join('/tmp', marker), { force: true });
      }
    });
  });
}

describe('unconfined (explicit opt-in)', () => {
  it('runs the command on the host, starting in the disk’s root/ directory', { timeout: 60_000 }, async () => {
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-sim-unconfined-'));
    try {
      const diskDir = path.join(workDir, 'disk');
      await createBaseDisk(diskDir, { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12', arch: 'x86_64' });
      const result = await runToEnd(spawnConfined({ diskDir, command: `pwd; echo "$HOME"; test -d ${workDir} && echo host-visible`, mode: 'unconfined' }));
      const home = path.join(diskDir, 'root');
      assert.equal(result.stdout, `${home}\n${home}\nhost-visible\n`, result.stderr);
    } finally {
      await fs.rm(workDir, { recursive: true, force: true });
    }
  });
});
