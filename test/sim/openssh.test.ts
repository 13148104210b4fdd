// Real OpenSSH clients (ssh, scp) log into a server of the whole simulator (HTTP API + SSH) with
// the key from its AUTHORIZED_KEY tag.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { generateKeyPair, launchServer, simApi, SIM_ZONE } from '../fixtures/sim-ssh/harness.js';

const missing = ['/usr/bin/ssh', '/usr/bin/scp'].filter((tool) => !existsSync(tool));
const skip = missing.length > 0 ? `OpenSSH client not installed (${missing.join(', ')}); apt-get install openssh-client` : false;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a tool asynchronously: the SSH server answering it lives in this same process. */
function run(file: string, args: string[]): Promise<Run> {
  return runWithInput(file, args, '');
}

function runWithInput(file: string, args: string[], input: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 60_000, env: { ...process.env, TERM: 'xterm-test' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
    // The tool may exit before it reads its input (a refused connection): then writing fails with
    // EPIPE, which must not crash the test file; the exit status says what happened.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

describe('OpenSSH ssh and scp against a simulated server', { skip }, () => {
  let workDir: string;
  let diskDir: string;
  let keyFile: string;
  let sim: Simulator;
  let serverId: string;
  let address: string;
  const options = () => [
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=20',
    '-i', keyFile,
  ];

  before(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-sim-openssh-test-'));
    const key = generateKeyPair('ed25519');
    keyFile = path.join(workDir, 'id_ed25519');
    await fs.writeFile(keyFile, key.privateKey, { mode: 0o600 });
    sim = await startSimulator({ port: 0, sshPort: 0, latency: 'fast' });
    const server = await launchServer(sim, key.publicLine, 'debian_bookworm');
    serverId = server.id;
    address = server.address;
    const disk = sim.diskPathOfVolume(server.rootVolumeId);
    assert.ok(disk, `root volume ${server.rootVolumeId} has a disk`);
    diskDir = disk;
  }, { timeout: 60_000 });

  after(async () => {
    await sim?.close();
    if (workDir) await fs.rm(workDir, { recursive: true, force: true });
  }, { timeout: 60_000 });

  it('ssh logs in as root with the key and runs a command in the disk', { timeout: 60_000 }, async () => {
    const result = await run('ssh', [...options(), '-p', String(sim.sshPort), `root@${address}`,
      '. /etc/os-release; echo "$ID $(id -un) $(pwd)"; echo made-by-ssh > /root/ssh.txt; exit 3']);
    assert.equal(result.stdout, 'debian root /root\n', result.stderr);
    assert.match(address, /^127\.\d+\.\d+\.\d+$/);
    assert.equal(result.code, 3);
    assert.equal(await fs.readFile(path.join(diskDir, 'root', 'ssh.txt'), 'utf8'), 'made-by-ssh\n');
  });

  it('scp copies a file into the disk (SFTP protocol) and back', { timeout: 60_000 }, async () => {
    const local = path.join(workDir, 'upload.txt');
    await fs.writeFile(local, 'copied with scp\n');
    const up = await run('scp', [...options(), '-P', String(sim.sshPort), local, `root@${address}:/root/`]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(await fs.readFile(path.join(diskDir, 'root', 'upload.txt'), 'utf8'), 'copied with scp\n');

    const back = path.join(workDir, 'download.txt');
    const down = await run('scp', [...options(), '-P', String(sim.sshPort), `root@${address}:upload.txt`, back]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await fs.readFile(back, 'utf8'), 'copied with scp\n');
  });

  it('scp -O copies a file with the legacy protocol (scp -t on the server, as Packer does)', { timeout: 60_000 }, async () => {
    const local = path.join(workDir, 'legacy.sh');
    await fs.writeFile(local, '#!/bin/sh\necho legacy\n', { mode: 0o755 });
    const up = await run('scp', [...options(), '-O', '-P', String(sim.sshPort), local, `root@${address}:/tmp/`]);
    assert.equal(up.code, 0, up.stderr);
    const copied = path.join(diskDir, 'tmp', 'legacy.sh');
    assert.equal(await fs.readFile(copied, 'utf8'), '#!/bin/sh\necho legacy\n');
    assert.equal((await fs.stat(copied)).mode & 0o777, 0o755);
    const ran = await run('ssh', [...options(), '-p', String(sim.sshPort), `root@${address}`, '/tmp/legacy.sh']);
    assert.equal(ran.stdout, 'legacy\n', ran.stderr);
  });

  it('gives a terminal when asked (ssh -tt) and a shell when no command is given', { timeout: 60_000 }, async () => {
    const withPty = await run('ssh', [...options(), '-tt', '-p', String(sim.sshPort), `root@${address}`, 'tty; echo "$TERM"']);
    assert.match(withPty.stdout, /^\/dev\/pts\/\d+\r\nxterm-test\r\n$/, withPty.stderr);
    assert.equal(withPty.code, 0);

    const shell = await runWithInput('ssh', [...options(), '-T', '-p', String(sim.sshPort), `root@${address}`], 'echo from-shell; exit 5\n');
    assert.equal(shell.stdout, 'from-shell\n', shell.stderr);
    assert.equal(shell.code, 5);
  });

  it('refuses a key that is not authorized', { timeout: 60_000 }, async () => {
    const otherKey = path.join(workDir, 'other_ed25519');
    await fs.writeFile(otherKey, generateKeyPair().privateKey, { mode: 0o600 });
    const result = await run('ssh', [...options().slice(0, -1), otherKey, '-p', String(sim.sshPort), `root@${address}`, 'true']);
    assert.equal(result.code, 255);
    assert.match(result.stderr, /Permission denied/);
  });

  it('stops answering once the server is powered off', { timeout: 60_000 }, async () => {
    await simApi(sim, 'POST', `/instance/v1/zones/${SIM_ZONE}/servers/${serverId}/action`, { action: 'poweroff' });
    const result = await run('ssh', [...options(), '-p', String(sim.sshPort), `root@${address}`, 'true']);
    assert.equal(result.code, 255);
    assert.match(result.stderr, /Connection refused|Connection closed|Connection reset/);
  });
});
