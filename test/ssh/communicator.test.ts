// The communicator against real SSH servers (see targets.ts): exec, streaming, env, SFTP,
// disconnects, aborts, connecting while the server is not up yet.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { connect, generateKeyPair, SshConnectError, SshDisconnectError, type Communicator } from '../../src/ssh/index.js';
import { freePort, sshdUnavailableReason, startSshd } from '../helpers/sshd.js';
import { connectTo, run, targets, type SshTarget } from './targets.js';

for (const kind of targets) {
  describe(`communicator against ${kind.name}`, { skip: kind.unavailable() }, () => {
    let target: SshTarget;
    let comm: Communicator;
    let remoteDir: string;
    let localDir: string;

    before(async () => {
      target = await kind.start();
      comm = await connectTo(target);
      [remoteDir] = await run(comm, 'mktemp -d');
      localDir = mkdtempSync(join(tmpdir(), 'kiln-comm-test-'));
    }, { timeout: 60_000 });
    after(async () => {
      if (comm && remoteDir) await run(comm, `rm -rf '${remoteDir}'`);
      comm?.close();
      await target?.stop();
      if (localDir) rmSync(localDir, { recursive: true, force: true });
    }, { timeout: 60_000 });

    test('exec reports exit codes and keeps stdout and stderr apart, line by line', { timeout: 60_000 }, async () => {
      const lines: [string, string][] = [];
      const result = await comm.exec('echo out1; echo err1 >&2; printf "crlf\\r\\nno newline"; exit 3', {
        onLine: (stream, line) => lines.push([stream, line]),
      });
      assert.deepEqual(result, { exitCode: 3, signal: null, disconnected: false });
      assert.deepEqual(lines.filter(([s]) => s === 'stdout').map(([, l]) => l), ['out1', 'crlf', 'no newline']);
      assert.deepEqual(lines.filter(([s]) => s === 'stderr').map(([, l]) => l), ['err1']);
      assert.equal((await comm.exec('true')).exitCode, 0);
    });

    test('exec reports a command killed by a signal', { timeout: 60_000 }, async () => {
      const result = await comm.exec('kill -TERM $$');
      assert.equal(result.exitCode, null);
      assert.equal(result.signal, 'SIGTERM');
    });

    test('a large output (about 10 MB of lines) arrives complete and in order', { timeout: 60_000 }, async () => {
      const count = 1_300_000;
      let expected = 1;
      let bytes = 0;
      let outOfOrder = 0;
      const result = await comm.exec(`seq 1 ${count}`, {
        onLine: (_stream, line) => {
          if (line !== String(expected)) outOfOrder += 1;
          expected += 1;
          bytes += line.length + 1;
        },
      });
      assert.equal(result.exitCode, 0);
      assert.equal(outOfOrder, 0);
      assert.equal(expected - 1, count);
      assert.ok(bytes > 9_000_000, `received ${bytes} bytes`);
    });

    test('env reaches the command, quoted safely, including compound commands', { timeout: 60_000 }, async () => {
      const lines = await new Promise<string[]>((resolve, reject) => {
        const out: string[] = [];
        comm
          .exec('echo "$GREETING"; (echo "$DOLLARS")', {
            env: { GREETING: "it's a \"test\"; echo injected", DOLLARS: '$HOME `id`' },
            onLine: (_s, line) => out.push(line),
          })
          .then(() => resolve(out), reject);
      });
      assert.deepEqual(lines, [`it's a "test"; echo injected`, '$HOME `id`']);
      await assert.rejects(comm.exec('true', { env: { 'NOT-A-NAME': 'x' } }), /not a valid environment variable name/);
    });

    test('a 5 MB upload arrives intact, and downloads back intact', { timeout: 60_000 }, async () => {
      const local = join(localDir, 'big.bin');
      const data = randomBytes(5 * 1024 * 1024);
      writeFileSync(local, data);
      const remote = `${remoteDir}/nested/dir/big.bin`;
      await comm.upload(local, remote);
      const [line] = await run(comm, `sha256sum '${remote}'`);
      assert.equal(line.split(' ')[0], createHash('sha256').update(data).digest('hex'));
      const back = join(localDir, 'back', 'big.bin');
      await comm.download(remote, back);
      assert.ok(readFileSync(back).equals(data));
    });

    test('an upload can set the remote file\'s mode (a script made executable without a chmod command)', { timeout: 60_000 }, async () => {
      const local = join(localDir, 'not-executable.sh');
      writeFileSync(local, '#!/bin/sh\necho ran\n', { mode: 0o644 });
      const remote = `${remoteDir}/modes/script.sh`;
      await comm.upload(local, remote, { mode: 0o755 });
      assert.deepEqual(await run(comm, `stat -c %a '${remote}' && '${remote}'`), ['755', 'ran']);
    });

    test('a directory uploads recursively with its modes, and downloads back with them', { timeout: 60_000 }, async () => {
      const tree = join(localDir, 'tree');
      mkdirSync(join(tree, 'private'), { recursive: true });
      writeFileSync(join(tree, 'run.sh'), '#!/bin/sh\necho ran\n');
      chmodSync(join(tree, 'run.sh'), 0o755);
      writeFileSync(join(tree, 'private', 'secret.txt'), 'shh\n');
      chmodSync(join(tree, 'private', 'secret.txt'), 0o600);
      chmodSync(join(tree, 'private'), 0o700);
      await comm.upload(tree, `${remoteDir}/tree`);
      const modes = await run(comm, `cd '${remoteDir}/tree' && find . -mindepth 1 | sort | xargs stat -c '%a %n'`);
      assert.deepEqual(modes, ['700 ./private', '600 ./private/secret.txt', '755 ./run.sh']);
      assert.deepEqual(await run(comm, `'${remoteDir}/tree/run.sh'`), ['ran']);
      const back = join(localDir, 'tree-back');
      await comm.download(`${remoteDir}/tree`, back);
      assert.equal(statSync(join(back, 'private')).mode & 0o777, 0o700);
      assert.equal(statSync(join(back, 'private', 'secret.txt')).mode & 0o777, 0o600);
      assert.equal(readFileSync(join(back, 'private', 'secret.txt'), 'utf8'), 'shh\n');
    });

    test('download of a missing remote path fails with a clear error', { timeout: 60_000 }, async () => {
      await assert.rejects(comm.download(`${remoteDir}/nope`, join(localDir, 'nope')), /nope does not exist/);
    });

    // The aborted command and its child hold a lock on a file; taking the lock afterwards waits
    // for both to be gone (an event, not a timer; the test's limit bounds it). A lock works
    // across the simulator's per-command pid namespaces, where `kill -0 <pid>` could not tell.
    const holdLockCommand = (lock: string) => `exec 9>'${lock}'; flock 9; sleep 120 & echo started; wait`;

    test('aborting exec rejects at once and kills the remote command and its children', { timeout: 60_000 }, async () => {
      const controller = new AbortController();
      const lock = `${remoteDir}/abort.lock`;
      const running = comm.exec(holdLockCommand(lock), { signal: controller.signal, onLine: () => controller.abort() });
      await assert.rejects(running, { name: 'AbortError' });
      assert.deepEqual(await run(comm, `flock '${lock}' echo released`), ['released']);
    });

    test('a command reading stdin sees end of input instead of waiting', { timeout: 60_000 }, async () => {
      assert.deepEqual(await run(comm, 'cat; echo done'), ['done']);
    });

    test('close() rejects running commands, kills them and ends the connection', { timeout: 60_000 }, async () => {
      const other = await connectTo(target);
      const lock = `${remoteDir}/close.lock`;
      let started!: () => void;
      const isRunning = new Promise<void>((resolve) => (started = resolve));
      const running = other.exec(holdLockCommand(lock), { onLine: () => started() });
      await isRunning;
      other.close();
      await assert.rejects(running, /closed/);
      await assert.rejects(other.exec('true'), /closed/);
      assert.deepEqual(await run(comm, `flock '${lock}' echo released`), ['released']);
    });

    test('a connection dropped by the server resolves {disconnected} with expectDisconnect, rejects without; the next command reconnects', { timeout: 60_000 }, async () => {
      const other = await connectTo(target);
      try {
        const dropOnFirstLine = (expectDisconnect: boolean) =>
          other.exec('echo started; exec sleep 30', { expectDisconnect, onLine: () => void target.dropConnections() });
        assert.deepEqual(await dropOnFirstLine(true), { exitCode: null, signal: null, disconnected: true });
        assert.deepEqual(await run(other, 'echo back'), ['back']);
        await assert.rejects(dropOnFirstLine(false), SshDisconnectError);
        assert.deepEqual(await run(other, 'echo again'), ['again']);
      } finally {
        other.close();
      }
    });

    if (kind.canKillSession) {
      test('a command that kills its own session resolves {disconnected} with expectDisconnect, rejects without, and the next command reconnects', { timeout: 60_000 }, async () => {
        const other = await connectTo(target);
        try {
          assert.deepEqual(await other.exec('kill -9 $PPID', { expectDisconnect: true }), {
            exitCode: null,
            signal: null,
            disconnected: true,
          });
          assert.deepEqual(await run(other, 'echo back'), ['back']);
          await assert.rejects(other.exec('kill -9 $PPID'), SshDisconnectError);
          assert.deepEqual(await run(other, 'echo again'), ['again']);
        } finally {
          other.close();
        }
      });
    }
  });
}

