// The SSH side of simulated servers: one ssh2 Server per running server, listening on that
// server's own loopback address, all on the same port and with the same host key. User `root`
// logs in with a key that root's authorized_keys on the server's disk holds (the boot puts the
// server's AUTHORIZED_KEY tags there: authorized-keys.ts); every command, shell, scp and SFTP
// session runs confined to the server's disk directory (confine.ts).
import { existsSync } from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey, PublicKeyAuthContext, ServerChannel, Session, AuthContext } from 'ssh2';
import { authorizedKeysOnDisk } from './authorized-keys.js';
import { detectConfinement, killConfined, spawnConfined, type ConfinedProcess, type ConfinementMode } from './confine.js';

const { Server, utils } = ssh2;

export interface SimSshGatewayOptions {
  /** Port shared by every server's address; 0 = pick a free one. */
  port: number;
  /** Run commands directly on the host instead of confined to the disk (explicit opt-in only). */
  unconfined?: boolean;
}

export interface SimSshServer {
  id: string;
  /** The server's own loopback address (127.A.B.C). */
  address: string;
  /** The server's disk: root's keys are read from its /root/.ssh/authorized_keys at each login. */
  diskDir: string;
  /** Extra volumes bound into the disk (see ConfinedRun.mounts). */
  mounts?: { source: string; target: string }[];
}

const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
const DISCONNECT_GRACE_MS = 2_000;

interface Attached {
  server: SimSshServer;
  listener: InstanceType<typeof Server>;
  connections: Set<Connection>;
  processes: Set<ConfinedProcess>;
}

export class SimSshGateway {
  readonly port: number;
  private readonly attached = new Map<string, Attached>();

  private constructor(
    port: number,
    private readonly hostKey: string,
    private readonly mode: ConfinementMode,
    /** Holds an ephemeral port on 127.0.0.1 so no wildcard listener takes it while we use it. */
    private readonly portReservation: net.Server | undefined,
  ) {
    this.port = port;
  }

  static async start(options: SimSshGatewayOptions): Promise<SimSshGateway> {
    const mode = options.unconfined ? 'unconfined' : await detectConfinement();
    let port = options.port;
    let reservation: net.Server | undefined;
    if (port === 0) {
      reservation = net.createServer((socket) => socket.destroy());
      await listen(reservation, 0, '127.0.0.1');
      port = (reservation.address() as net.AddressInfo).port;
    }
    // ssh2 1.17 sometimes (about 1 in 200) drops a leading zero byte of an ed25519 key and
    // cannot parse its own output: draw again until the host key parses.
    let hostKey = utils.generateKeyPairSync('ed25519').private;
    while (utils.parseKey(hostKey) instanceof Error) hostKey = utils.generateKeyPairSync('ed25519').private;
    return new SimSshGateway(port, hostKey, mode, reservation);
  }

  /** Start accepting SSH for a running server on address:port. Replaces an earlier attach of the same id. */
  async attach(server: SimSshServer): Promise<void> {
    await this.detach(server.id);
    const entry: Attached = {
      server,
      listener: new Server({ hostKeys: [this.hostKey] }, (client) => this.onClient(entry, client)),
      connections: new Set(),
      processes: new Set(),
    };
    entry.listener.on('error', () => {}); // a broken listener shows up as refused connections
    try {
      await listen(entry.listener, this.port, server.address);
    } catch (error) {
      throw new Error(`SSH for server ${server.id} cannot listen on ${server.address}:${this.port}: ${(error as Error).message}`);
    }
    this.attached.set(server.id, entry);
  }

  /** Stop listening for that server and end its sessions (poweroff/terminate). Idempotent. */
  async detach(serverId: string): Promise<void> {
    const entry = this.attached.get(serverId);
    if (!entry) return;
    this.attached.delete(serverId);
    // close() stops accepting at once; its callback waits for the live connections, ended below.
    const closed = new Promise<void>((resolve) => entry.listener.close(() => resolve()));
    for (const child of entry.processes) killConfined(child);
    for (const connection of entry.connections) connection.end();
    // A client that ignores the disconnect must not keep the simulator from stopping.
    const grace = setTimeout(() => {
      for (const connection of entry.connections) socketOf(connection)?.destroy();
    }, DISCONNECT_GRACE_MS);
    await closed;
    clearTimeout(grace);
  }

  /** Runs `command` inside an attached server in the background (no channel: its output is the command's business); killed on detach. */
  runInServer(serverId: string, command: string): void {
    const entry = this.attached.get(serverId);
    if (!entry) return;
    let confined: ConfinedProcess;
    try {
      confined = spawnConfined({ diskDir: entry.server.diskDir, command, env: {}, mode: this.mode });
    } catch {
      return; // the server runs without it, as one whose cloud-init failed to start would
    }
    entry.processes.add(confined);
    confined.process.stdin?.end();
    confined.process.stdout?.resume();
    confined.process.stderr?.resume();
    confined.done.catch(() => undefined).finally(() => entry.processes.delete(confined));
  }

  async close(): Promise<void> {
    await Promise.all([...this.attached.keys()].map((id) => this.detach(id)));
    const reservation = this.portReservation;
    if (reservation) await new Promise<void>((resolve) => reservation.close(() => resolve()));
  }

