// Runs a command "on" a simulated server: as root, inside that server's disk directory, with the
// host's /usr read-only, so nothing it does can write outside the disk.
//
// Preferred: util-linux `unshare` (new mount + pid namespaces; `--map-root-user` when we are not
// root). Inside, the disk becomes the root by pivot_root (not just chroot: the old root is
// unmounted, so a root process cannot chroot its way back out), /usr is bind-mounted read-only,
// /dev is a tiny tmpfs with the harmless device nodes only, /proc is the new pid namespace's.
// Fallback when unshare cannot: bubblewrap, which does the same. `unconfined` is an explicit
// opt-in that runs the command on the host, in the disk's root/ directory.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DISK_MOUNT_POINTS } from './disk.js';

/**
 * `unshare`: mount + pid namespaces (plus a user namespace mapping us to root when we are not root);
 * `unshare-userns`: the same with a user namespace even as root (root without CAP_SYS_ADMIN, e.g.
 * in some containers); `bwrap`: bubblewrap; `unconfined`: directly on the host.
 */
export type ConfinementMode = 'unshare' | 'unshare-userns' | 'bwrap' | 'unconfined';

export interface ConfinedRun {
  diskDir: string;
  /** Further directories bound read-write inside the disk (a server's extra volumes), `target` absolute in the guest. */
  mounts?: { source: string; target: string }[];
  /** A shell command line (run by /bin/sh -c), or undefined for a login shell. */
  command?: string;
  /** Extra environment the SSH client asked for (names must be valid shell identifiers). */
  env?: Record<string, string>;
  /** Run under a pseudo-terminal (the SSH client requested a pty). */
  pty?: { term: string; cols?: number; rows?: number };
  /** Defaults to the mode detectConfinement() found. */
  mode?: ConfinementMode;
}

const PERL = '/usr/bin/perl';
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// Last: programs the simulator's images carry outside /usr (which is the host's), such as cloud-init.
const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/kiln-sim/bin';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Sets up the confinement, then execs, chrooted into the disk, the argv that follows the disk
 * directory ($1): the init below, then `env -i -C /root NAME=VALUE… command…`.
 * This runs for every SSH command, so it starts few processes: the mounts that go inside the
 * fresh /dev tmpfs are listed in a table there (private to this mount namespace, removed before the
 * command starts) and made by one `mount -a`. Targets are relative to the disk, so a disk path
 * with spaces needs no escaping.
 */
const UNSHARE_SETUP = `
set -e
disk=$1; count=$2; shift 2
mkdir -p "$disk/usr" "$disk/dev" "$disk/proc"
mount --bind "$disk" "$disk"
# Extra volumes: "$count" pairs of (directory on the host, absolute path in the guest).
while [ "$count" -gt 0 ]; do
  mkdir -p "$disk$2"
  mount --bind "$1" "$disk$2"
  shift 2; count=$((count - 1))
done
cd "$disk"
mount -t tmpfs -o mode=0755,size=1m sim-dev dev
for node in null zero full random urandom tty; do
  : > "dev/$node"
done
mkdir dev/pts dev/shm
printf '%s\\n' \\
  '/usr usr none rbind,ro 0 0' \\
  '/dev/null dev/null none bind 0 0' \\
  '/dev/zero dev/zero none bind 0 0' \\
  '/dev/full dev/full none bind 0 0' \\
  '/dev/random dev/random none bind 0 0' \\
  '/dev/urandom dev/urandom none bind 0 0' \\
  '/dev/tty dev/tty none bind 0 0' \\
  'devpts dev/pts devpts newinstance,ptmxmode=0666,mode=0600 0 0' \\
  'proc proc proc defaults 0 0' > dev/.mounts
mount -a -T dev/.mounts
rm dev/.mounts
ln -s -t dev pts/ptmx /proc/self/fd
ln -s /proc/self/fd/0 dev/stdin
ln -s /proc/self/fd/1 dev/stdout
ln -s /proc/self/fd/2 dev/stderr
pivot_root . .
umount -l .
exec chroot . "$@"
`;