describe('connecting', { skip: sshdUnavailableReason() }, () => {
  test('keeps retrying until a server that starts late is listening', { timeout: 60_000 }, async () => {
    const sshd = await startSshd({ deferStart: true });
    try {
      const failures: string[] = [];
      const comm = await connect({
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        privateKey: sshd.privateKey,
        timeoutMs: 30_000,
        onAttempt: (_attempt, error) => {
          failures.push(error);
          // The first refusal proves nothing was listening; now bring the server up.
          if (failures.length === 1) void sshd.start();
        },
      });
      try {
        assert.match(failures[0], /ECONNREFUSED/);
        assert.deepEqual(await run(comm, 'echo up'), ['up']);
      } finally {
        comm.close();
      }
    } finally {
      await sshd.stop();
    }
  });

  test('gives up after timeoutMs with an error naming the target and the last failure', { timeout: 60_000 }, async () => {
    const port = await freePort();
    let attempts = 0;
    const error = await connect({
      host: '127.0.0.1',
      port,
      username: 'root',
      privateKey: generateKeyPair().privateKey,
      // Several times the first retry delay (0.5 s), so a slow machine still gets to retry.
      timeoutMs: 3000,
      onAttempt: () => (attempts += 1),
    }).catch((err: unknown) => err);
    assert.ok(error instanceof SshConnectError);
    assert.match(error.message, new RegExp(`root@127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
    assert.equal(error.attempts, attempts);
    assert.ok(attempts >= 2, 'retried before giving up');
  });

  test('stops after handshakeAttempts authentication failures', { timeout: 60_000 }, async () => {
    const sshd = await startSshd();
    try {
      const error = await connect({
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        privateKey: generateKeyPair().privateKey, // not in authorized_keys
        timeoutMs: 60_000,
        handshakeAttempts: 2,
      }).catch((err: unknown) => err);
      assert.ok(error instanceof SshConnectError);
      assert.equal(error.attempts, 2);
      assert.match(error.message, /handshake failed 2 times.*authentication/);
    } finally {
      await sshd.stop();
    }
  });

  test('connections dropped before the handshake (sshd shedding load or penalising) do not use up handshakeAttempts', { timeout: 60_000 }, async () => {
    const sshd = await startSshd();
    // A loopback front that hangs up on the first three connections, then forwards to sshd.
    let accepted = 0;
    const sockets = new Set<Socket>();
    const front = createServer((socket) => {
      sockets.add(socket);
      accepted += 1;
      if (accepted <= 3) return socket.destroy();
      const upstream = netConnect(sshd.port, sshd.host);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const failures: string[] = [];
      const comm = await connect({
        host: '127.0.0.1',
        port: (front.address() as AddressInfo).port,
        username: sshd.username,
        privateKey: sshd.privateKey,
        timeoutMs: 30_000,
        handshakeAttempts: 1,
        onAttempt: (_attempt, error) => failures.push(error),
      });
      try {
        assert.equal(failures.length, 3);
        assert.match(failures[0], /closed the connection before the SSH handshake/);
        assert.deepEqual(await run(comm, 'echo through'), ['through']);
      } finally {
        comm.close();
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => front.close(resolve));
      await sshd.stop();
    }
  });

  test('an unparsable private key fails at once with a configuration error', { timeout: 60_000 }, async () => {
    await assert.rejects(
      connect({ host: '127.0.0.1', port: 1, username: 'root', privateKey: 'not a key', timeoutMs: 60_000 }),
      /SSH configuration error/,
    );
  });

  test('aborting stops the retries', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const controller = new AbortController();
    const error = await connect({
      host: '127.0.0.1',
      port,
      username: 'root',
      privateKey: generateKeyPair().privateKey,
      timeoutMs: 60_000,
      signal: controller.signal,
      onAttempt: () => controller.abort(),
    }).catch((err: unknown) => err);
    assert.equal((error as Error).name, 'AbortError');
  });
});

describe('Packer communicator options against OpenSSH sshd', { skip: sshdUnavailableReason() }, () => {
  test('ssh_read_write_timeout: a command silent for longer is stopped as a hung connection; output keeps it alive', { timeout: 60_000 }, async (t) => {
    const sshd = await startSshd();
    t.after(() => sshd.stop());
    const comm = await connectTo(sshd, { readWriteTimeoutMs: 4000 });
    t.after(() => comm.close());
    // Talks every 0.1 s for longer than the limit: never silent for anything near 4 s (even on a
    // busy machine), so it runs to its end.
    const lines: string[] = [];
    const talking = await comm.exec('for i in $(seq 1 50); do echo $i; sleep 0.1; done', { onLine: (_s, l) => lines.push(l) });
    assert.equal(talking.exitCode, 0);
    assert.equal(lines.length, 50);
    await assert.rejects(comm.exec('sleep 30'), (error: Error) => {
      assert.ok(error instanceof SshDisconnectError);
      assert.match(error.message, /no data from .* for 4000 ms \(ssh_read_write_timeout\)/);
      return true;
    });
    assert.equal((await comm.exec('true')).exitCode, 0, 'the connection is still usable');
  });

  test('ssh_agent_auth: the key held by a running ssh-agent logs in, with no key given to kiln', { timeout: 60_000 }, async (t) => {
    const sshd = await startSshd();
    t.after(() => sshd.stop());
    const dir = mkdtempSync(join(tmpdir(), 'kiln-agent-'));
    const socket = join(dir, 'agent.sock');
    const keyFile = join(dir, 'id');
    writeFileSync(keyFile, sshd.privateKey, { mode: 0o600 });
    const agent = spawnSync('ssh-agent', ['-a', socket], { encoding: 'utf8' });
    if (agent.status !== 0) return t.skip(`ssh-agent could not start: ${agent.stderr}`);
    const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
    t.after(() => {
      if (agentPid) process.kill(agentPid);
      rmSync(dir, { recursive: true, force: true });
    });
    const added = spawnSync('ssh-add', [keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8' });
    assert.equal(added.status, 0, added.stderr);
    const comm = await connect({ host: sshd.host, port: sshd.port, username: sshd.username, agent: socket, timeoutMs: 10_000 });
    t.after(() => comm.close());
    assert.deepEqual(await run(comm, 'echo via-agent'), ['via-agent']);
  });
});
