// Connecting: one TCP connect + SSH handshake with ssh2, and the loop that retries it with
// backoff while a fresh server boots, until Packer's `ssh_timeout` (and a bounded number of
// failed handshakes, Packer's `ssh_handshake_attempts`).
import type { Client, ConnectConfig } from 'ssh2';
import { backoffDelay, type RetryPolicy } from '../shared/backoff.js';
import { abortError, sleep, throwIfAborted } from './abort.js';
import { AUTH_REFUSED, SshConnectError } from './errors.js';
import { loadSsh2 } from './library.js';

export interface ConnectOptions {
  host: string;
  port: number;
  username: string;
  /** OpenSSH or PEM private key text (SECRET). */
  privateKey?: string;
  /** SECRET. */
  password?: string;
  /** An ssh-agent socket to authenticate with too (Packer's `ssh_agent_auth`: pass SSH_AUTH_SOCK). */
  agent?: string;
  /** Overall time to keep trying, like Packer's `ssh_timeout`. */
  timeoutMs: number;
  /**
   * How many times the SSH handshake (reached once TCP connects) may fail — e.g. auth refused
   * while cloud-init installs the key — before giving up. Refused connections do not count.
   * Default 10, like Packer's `ssh_handshake_attempts`.
   */
  handshakeAttempts?: number;
  /** Keep-alive interval; 0 disables. Default 5 s. */
  keepAliveIntervalMs?: number;
  /**
   * Packer's `ssh_read_write_timeout`: a command that sends nothing (no output) for this long is
   * taken as a hung connection — killed, and reported as a dropped connection. 0 (default): none.
   */
  readWriteTimeoutMs?: number;
  /** Per-attempt limit for TCP connect + handshake. Default 20 s (capped by what is left of timeoutMs). */
  readyTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called after each failed attempt, with a one-line reason (never a secret). */
  onAttempt?: (attempt: number, error: string) => void;
}

// Gentle on purpose: OpenSSH 9.8 penalises clients that reconnect rapidly after failures.
const connectBackoff: RetryPolicy = {
  attempts: Number.POSITIVE_INFINITY,
  initialMs: 500,
  factor: 1.6,
  maxMs: 5000,
  jitter: 0.25,
  maxTotalMs: Number.POSITIVE_INFINITY, // bounded by timeoutMs instead
};

interface SshError extends Error {
  level?: string;
  code?: string;
}

/** A one-line reason for a failed attempt, for progress reports. */
function describe(err: SshError): string {
  if (err.level === 'client-authentication') return AUTH_REFUSED;
  if (err.level === 'client-timeout') return 'timed out waiting for the SSH handshake';
  if (err.level === 'protocol' && /lost before handshake/i.test(err.message)) {
    return 'the server closed the connection before the SSH handshake (sshd starting, or throttling reconnects)';
  }
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

/** One TCP connect + SSH handshake. */
function connectOnce(options: ConnectOptions, readyTimeoutMs: number, signal: AbortSignal | undefined): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new (loadSsh2().Client)();
    const finish = (err?: Error) => {
      signal?.removeEventListener('abort', onAbort);
      client.removeListener('ready', onReady);
      client.removeListener('close', onClose);
      if (err) {
        client.removeListener('error', onError);
        client.on('error', () => {}); // late socket errors after we gave up on this client
        client.destroy();
        reject(err);
      } else {
        resolve(client);
      }
    };
    const onAbort = () => finish(abortError(signal!));
    const onReady = () => finish();
    const onError = (err: Error) => finish(err);
    const onClose = () => finish(Object.assign(new Error('connection closed during the SSH handshake'), { code: 'ECONNRESET' }));
    signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', onReady).once('error', onError).once('close', onClose);
    // ssh2 writes each SSH packet on its own: with Nagle's algorithm a request sent while the
    // previous packet is unacknowledged waits for the server's delayed ACK (40 ms on Linux) —
    // twice per command. Go's SSH client (Packer) disables Nagle too.
    client.once('connect', () => client.setNoDelay(true));
    const config: ConnectConfig = {
      host: options.host,
      port: options.port,
      username: options.username,
      privateKey: options.privateKey,
      password: options.password,
      agent: options.agent,
      readyTimeout: readyTimeoutMs,
      keepaliveInterval: options.keepAliveIntervalMs ?? 5000,
      keepaliveCountMax: 3,
      tryKeyboard: false,
      // Like Packer: a freshly created server's host key cannot be known in advance.
      hostVerifier: () => true,
    };
    try {
      client.connect(config);
    } catch (err) {
      // Configuration errors (an unparsable private key…) will not get better with retries.
      const error = new Error(`SSH configuration error: ${(err as Error).message}`);
      (error as SshError).level = 'config';
      finish(error);
    }
  });
}

/** Connects, retrying with capped exponential backoff and jitter until `timeoutMs`. */
export async function connectClient(options: ConnectOptions, signal: AbortSignal | undefined): Promise<Client> {
  const deadline = Date.now() + options.timeoutMs;
  const maxHandshakeFailures = options.handshakeAttempts ?? 10;
  let handshakeFailures = 0;
  let attempt = 0;
  let lastError = 'no attempt made';
  const target = `${options.username}@${options.host}:${options.port}`;
  for (;;) {
    throwIfAborted(signal);
    attempt += 1;
    const left = deadline - Date.now();
    try {
      return await connectOnce(options, Math.max(1000, Math.min(options.readyTimeoutMs ?? 20_000, left)), signal);
    } catch (err) {
      throwIfAborted(signal);
      const error = err as SshError;
      if (error.level === 'config') throw error;
      lastError = describe(error);
      options.onAttempt?.(attempt, lastError);
      // Reached sshd but the handshake/auth failed: bounded, unlike "nothing listening yet".
      // A connection dropped before the handshake is not counted: that is how sshd sheds load
      // (MaxStartups) and how OpenSSH ≥ 9.8 penalises a source (PerSourcePenalties).
      const droppedEarly = error.level === 'protocol' && /lost before handshake/i.test(error.message);
      if (error.level === 'client-authentication' || error.level === 'client-timeout' || (error.level === 'protocol' && !droppedEarly)) {
        handshakeFailures += 1;
        if (handshakeFailures >= maxHandshakeFailures) {
          throw new SshConnectError(
            `SSH to ${target}: the handshake failed ${handshakeFailures} times (last: ${lastError}). ` +
              'Check the username, the key or password, and that the server accepts them.',
            attempt,
            lastError,
          );
        }
      }
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new SshConnectError(
        `SSH to ${target}: no connection within ${Math.round(options.timeoutMs / 1000)} s after ${attempt} attempts ` +
          `(last: ${lastError}). Check that the server booted, that port ${options.port} is reachable, ` +
          'or raise ssh_timeout.',
        attempt,
        lastError,
      );
    }
    // Jitter spreads the retries of many builds; the last wait is cut short for one final try.
    await sleep(Math.min(backoffDelay(connectBackoff, attempt), remaining), signal);
  }
}
