// The simulator's SSH gateway on its own: a base disk attached on a random loopback address,
// driven by the ssh2 client.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from 'ssh2';
import { SimSshGateway } from '../../src/sim/ssh.js';
import { createBaseDisk, copyDisk, giveToGuest } from '../../src/sim/disk.js';
import { authorizedKeysPath, installAuthorizedKeys } from '../../src/sim/authorized-keys.js';
import { connect, exec, generateKeyPair, randomLoopbackAddress, sftp } from '../fixtures/sim-ssh/harness.js';

const UBUNTU = { id: 'ubuntu', versionId: '22.04', prettyName: 'Ubuntu 22.04 LTS', arch: 'x86_64' };

describe('SimSshGateway', () => {
  let workDir: string;
  let diskDir: string;
  let gateway: SimSshGateway;
  let client: Client;
  const address = randomLoopbackAddress();
  const key = generateKeyPair('ed25519');
  const rsaKey = generateKeyPair('rsa');

  before(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-sim-ssh-test-'));
    diskDir = path.join(workDir, 'disk');
    await createBaseDisk(diskDir, UBUNTU);
    await installAuthorizedKeys(diskDir, [key.publicLine, rsaKey.publicLine]);
    gateway = await SimSshGateway.start({ port: 0 });
    await gateway.attach({ id: 'srv-1', address, diskDir });
    client = await connect(address, gateway.port, key.privateKey);
  }, { timeout: 60_000 });

  after(async () => {
    client?.end();
    await gateway?.close();
    await fs.rm(workDir, { recursive: true, force: true });
  }, { timeout: 60_000 });

  it('runs a command as root in /root and reports its exit code and stderr', { timeout: 60_000 }, async () => {
    const ok = await exec(client, 'id -u; pwd; echo "$HOME"');
    assert.deepEqual(ok, { code: 0, signal: undefined, stdout: '0\n/root\n/root\n', stderr: '' });

    const failed = await exec(client, 'echo oops >&2; exit 42');
    assert.equal(failed.code, 42);
    assert.equal(failed.stderr, 'oops\n');

    const missing = await exec(client, 'no-such-command-here');
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /not found/);
  });

  it('sees the base disk as its root filesystem', { timeout: 60_000 }, async () => {
    const result = await exec(client, '. /etc/os-release && echo "$ID $VERSION_ID"; ls -ld /tmp | cut -c1-10; which awk');
    assert.equal(result.stdout, 'ubuntu 22.04\ndrwxrwxrwt\n/usr/bin/awk\n');
  });

  it('passes environment variables the client sends, and stdin', { timeout: 60_000 }, async () => {
    const result = await exec(client, 'echo "$GREETING"; cat', { env: { GREETING: 'hello there' }, input: 'from stdin\n' });
    assert.equal(result.stdout, 'hello there\nfrom stdin\n');
    assert.equal(result.code, 0);
  });

  it('reports a command killed by a signal', { timeout: 60_000 }, async () => {
    const result = await exec(client, 'kill -TERM $$');
    assert.equal(result.signal, 'SIGTERM'); // the wire says "TERM"; ssh2's client adds the prefix
  });

  it('uploads and downloads files over SFTP inside the disk', { timeout: 60_000 }, async () => {
    const session = await sftp(client);
    const writeFile = promisify(session.writeFile.bind(session)) as (p: string, d: string) => Promise<void>;
    const readFile = promisify(session.readFile.bind(session)) as (p: string) => Promise<Buffer>;
    await writeFile('/tmp/uploaded.txt', 'uploaded over sftp\n');
    assert.equal(await fs.readFile(path.join(diskDir, 'tmp', 'uploaded.txt'), 'utf8'), 'uploaded over sftp\n');

    await exec(client, 'echo written by a command > /root/made-here.txt');
    assert.equal((await readFile('/root/made-here.txt')).toString(), 'written by a command\n');
    // Relative paths start in root's home, as with OpenSSH.
    assert.equal((await readFile('made-here.txt')).toString(), 'written by a command\n');
    session.end();
  });

  it('keeps every write inside the disk', { timeout: 60_000 }, async () => {
    // A real file on the host, at an absolute path the command knows.
    const hostFile = path.join(workDir, 'host-only', 'precious.txt');
    await fs.mkdir(path.dirname(hostFile));
    await fs.writeFile(hostFile, 'original\n');

    const result = await exec(
      client,
      `mkdir -p ${path.dirname(hostFile)} && echo overwritten > ${hostFile}; echo x > /etc/planted; touch /usr/bin/planted`,
    );
    assert.match(result.stderr, /planted.*Read-only file system/, 'the host /usr must be read-only');
    assert.equal(await fs.readFile(hostFile, 'utf8'), 'original\n');
    assert.equal(await fs.readFile(path.join(diskDir, hostFile), 'utf8'), 'overwritten\n');
    assert.equal(await fs.readFile(path.join(diskDir, 'etc', 'planted'), 'utf8'), 'x\n');
    await assert.rejects(fs.access('/etc/planted'));
    await assert.rejects(fs.access('/usr/bin/planted'));
  });

  it('does not show host processes or host devices', { timeout: 60_000 }, async () => {
    const result = await exec(client, 'ls /proc | grep -c "^[0-9]" ; ls /dev');
    const [processCount, ...devices] = result.stdout.trim().split('\n');
    // init, sh, ls, grep — the host runs many more (this test's own node among them).
    assert.ok(Number(processCount) <= 5, `only the command's own processes are visible, saw ${processCount}`);
    assert.ok(!devices.some((d) => /^(sd|vd|nvme|loop|mem)/.test(d)), `no block or memory devices: ${devices.join(' ')}`);
  });

  it('accepts an RSA key (signed with rsa-sha2)', { timeout: 60_000 }, async () => {
    const rsaClient = await connect(address, gateway.port, rsaKey.privateKey);
    assert.equal((await exec(rsaClient, 'echo rsa')).stdout, 'rsa\n');
    rsaClient.end();
  });

  it('refuses unknown keys and users other than root', { timeout: 60_000 }, async () => {
    await assert.rejects(connect(address, gateway.port, generateKeyPair().privateKey), /authentication/i);
    await assert.rejects(connect(address, gateway.port, key.privateKey, 'ubuntu'), /authentication/i);
  });

  it("lets a key in only while root's authorized_keys on the disk holds it, read at each login", { timeout: 60_000 }, async () => {
    const other = generateKeyPair();
    await assert.rejects(connect(address, gateway.port, other.privateKey), /authentication/i);
    await installAuthorizedKeys(diskDir, [other.publicLine]);
    await giveToGuest(diskDir); // as the boot does after it wrote the keys: the guest's root may then edit the file
    const second = await connect(address, gateway.port, other.privateKey);
    // Taken out again (as kiln does before a snapshot), from inside the server: refused from then on.
    const body = other.publicLine.split(' ')[1]!;
    await exec(second, `grep -vF '${body}' /root/.ssh/authorized_keys > /tmp/k; cat /tmp/k > /root/.ssh/authorized_keys`);
    second.end();
    assert.ok(!(await fs.readFile(authorizedKeysPath(diskDir), 'utf8')).includes(body));
    await assert.rejects(connect(address, gateway.port, other.privateKey), /authentication/i);
    // The keys left still work.
    const again = await connect(address, gateway.port, key.privateKey);
    again.end();
  });

  it('serves each server from its own disk', { timeout: 60_000 }, async () => {
    const otherDisk = path.join(workDir, 'other-disk');
    await copyDisk(diskDir, otherDisk);
    const otherAddress = randomLoopbackAddress();
    await gateway.attach({ id: 'srv-2', address: otherAddress, diskDir: otherDisk });
    const other = await connect(otherAddress, gateway.port, key.privateKey);
    await exec(other, 'echo second > /root/which.txt');
    await exec(client, 'echo first > /root/which.txt');
    assert.equal(await fs.readFile(path.join(otherDisk, 'root', 'which.txt'), 'utf8'), 'second\n');
    assert.equal(await fs.readFile(path.join(diskDir, 'root', 'which.txt'), 'utf8'), 'first\n');
    other.end();
    await gateway.detach('srv-2');
  });

  it('after detach, ends live sessions and refuses new connections', { timeout: 60_000 }, async () => {
    const detachAddress = randomLoopbackAddress();
    await gateway.attach({ id: 'srv-3', address: detachAddress, diskDir });
    const live = await connect(detachAddress, gateway.port, key.privateKey);
    const ended = new Promise<void>((resolve) => live.once('close', () => resolve()));
    const longRunning = exec(live, 'sleep 600');

    await gateway.detach('srv-3');
    await ended;
    await longRunning.catch(() => undefined); // the channel dies with the connection
    const refused = new Promise<NodeJS.ErrnoException>((resolve) => {
      net.connect(gateway.port, detachAddress).on('error', resolve).on('connect', function (this: net.Socket) {
        this.destroy();
        resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' }));
      });
    });
    assert.equal((await refused).code, 'ECONNREFUSED');
    await gateway.detach('srv-3'); // idempotent
  });
});