/**
 * The first process of the new pid namespace. The kernel ignores signals a pid-1 process did not
 * ask for, so the command must not be pid 1 (`kill $$` would do nothing): this init runs it as a
 * child and, when it dies by a signal, says which on fd 3 (an exit status cannot tell 143 from
 * SIGTERM). When it exits, the namespace and everything the command left running go with it.
 */
const GUEST_INIT = `
my $pid = fork() // die "kiln sim: fork: $!\n";
if ($pid == 0) {
  if (open(my $status, '>&=', 3)) { close($status); }
  exec { $ARGV[0] } @ARGV or die "kiln sim: cannot run $ARGV[0]: $!\n";
}
for my $name (qw(TERM INT HUP QUIT USR1 USR2)) { $SIG{$name} = sub { kill $name, $pid; }; }
while (1) { my $done = waitpid(-1, 0); last if $done == $pid || $done == -1; }
my $signal = $? & 127;
if ($signal) {
  if (open(my $status, '>&=', 3)) { print $status "$signal\n"; close($status); }
  exit(128 + $signal);
}
exit($? >> 8);
`;

export interface ConfinedProcess {
  /** The host-side process (unshare, bwrap or the command itself): pipe its stdin/stdout/stderr. */
  process: ChildProcess;
  /** Settles once the command has ended and all its output has been read. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start a command confined to a disk. */
export function spawnConfined(options: ConfinedRun): ConfinedProcess {
  const mode = options.mode ?? detectedMode;
  if (!mode) {
    throw new Error('spawnConfined: call detectConfinement() first (or pass mode explicitly)');
  }
  const env = guestEnv(options);
  const argv = guestArgv(options);
  // fd 3 carries the init's "killed by signal N" report; detached = own process group, to kill it all.
  const common: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true };
  const init = existsSync(PERL) ? [PERL, '-e', GUEST_INIT] : [];

  let child: ChildProcess;
  if (mode === 'unconfined') {
    const home = path.join(options.diskDir, 'root');
    child = spawn(argv[0]!, argv.slice(1), {
      ...common,
      cwd: home,
      env: { ...Object.fromEntries(env.map(splitAssignment)), HOME: home },
    });
  } else if (mode === 'bwrap') {
    const args = [
      '--unshare-pid', '--die-with-parent', '--new-session',
      '--bind', options.diskDir, '/',
      ...(options.mounts ?? []).flatMap((m) => ['--bind', m.source, m.target]),
      '--ro-bind', '/usr', '/usr',
      '--dev', '/dev',
      '--proc', '/proc',
      '--chdir', '/root',
      '--clearenv',
    ];
    if (process.getuid?.() !== 0) args.push('--unshare-user', '--uid', '0', '--gid', '0');
    for (const [name, value] of env.map(splitAssignment)) args.push('--setenv', name, value);
    child = spawn('bwrap', [...args, '--', ...init, ...argv], { ...common, env: { PATH: HOST_PATH } });
  } else {
    const unshareArgs = ['--mount', '--pid', '--fork', '--kill-child'];
    if (mode === 'unshare-userns' || process.getuid?.() !== 0) unshareArgs.unshift('--map-root-user');
    const guest = [...init, '/usr/bin/env', '-i', '-C', '/root', ...env, ...argv];
    child = spawn(
      'unshare',
      [
        ...unshareArgs, '--', '/bin/sh', '-c', UNSHARE_SETUP, 'sim-confine', options.diskDir,
        String(options.mounts?.length ?? 0), ...(options.mounts ?? []).flatMap((m) => [m.source, m.target]),
        ...guest,
      ],
      // Only PATH crosses into the setup script: the client's env is applied inside, after the
      // chroot, so e.g. LD_PRELOAD can never touch the host-side tools.
      { ...common, env: { PATH: HOST_PATH } },
    );
  }
  return { process: child, done: settle(child) };
}