  private onClient(entry: Attached, client: Connection): void {
    // OpenSSH's sshd sends a command's exit-status, EOF and close in one write; ssh2 writes them
    // one by one, and with Nagle's algorithm the later ones wait for the client's delayed ACK
    // (40 ms on Linux) — a stall a real server does not impose on any client.
    // (ssh2's server Connection has setNoDelay; @types/ssh2 leaves it out.)
    (client as Connection & { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
    entry.connections.add(client);
    client.on('close', () => entry.connections.delete(client));
    client.on('error', () => client.end()); // a client dropping mid-handshake is routine
    client.on('authentication', (ctx) => this.authenticate(entry, ctx));
    client.on('ready', () => {
      client.on('session', (acceptSession) => this.onSession(entry, acceptSession()));
    });
  }

  private authenticate(entry: Attached, ctx: AuthContext): void {
    if (ctx.method !== 'publickey' || ctx.username !== 'root') {
      ctx.reject(['publickey']);
      return;
    }
    const offered = ctx.key.data;
    // Read at each login, as sshd reads the file: a key taken out of it no longer lets anyone in.
    const key = parsedKeys(authorizedKeysOnDisk(entry.server.diskDir)).find((k) => k.getPublicSSH().equals(offered));
    if (!key) {
      ctx.reject(['publickey']);
      return;
    }
    if (!ctx.signature) {
      answerKeyQuery(ctx);
      return;
    }
    if (key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) ctx.accept();
    else ctx.reject(['publickey']);
  }

  private onSession(entry: Attached, session: Session): void {
    const env: Record<string, string> = {};
    let pty: { term: string; cols?: number; rows?: number } | undefined;

    session.on('env', (accept, _reject, info) => {
      env[info.key] = info.val;
      accept?.();
    });
    session.on('pty', (accept, _reject, info) => {
      pty = { term: info.term, cols: info.cols, rows: info.rows };
      accept?.();
    });
    session.on('window-change', (accept) => accept?.());
    session.on('exec', (accept, _reject, info) => {
      this.run(entry, accept(), { command: info.command, env, pty });
    });
    session.on('shell', (accept) => {
      this.run(entry, accept(), { env, pty });
    });
    session.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp' || !existsSync(SFTP_SERVER)) {
        reject?.();
        return;
      }
      // OpenSSH's own sftp-server, run inside the disk: paths resolve against the disk's root.
      this.run(entry, accept(), { command: `exec ${SFTP_SERVER}`, env });
    });
  }

  private run(
    entry: Attached,
    channel: ServerChannel,
    request: { command?: string; env: Record<string, string>; pty?: { term: string; cols?: number; rows?: number } },
  ): void {
    let confined: ConfinedProcess;
    try {
      confined = spawnConfined({ diskDir: entry.server.diskDir, mounts: entry.server.mounts, ...request, mode: this.mode });
    } catch (error) {
      channel.stderr.write(`kiln sim: cannot start the command: ${(error as Error).message}\n`);
      channel.exit(127);
      channel.end();
      return;
    }
    entry.processes.add(confined);
    const child = confined.process;
    channel.pipe(child.stdin!);
    child.stdout!.pipe(channel, { end: false });
    child.stderr!.pipe(channel.stderr, { end: false });
    child.stdin!.on('error', () => {}); // the command may exit without reading its input

    // The client went away (or detach ended the connection): nothing may keep running.
    channel.on('close', () => killConfined(confined));
    confined.done.then(
      ({ code, signal }) => {
        if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
        else channel.exit(code ?? 255);
      },
      (error: Error) => {
        channel.stderr.write(`kiln sim: cannot start the command: ${error.message}\n`);
        channel.exit(127);
      },
    ).finally(() => {
      entry.processes.delete(confined);
      channel.end();
    });
  }
}

/** The keys of authorized_keys lines; a malformed line grants nothing (and stops nothing). */
function parsedKeys(lines: readonly string[]): ParsedKey[] {
  const keys: ParsedKey[] = [];
  for (const line of lines) {
    const parsed = utils.parseKey(line);
    if (!(parsed instanceof Error)) keys.push(Array.isArray(parsed) ? parsed[0]! : parsed);
  }
  return keys;
}

/**
 * Answer "would you accept this key?" (USERAUTH_PK_OK). ssh2 answers it naming `ssh-rsa` even when
 * the client asked with rsa-sha2-256/512; Go's x/crypto (Packer, Terraform) then gives up on the
 * key. Answer with the algorithm the client named, as OpenSSH's sshd does.
 */
function answerKeyQuery(ctx: PublicKeyAuthContext): void {
  const rsaSha2 = ctx.hashAlgo === 'sha256' ? 'rsa-sha2-256' : ctx.hashAlgo === 'sha512' ? 'rsa-sha2-512' : undefined;
  if (!rsaSha2) {
    ctx.accept();
    return;
  }
  const internals = ctx as unknown as {
    _initialResponse: boolean;
    _protocol: { authPKOK(keyAlgo: string, key: Buffer): void };
  };
  internals._initialResponse = true;
  internals._protocol.authPKOK(rsaSha2, ctx.key.data);
}

/** ssh2 keeps a connection's socket private; detach needs it to drop a client that will not leave. */
function socketOf(connection: Connection): net.Socket | undefined {
  return (connection as unknown as { _sock?: net.Socket })._sock;
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
