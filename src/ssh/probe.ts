// Whether a server's SSH port accepts connections, without logging in: the sign a boot wait
// watches so that it asks the API for the server's state once it is worth asking.
import { connect } from 'node:net';
import { sleep } from './abort.js';

/** One TCP connection attempt to host:port; true when it was accepted. */
function accepts(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(ok);
    };
    const onAbort = () => done(false);
    // A host that is not up yet may drop the SYN instead of refusing it.
    const timer = setTimeout(() => done(false), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done(true));
    // Kept for the socket's whole life: an 'error' without a listener would throw.
    socket.on('error', () => done(false));
  });
}

/**
 * Resolves once host:port accepts a TCP connection, trying every `gapMs` (each attempt given
 * `attemptTimeoutMs`); rejects when `signal` aborts.
 */
export async function portAnswers(host: string, port: number, signal: AbortSignal, o: { gapMs?: number; attemptTimeoutMs?: number } = {}): Promise<void> {
  const gapMs = o.gapMs ?? 100;
  const attemptTimeoutMs = o.attemptTimeoutMs ?? 1_000;
  for (;;) {
    const startedAt = Date.now();
    if (await accepts(host, port, attemptTimeoutMs, signal)) return;
    await sleep(Math.max(0, startedAt + gapMs - Date.now()), signal);
  }
}
