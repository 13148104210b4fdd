// The SSH communicator: connect with backoff, run commands with streamed output, transfer
// files over SFTP. Built on ssh2's Client.
import { loadSsh2 } from './library.js';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { posix } from 'node:path';
import { abortError, sleep, throwIfAborted, within } from './abort.js';
import { backoffDelay, type RetryPolicy } from '../shared/backoff.js';
import { LineSplitter } from './lines.js';
import { shellAssignments } from './shell.js';
import { getPath, putPath, remoteMkdirp } from './transfer.js';

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

export interface ExecResult {
  /** The command's exit status, or null when it ended by signal or the connection dropped. */
  exitCode: number | null;
  /** e.g. `SIGKILL` when the remote command died by signal. */
  signal: string | null;
  /** True when the connection dropped before the command reported how it ended (only with expectDisconnect). */
  disconnected: boolean;
}

export interface ExecOptions {
  /**
   * Environment for the command. Sent twice: as SSH `env` requests (honoured only where the
   * server's AcceptEnv allows) AND as an `export NAME='value' …;` prefix on the command, the way
   * Packer passes variables, which works with any POSIX login shell. `export` rather than a
   * bare `NAME=value command` prefix so the variables reach every part of a compound command.
   */
  env?: Record<string, string>;
  /** Aborting kills the remote command (SSH signal request, where supported) and closes its channel. */
  signal?: AbortSignal;
  /** Each output line, without its line ending; a last partial line is delivered at the end. */
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** When the connection drops mid-command, resolve `{disconnected: true}` instead of rejecting. */
  expectDisconnect?: boolean;
}

export interface TransferOptions {
  signal?: AbortSignal;
  /** Upload of a file: its permission bits on the remote side, instead of the local file's. */
  mode?: number;
}

export interface Communicator {
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Copies a local file or directory (recursively) to exactly `remotePath`, keeping modes; creates missing parents. */
  upload(localPath: string, remotePath: string, options?: TransferOptions): Promise<void>;
  /** Copies a remote file or directory (recursively) to exactly `localPath`, keeping modes. */
  download(remotePath: string, localPath: string, options?: TransferOptions): Promise<void>;
  /** Ends the connection and every open channel; pending operations reject. */
  close(): void;
}

/** SSH could not be reached (or refused us) for the whole of `timeoutMs`, or the handshake kept failing. */
export class SshConnectError extends Error {
  override name = 'SshConnectError';
  constructor(
    message: string,
    readonly attempts: number,
    readonly lastError: string,
  ) {
    super(message);
  }
}

