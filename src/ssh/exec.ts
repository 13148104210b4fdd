// Running one command over an SSH connection: its output streamed line by line, how it ended
// (exit code, signal, or a dropped connection), and on abort the whole remote process group killed.
import type { Client, ClientChannel } from 'ssh2';
import { abortError, within } from './abort.js';
import { SshDisconnectError } from './errors.js';
import { LineSplitter } from './lines.js';
import { shellAssignments } from './shell.js';

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

/** An operation in flight, so close() can end it. */
export interface Running {
  /** Rejects the operation with `error`; resolves once the remote side was told to stop. */
  cancel(error: Error): Promise<void>;
}

/** What a command needs from the communicator that runs it. */
export interface ExecHost {
  /** `host:port`, for messages. */
  readonly target: string;
  /** Packer's `ssh_read_write_timeout`: a command silent this long is taken as hung; 0 for none. */
  readonly readWriteTimeoutMs: number;
  /** The operations the communicator's close() ends; a command is in it while it runs. */
  readonly running: Set<Running>;
  /** Whether `client` is still the communicator's connection (false once it dropped). */
  isCurrent(client: Client): boolean;
}

/**
 * Every command is prefixed with `echo <marker><pid> >&2` so kiln learns the remote shell's pid
 * (sshd makes it a process-group leader) and can kill the whole group on abort. The SSH
 * `signal` request alone is not enough: OpenSSH refuses it for root sessions ("session
 * signalling requires privilege separation"), and closing a channel does not stop a command
 * that has no terminal. The marker line is consumed, never shown.
 */
const pidMarker = 'kiln-exec-pid:';

/** The command line sent: the pid marker, the environment as `export` assignments, the command. Throws on a bad variable name. */
export function remoteCommandLine(command: string, env: Record<string, string> = {}): string {
  const exports = Object.keys(env).length > 0 ? `export ${shellAssignments(env, 'exec env')}; ` : '';
  return `echo ${pidMarker}$$ >&2; ${exports}${command}`;
}

/** Runs `commandLine` (from remoteCommandLine) over `client`; settles once it ended, was aborted or the connection dropped. */
export function runCommand(client: Client, commandLine: string, options: ExecOptions, host: ExecHost): Promise<ExecResult> {
  const { signal, onLine, expectDisconnect = false } = options;
  const env = options.env ?? {};
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
      host.running.delete(running);
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
                `the SSH connection to ${host.target} dropped while running a command ` +
                  '(if the script reboots or stops sshd, set expect_disconnect)',
              ),
            ),
          );
    host.running.add(running);
    signal?.addEventListener('abort', onAbort, { once: true });
    client.once('close', onConnectionLost).once('end', onConnectionLost);
    const started = (err: Error | undefined, ch: ClientChannel) => {
      if (err) {
        if (connectionLost || !host.isCurrent(client)) return lost();
        return settle(() => reject(new Error(`could not start the command over SSH: ${err.message}`)));
      }
      channel = ch;
      // No input: end stdin at once, so a command that reads it (cat, a prompt) does not wait forever.
      ch.end();
      let exit: { code: number | null; signal: string | null } | undefined;
      ch.on('exit', (code: number | null, exitSignal?: string) => {
        exit = { code: typeof code === 'number' ? code : null, signal: exitSignal ?? null };
      });
      const silenceLimit = host.readWriteTimeoutMs;
      const silence =
        silenceLimit > 0
          ? setTimeout(() => {
              void running.cancel(
                new SshDisconnectError(
                  `no data from ${host.target} for ${silenceLimit} ms (ssh_read_write_timeout): ` +
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
        if (connectionLost || !host.isCurrent(client)) return lost();
        // The server closed the channel without saying how the command ended.
        settle(() => resolve({ exitCode: null, signal: null, disconnected: false }));
      });
      if (settled) void running.cancel(new Error('cancelled')); // aborted while the channel was opening
    };
    try {
      client.exec(commandLine, { env }, started);
    } catch {
      // ssh2 throws "Not connected" when the connection died just before this call.
      lost();
    }
  });
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
