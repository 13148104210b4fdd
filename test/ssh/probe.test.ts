// The boot wait's sign: a server's SSH port accepting TCP connections, probed without logging in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { portAnswers } from '../../src/ssh/index.js';

/** A free loopback port: bound, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('portAnswers resolves once the port starts accepting, not before', async () => {
  const port = await freePort();
  let listening = false;
  const probe = portAnswers('127.0.0.1', port, new AbortController().signal, { gapMs: 10 }).then(() => listening);
  // Refused for a while: the probe keeps trying.
  await new Promise((r) => setTimeout(r, 100));
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => ((listening = true), resolve())));
  try {
    assert.equal(await probe, true, 'resolved only after the port listened');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('portAnswers stops when its signal aborts', async () => {
  const port = await freePort();
  const controller = new AbortController();
  const probe = portAnswers('127.0.0.1', port, controller.signal, { gapMs: 10 });
  setTimeout(() => controller.abort(new Error('wait over')), 50);
  await assert.rejects(probe, /wait over/);
});
