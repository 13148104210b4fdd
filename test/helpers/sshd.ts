// Starts a real OpenSSH sshd for tests: loopback only, a free port, its own temp dir with a
// fresh host key, an authorized_keys for a freshly generated client key, and its own config.
// Call stop() when done: it ends sshd and removes the directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/ssh/index.js';
import { freePort } from '../../scripts/lib/free-port.js';

export { freePort };

export const sshdPath = '/usr/sbin/sshd';

/** Why sshd tests cannot run here, or undefined when they can. */
export function sshdUnavailableReason(): string | undefined {
  if (!existsSync(sshdPath)) return `${sshdPath} is not installed (install openssh-server to run these tests)`;
  if (process.getuid?.() !== 0) return 'sshd tests need root (sshd must read its host key and switch users)';
  return undefined;
}

export interface SshdHandle {
  host: string;
  port: number;
  username: string;
  /** Client private key whose public half is in authorized_keys. */
  privateKey: string;
  /** Starts sshd (already called unless `deferStart` was given); resolves once it listens. */
  start(): Promise<void>;
  /** What sshd wrote to stderr so far (for diagnosing a failing test). */
  log(): string;
  /** Drops every connection from outside, as a crash or reboot would: kills every process below the listener. */
  dropConnections(): Promise<void>;
  /** Stops sshd and removes its directory. */
  stop(): Promise<void>;
}

export async function startSshd(options: { deferStart?: boolean; logLevel?: string } = {}): Promise<SshdHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sshd-'));
  const port = await freePort();
  const hostKey = generateKeyPair('kiln-test-host');
  const clientKey = generateKeyPair('kiln-test-client');
  writeFileSync(join(dir, 'host_key'), hostKey.privateKey, { mode: 0o600 });
  writeFileSync(join(dir, 'authorized_keys'), `${clientKey.publicKey}\n`, { mode: 0o600 });
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    // Many parallel test connections from one address must not be throttled.
    'MaxStartups 100',
    'MaxSessions 100',
    // bash reads ~/.bashrc for every command sshd runs when SHLVL says it is a top-level shell.
    // The tests are about kiln, not about this machine's dotfiles: a slow ~/.bashrc (pyenv init,
    // nvm…) made each command take 0.2 s idle and seconds on a busy machine.
    'SetEnv SHLVL=1',
    `LogLevel ${options.logLevel ?? 'INFO'}`,
  ];
  writeFileSync(join(dir, 'sshd_config'), config.join('\n') + '\n');
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory sshd insists on

  let child: ChildProcess | undefined;
  let log = '';
  let starting: Promise<void> | undefined;
  const start = () =>
    (starting ??= new Promise<void>((resolve, reject) => {
      child = spawn(sshdPath, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        log += chunk;
        if (log.includes('Server listening on')) resolve();
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => reject(new Error(`sshd exited (${code ?? signal}) before listening:\n${log}`)));
    }));
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const dropConnections = async () => {
    if (child?.pid === undefined) return;
    const victims = descendantsOf(child.pid);
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  const handle: SshdHandle = { host: '127.0.0.1', port, username: userInfo().username, privateKey: clientKey.privateKey, start, stop, dropConnections, log: () => log };
  if (!options.deferStart) {
    try {
      await start();
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return handle;
}

/** Pids of every process below `root` (from /proc), so only processes of this sshd are touched. */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(root);
  return found;
}
