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
import { hostState } from '../helpers/host-state.js';

function unavailable(tool: string): string | false {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return false;
  } catch {
    return `${tool} is not installed on this machine`;
  }
}

const modes = ['unshare', 'bwrap'] as const satisfies readonly ConfinementMode[];
for (const mode of modes) {
  const tool = mode === 'bwrap' ? 'bwrap' : 'unshare';
  const rootOnlyUnshare = mode === 'bwrap' && process.getuid?.() === 0 && 'as root the simulator confines with unshare only';
  describe(`confinement with ${mode}`, { skip: unavailable(tool) || rootOnlyUnshare }, () => {
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

    it('cannot change the host: links, kernel settings, hostname, mounts, swap and sudo stay inside', { timeout: 60_000 }, async () => {
      const link = `kiln${randomUUID().slice(0, 8)}`;
      const hostBefore = hostState(link);
      await fs.writeFile(path.join(diskDir, 'etc', 'hostname'), 'kiln-guest\n');
      // What provisioners of published templates run (swapon, sysctl, ufw's writes under /proc/sys).
      const attempts = [
        `ip link add ${link} type dummy`,
        'sysctl -w vm.swappiness=3',
        'echo 3 > /proc/sys/vm/swappiness',
        'sysctl -w net.ipv4.ip_forward=1',
        'echo 1 > /proc/sys/net/ipv4/ip_forward',
        'hostname kiln-renamed',
        'mount -t tmpfs kiln-planted /mnt',
        'dd if=/dev/zero of=/swap bs=64k count=16 2>/dev/null && chmod 600 /swap && mkswap /swap >/dev/null && swapon /swap',
        `sudo -E sh -c 'ip link add ${link} type dummy'`,
      ];
      const script = attempts.map((command, i) => `( ${command} ) 2>/dev/null; echo "${i} $?"`).join('; ');
      const result = await run(`${script}; echo "name $(hostname)"; echo "links $(ip -o link show | cut -d: -f2 | tr -d ' \\n')"`);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split('\n');
      attempts.forEach((command, i) => {
        const writesOwnNetwork = command.includes('ip_forward');
        const status = Number(lines[i]!.split(' ')[1]);
        // Net settings are the server's own network namespace's: allowed or not, the host keeps its own.
        if (!writesOwnNetwork) assert.notEqual(status, 0, `refused inside the server: ${command}`);
      });
      assert.equal(lines.at(-2), 'name kiln-guest', "the server's hostname is its disk's /etc/hostname");
      assert.equal(lines.at(-1)!.trim(), 'links lo', 'the server sees only its own loopback');
      assert.deepEqual(hostState(link), hostBefore, 'the host is as it was');
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