function settle(child: ChildProcess): ConfinedProcess['done'] {
  let reportedSignal = '';
  const statusPipe = child.stdio[3] as NodeJS.ReadableStream | null | undefined;
  statusPipe?.setEncoding('utf8');
  statusPipe?.on('data', (d: string) => (reportedSignal += d));
  statusPipe?.on('error', () => {});
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close': every stdio stream (the status pipe included) has ended.
    child.on('close', (code, signal) => {
      const number = Number.parseInt(reportedSignal, 10);
      const named = Object.entries(os.constants.signals).find(([, n]) => n === number)?.[0] as NodeJS.Signals | undefined;
      resolve(named ? { code: null, signal: named } : { code, signal });
    });
  });
}

/** Kill a process started by spawnConfined and everything it started. */
export function killConfined(confined: ConfinedProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  const child = confined.process;
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // detached: the child leads its own process group
  } catch {
    child.kill(signal);
  }
}

let detectedMode: ConfinementMode | undefined;
let detecting: Promise<ConfinementMode> | undefined;

/**
 * Find a confinement that works on this machine (once per process): unshare, else bwrap.
 * Throws a clear error when neither works; `unconfined` is never chosen here.
 */
export function detectConfinement(): Promise<ConfinementMode> {
  detecting ??= (async () => {
    const probeDisk = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-sim-probe-'));
    try {
      for (const name of DISK_MOUNT_POINTS) await fs.mkdir(path.join(probeDisk, name));
      for (const [name, target] of [['bin', 'usr/bin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']]) {
        await fs.symlink(target!, path.join(probeDisk, name!));
      }
      await fs.mkdir(path.join(probeDisk, 'root'));
      const failures: string[] = [];
      const candidates: ConfinementMode[] = process.getuid?.() === 0 ? ['unshare', 'unshare-userns', 'bwrap'] : ['unshare', 'bwrap'];
      for (const mode of candidates) {
        const result = await runToEnd(spawnConfined({ diskDir: probeDisk, command: 'echo ok', mode }));
        if (result.code === 0 && result.stdout.trim() === 'ok') {
          detectedMode = mode;
          return mode;
        }
        failures.push(`${mode}: exit ${result.code ?? result.signal}${result.stderr ? `: ${result.stderr.trim()}` : ''}`);
      }
      throw new Error(
        `the simulator cannot confine SSH commands to a server's disk on this machine (${failures.join('; ')}). ` +
          'Install util-linux (unshare) with user namespaces enabled, or bubblewrap; or pass --unconfined to ' +
          'run template commands directly on this host (unsafe).',
      );
    } finally {
      await fs.rm(probeDisk, { recursive: true, force: true });
    }
  })();
  // A failed detection may be retried later (e.g. after installing bwrap).
  detecting.catch(() => {
    detecting = undefined;
  });
  return detecting;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Collect a confined command's output until it ends (for probes and tests). */
export async function runToEnd(confined: ConfinedProcess, input?: string): Promise<RunResult> {
  const child = confined.process;
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin?.on('error', () => {}); // the process may exit before reading its input
  child.stdin?.end(input);
  const { code, signal } = await confined.done;
  return { code, signal, stdout, stderr };
}

function guestEnv(options: ConfinedRun): string[] {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (ENV_NAME.test(name)) env[name] = value;
  }
  // The fixed part wins over what the client sent, as sshd's does for these.
  Object.assign(env, {
    HOME: '/root',
    USER: 'root',
    LOGNAME: 'root',
    SHELL: '/bin/sh',
    PATH: GUEST_PATH,
  });
  if (options.pty) {
    env.TERM = options.pty.term || 'xterm';
    // `script` gives its pty no size of its own; full-screen programs read these instead.
    if (options.pty.cols) env.COLUMNS = String(options.pty.cols);
    if (options.pty.rows) env.LINES = String(options.pty.rows);
  }
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

function guestArgv(options: ConfinedRun): string[] {
  const command = options.command ?? '/bin/sh -l';
  if (options.pty) {
    // Node has no pty of its own: util-linux `script` allocates one inside the confinement.
    return ['/usr/bin/script', '--quiet', '--return', '--command', command, '/dev/null'];
  }
  return options.command === undefined ? ['/bin/sh', '-l'] : ['/bin/sh', '-c', command];
}

function splitAssignment(assignment: string): [string, string] {
  const at = assignment.indexOf('=');
  return [assignment.slice(0, at), assignment.slice(at + 1)];
}
