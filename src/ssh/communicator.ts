// The SSH communicator: one connection (connect.ts), reconnected after a drop; commands over it
// (exec.ts); file transfers over SFTP (transfer.ts); and close(), which ends whatever is running.
import type { Client, SFTPWrapper } from 'ssh2';
import { posix } from 'node:path';
import { abortError, throwIfAborted } from './abort.js';
import { connectClient, type ConnectOptions } from './connect.js';
import { SshDisconnectError } from './errors.js';
import { remoteCommandLine, runCommand, type ExecHost, type ExecOptions, type ExecResult, type Running } from './exec.js';
import { getPath, putPath, remoteMkdirp } from './transfer.js';

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

/** Connects to an SSH server, retrying until `options.timeoutMs` while it boots. */
export async function connect(options: ConnectOptions): Promise<Communicator> {
  const client = await connectClient(options, options.signal);
  return new SshCommunicator(options, client);
}

class SshCommunicator implements Communicator {
  private client: Client | undefined;
  private reconnecting: Promise<Client> | undefined;
  private closed = false;
  private readonly running = new Set<Running>();
  /** What a command run over this communicator needs of it (exec.ts). */
  private readonly execHost: ExecHost;

  constructor(
    private readonly options: ConnectOptions,
    client: Client,
  ) {
    this.execHost = {
      target: `${options.host}:${options.port}`,
      readWriteTimeoutMs: options.readWriteTimeoutMs ?? 0,
      running: this.running,
      isCurrent: (candidate) => this.client === candidate,
    };
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
    const commandLine = remoteCommandLine(command, options.env);
    const client = await this.session(options.signal);
    return runCommand(client, commandLine, options, this.execHost);
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
