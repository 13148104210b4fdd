// Nagle's algorithm off on both ends of kiln's SSH: ssh2 writes each SSH packet on its own, and
// with Nagle a small packet sent while the previous one is unacknowledged waits for the peer's
// delayed ACK (40 ms on Linux) — twice per command. Seen from the system calls: a time limit
// here would only measure the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomLoopbackAddress } from '../fixtures/sim-ssh/harness.js';
import { straceUnavailable } from '../helpers/strace.js';

const noStrace = straceUnavailable('the socket options');

test("kiln's SSH client and the simulator's SSH server both set TCP_NODELAY on the connection", { skip: noStrace, timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-nodelay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fromSources = import.meta.url.endsWith('.ts');
  const module = (path: string) => new URL(`../../src/${path}.${fromSources ? 'ts' : 'js'}`, import.meta.url).href;
  // One process holds both ends; it marks on stderr when the connection is up, so the options
  // counted are the ones set on the way there (nothing is run: no confinement needed).
  const script = `
    import { SimSshGateway } from ${JSON.stringify(module('sim/ssh'))};
    import { installAuthorizedKeys } from ${JSON.stringify(module('sim/authorized-keys'))};
    import { connect, generateKeyPair } from ${JSON.stringify(module('ssh/index'))};
    const key = generateKeyPair();
    const gateway = await SimSshGateway.start({ port: 0, unconfined: true });
    const address = ${JSON.stringify(randomLoopbackAddress())};
    await installAuthorizedKeys(${JSON.stringify(dir)}, [key.publicKey]);
    await gateway.attach({ id: 's1', address, diskDir: ${JSON.stringify(dir)} });
    process.stderr.write('MARK connecting\\n');
    const ssh = await connect({ host: address, port: gateway.port, username: 'root', privateKey: key.privateKey, timeoutMs: 20000 });
    process.stderr.write('MARK connected\\n');
    ssh.close();
    await gateway.close();
  `;
  const trace = join(dir, 'trace');
  const node = [process.execPath, ...(fromSources ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script];
  const run = spawnSync('strace', ['-f', '-qq', '-e', 'trace=setsockopt,write', '-o', trace, ...node], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  let stretch = 'start';
  let nodelay = 0;
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const marked = /write\(2, "MARK (\w+)/.exec(line);
    if (marked) stretch = marked[1]!;
    else if (stretch === 'connecting' && /setsockopt\(\d+, SOL_TCP, TCP_NODELAY, \[1\]/.test(line)) nodelay += 1;
  }
  assert.equal(stretch, 'connected', 'the client connected');
  assert.equal(nodelay, 2, 'one TCP_NODELAY for the client socket, one for the server side of the connection');
});