/** The connection dropped while a command or transfer was running, and that was not expected. */
export class SshDisconnectError extends Error {
  override name = 'SshDisconnectError';
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
  if (err.level === 'client-authentication') return 'authentication refused (key not installed yet?)';
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
async function connectClient(options: ConnectOptions, signal: AbortSignal | undefined): Promise<Client> {
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

/** Connects to an SSH server, retrying until `options.timeoutMs` while it boots. */
export async function connect(options: ConnectOptions): Promise<Communicator> {
  const client = await connectClient(options, options.signal);
  return new SshCommunicator(options, client);
}

/** An operation in flight, so close() can end it. */
interface Running {
  /** Rejects the operation with `error`; resolves once the remote side was told to stop. */
  cancel(error: Error): Promise<void>;
}

/**
 * Every command is prefixed with `echo <marker><pid> >&2` so kiln learns the remote shell's pid
 * (sshd makes it a process-group leader) and can kill the whole group on abort. The SSH
 * `signal` request alone is not enough: OpenSSH refuses it for root sessions ("session
 * signalling requires privilege separation"), and closing a channel does not stop a command
 * that has no terminal. The marker line is consumed, never shown.
 */
const pidMarker = 'kiln-exec-pid:';

class SshCommunicator implements Communicator {
  private client: Client | undefined;
  private reconnecting: Promise<Client> | undefined;
  private closed = false;
  private readonly running = new Set<Running>();

  constructor(
    private readonly options: ConnectOptions,
    client: Client,
  ) {
    this.adopt(client);
  }

  private adopt(client: Client): void {
    this.client = client;
    const gone = () => {
      if (this.client === client) this.client = undefined;
    };
    // Errors after 'ready' surface through the affected operations; an unhandled 'error' would crash.
    client.on('error', gone).on('end', gone).on('close', gone);
  }

  /**
   * The live connection. After a drop (a script rebooted the server, or `expect_disconnect`),
   * connects again with the same options — as Packer's communicator does for the next command.
   */
  private async session(signal: AbortSignal | undefined): Promise<Client> {
    throwIfAborted(signal);
    if (this.closed) throw new Error('the SSH communicator was closed');
    if (this.client) return this.client;
    this.reconnecting ??= connectClient(this.options, signal).finally(() => (this.reconnecting = undefined));
    const client = await this.reconnecting;
    if (this.closed) {
      client.end();
      throw new Error('the SSH communicator was closed');
    }
    if (this.client !== client) this.adopt(client);
    return client;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { signal, onLine, expectDisconnect = false } = options;
    const env = options.env ?? {};
    const exports = Object.keys(env).length > 0 ? `export ${shellAssignments(env, 'exec env')}; ` : '';
    const client = await this.session(signal);
    return new Promise<ExecResult>((resolve, reject) => {
      let connectionLost = false;
      let settled = false;
      let channel: ClientChannel | undefined;
      // Resolves with the remote shell's pid once its marker line arrived (stderr may lag stdout).
      let pidKnown!: (pid: number | undefined) => void;
      const remotePid = new Promise<number | undefined>((resolve) => (pidKnown = resolve));
      let markerSeen = false;
      const stdout = new LineSplitter((line) => {
        if (!settled) onLine?.('stdout', line);
      });
      const stderr = new LineSplitter((line) => {
        // Usually the first stderr line, unless the login shell's start-up files print first.
        if (!markerSeen && line.startsWith(pidMarker)) {
          markerSeen = true;
          pidKnown(Number(line.slice(pidMarker.length)) || undefined);
          return;
        }
        if (!settled) onLine?.('stderr', line);
      });
      const onConnectionLost = () => (connectionLost = true);
      const running: Running = {
        cancel: async (error) => {
          settle(() => reject(error));
          try {
            channel?.signal('KILL'); // honoured by OpenSSH for non-root users
          } catch {
            /* channel already gone */
          }
          const pid = await within(remotePid, 2000, undefined);
          if (pid && !connectionLost) await killProcessGroup(client, pid);
          try {
            channel?.close();
          } catch {
            /* channel already gone */
          }
        },
      };
      const onAbort = () => void running.cancel(abortError(signal!));
      const settle = (done: () => void) => {
        if (settled) return;
        settled = true;
        this.running.delete(running);
        signal?.removeEventListener('abort', onAbort);
        client.removeListener('close', onConnectionLost);
        client.removeListener('end', onConnectionLost);
        done();
      };
      const lost = () =>
        expectDisconnect
          ? settle(() => resolve({ exitCode: null, signal: null, disconnected: true }))
          : settle(() =>
              reject(
                new SshDisconnectError(
                  `the SSH connection to ${this.options.host}:${this.options.port} dropped while running a command ` +
                    '(if the script reboots or stops sshd, set expect_disconnect)',
                ),
              ),
            );
      this.running.add(running);
      signal?.addEventListener('abort', onAbort, { once: true });
      client.once('close', onConnectionLost).once('end', onConnectionLost);
      const started = (err: Error | undefined, ch: ClientChannel) => {
        if (err) {
          if (connectionLost || this.client !== client) return lost();
          return settle(() => reject(new Error(`could not start the command over SSH: ${err.message}`)));
        }
        channel = ch;
        // No input: end stdin at once, so a command that reads it (cat, a prompt) does not wait forever.
        ch.end();
        let exit: { code: number | null; signal: string | null } | undefined;
        ch.on('exit', (code: number | null, exitSignal?: string) => {
          exit = { code: typeof code === 'number' ? code : null, signal: exitSignal ?? null };
        });
        const silenceLimit = this.options.readWriteTimeoutMs ?? 0;
        const silence =
          silenceLimit > 0
            ? setTimeout(() => {
                void running.cancel(
                  new SshDisconnectError(
                    `no data from ${this.options.host}:${this.options.port} for ${silenceLimit} ms (ssh_read_write_timeout): ` +
                      'the command was stopped; raise ssh_read_write_timeout if it is silent on purpose',
                  ),
                );
              }, silenceLimit)
            : undefined;
        ch.on('close', () => clearTimeout(silence));
        ch.on('data', (chunk: Buffer) => {
          silence?.refresh();
          stdout.push(chunk);
        });
        ch.stderr.on('data', (chunk: Buffer) => {
          silence?.refresh();
          stderr.push(chunk);
        });
        ch.on('error', () => {}); // reported through 'close'
        ch.on('close', () => {
          pidKnown(undefined);
          if (settled) return;
          stdout.flush();
          stderr.flush();
          if (exit) return settle(() => resolve({ exitCode: exit!.code, signal: exit!.signal, disconnected: false }));
          if (connectionLost || this.client !== client) return lost();
          // The server closed the channel without saying how the command ended.
          settle(() => resolve({ exitCode: null, signal: null, disconnected: false }));
        });
        if (settled) void running.cancel(new Error('cancelled')); // aborted while the channel was opening
      };
      try {
        client.exec(`echo ${pidMarker}$$ >&2; ${exports}${command}`, { env }, started);
      } catch {
        // ssh2 throws "Not connected" when the connection died just before this call.
        lost();
      }
    });
  }

  upload(localPath: string, remotePath: string, options: TransferOptions = {}): Promise<void> {
    return this.withSftp(options.signal, `upload ${localPath} → ${remotePath}`, async (sftp) => {
      await remoteMkdirp(sftp, posix.dirname(remotePath));
      await putPath(sftp, localPath, remotePath, options.mode);
    });
  }

  download(remotePath: string, localPath: string, options: TransferOptions = {}): Promise<void> {
    return this.withSftp(options.signal, `download ${remotePath} → ${localPath}`, (sftp) =>
      getPath(sftp, remotePath, localPath),
    );
  }

  /** Opens an SFTP channel for one transfer; abort or close() ends the channel. */
  private async withSftp(signal: AbortSignal | undefined, what: string, work: (sftp: SFTPWrapper) => Promise<void>): Promise<void> {
    const client = await this.session(signal);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let sftp: SFTPWrapper | undefined;
      const running: Running = {
        cancel: async (error) => {
          sftp?.end();
          settle(() => reject(error));
        },
      };
      const onAbort = () => void running.cancel(abortError(signal!));
      const settle = (done: () => void) => {
        if (settled) return;
        settled = true;
        this.running.delete(running);
        signal?.removeEventListener('abort', onAbort);
        done();
      };
      const fail = (err: Error) => {
        sftp?.end();
        const dropped = this.client !== client;
        settle(() =>
          reject(dropped ? new SshDisconnectError(`${what}: the SSH connection dropped (${err.message})`) : new Error(`${what}: ${err.message}`)),
        );
      };
      this.running.add(running);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        client.sftp((err, opened) => {
          if (settled) return opened?.end();
          if (err) return fail(new Error(`could not open SFTP: ${err.message}`));
          sftp = opened;
          opened.on('error', () => {}); // reported through the failing operation
          work(opened).then(() => {
            opened.end();
            settle(resolve);
          }, fail);
        });
      } catch (err) {
        fail(err as Error); // "Not connected": the connection died just before this call
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    const stopping = [...this.running].map((running) => running.cancel(new Error('the SSH communicator was closed')));
    if (!client) return;
    // Kill running commands first (over this connection), then hang up; never wait more than 2 s.
    let hungUp = false;
    const hangUp = () => {
      if (hungUp) return;
      hungUp = true;
      client.end();
      setTimeout(() => client.destroy(), 2000).unref();
    };
    void Promise.allSettled(stopping).then(hangUp);
    setTimeout(hangUp, 2000).unref();
  }
}

/** Kills a remote process group over a fresh channel; resolves when done or after 2 s. */
function killProcessGroup(client: Client, pid: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000).unref();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      client.exec(`kill -9 -${pid} 2>/dev/null || kill -9 ${pid} 2>/dev/null; true`, (err, ch) => {
        if (err) return done();
        ch.on('close', done).on('error', done).resume();
        ch.stderr.resume();
        ch.end();
      });
    } catch {
      done();
    }
  });
}
