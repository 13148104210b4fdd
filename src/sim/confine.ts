// Runs a command "on" a simulated server: as root, inside that server's disk directory, with the
// host's /usr read-only, so nothing it does can write outside the disk, and in namespaces of its
// own, so nothing it does can change the host either.
//
// Each command gets a user namespace (root inside; outside, the user running the simulator — or
// `nobody` when that is root, so the guest's root holds no privilege over the host, its files or
// its kernel settings), and its own mount, pid, network (only `lo`, up), UTS (the hostname in the
// disk's /etc/hostname) and IPC namespaces. Inside, the disk becomes the root by pivot_root (not
// just chroot: the old root is unmounted, so a root process cannot chroot its way back out), /usr
// is bind-mounted read-only, /dev is a tiny tmpfs with the harmless device nodes only, /proc is the
// new pid namespace's. Then the capabilities a guest's root keeps are cut to a container's usual
// set (GUEST_CAPABILITIES): `mount`, `ip link add`, `hostname`, `sysctl -w` fail inside, and
// would only touch the guest's own namespaces if they did not.
//
// util-linux `unshare` (and `setpriv`) does it; bubblewrap is the fallback when the simulator does
// not run as root (as root, bubblewrap's user namespace would map the guest's root to the host's).
// `unconfined` is an explicit opt-in that runs the command on the host, in the disk's root/ directory.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DISK_MOUNT_POINTS, GUEST_OWNER, giveToGuest, runningAsRoot } from './disk.js';

/** `unshare` (util-linux); `bwrap`: bubblewrap; `unconfined`: directly on the host. */
export type ConfinementMode = 'unshare' | 'bwrap' | 'unconfined';

/**
 * What a guest's root may still do inside its namespaces (Docker's default set): own, read and
 * write its files, change users, kill its processes, bind low ports. Not: mount, network or
 * hostname changes, kernel settings, modules, raw I/O, ptrace.
 */
export const GUEST_CAPABILITIES = [
  'chown', 'dac_override', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'net_bind_service', 'net_raw', 'sys_chroot', 'mknod', 'audit_write', 'setfcap',
] as const;

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
// First: programs the simulator's images carry outside /usr (which is the host's), such as
// cloud-init and sudo, which must win over a host's own sudo (setuid root, useless in a guest).
const GUEST_PATH = '/opt/kiln-sim/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Sets up the confinement, then execs, chrooted into the disk and with the guest's capabilities,
 * the argv that follows: the init below, then `env -i -C /root NAME=VALUE… command…`.
 * It starts in the disk (the spawn's cwd) as the namespace's root, which may be `nobody` on the
 * host and unable to look the disk up by its path: the disk is reached through the cwd (which the
 * kernel carries into the new mount namespace; `--no-canonicalize` keeps mount(8) from turning it
 * into a path). Extra volumes come as (host path, guest path) pairs when the simulator does not
 * run as root; as root, VOLUME_SETUP has bound them already (its mounts come along with the
 * disk's `--rbind`). This runs for every SSH command, so it starts few processes: the mounts that
 * go inside the fresh /dev tmpfs are listed in a table there and made by one `mount -a`.
 */
const UNSHARE_SETUP = `
set -e
count=$1; caps=$2; shift 2
# The disk, bound over /tmp of this mount namespace: a path we can enter, and a mount point.
mount --no-canonicalize --rbind . /tmp
cd /tmp
mkdir -p usr dev proc
# Extra volumes: "$count" pairs of (directory on the host, absolute path in the guest).
while [ "$count" -gt 0 ]; do
  mkdir -p ".$2"
  mount --bind "$1" ".$2"
  shift 2; count=$((count - 1))
done
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
# This server's own hostname and loopback, set while the setup still may.
if read -r name < etc/hostname 2>/dev/null && [ -n "$name" ]; then hostname "$name" 2>/dev/null || true; fi
ip link set lo up 2>/dev/null || true
exec chroot . setpriv "--bounding-set=-all,$caps" --inh-caps=-all -- "$@"
`;

/**
 * As root, before the guest's namespaces: a mount namespace of root's own (private: nothing
 * propagates to the host) in which the extra volumes are bound onto their guest paths, since the
 * guest's root (nobody on the host) may not reach them by path. The mount points are made as
 * nobody, so a link the guest planted in its disk cannot have root create anything elsewhere.
 * Then it execs the rest (the guest's namespaces), still in the disk.
 */
const VOLUME_SETUP = `
set -e
count=$1; shift
while [ "$count" -gt 0 ]; do
  setpriv --reuid=${GUEST_OWNER.uid} --regid=${GUEST_OWNER.gid} --clear-groups mkdir -p ".$2"
  mount --bind "$1" ".$2"
  shift 2; count=$((count - 1))
done
exec "$@"
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

  if (mode === 'unconfined') {
    const home = path.join(options.diskDir, 'root');
    const child = spawn(argv[0]!, argv.slice(1), {
      ...common,
      cwd: home,
      env: { ...Object.fromEntries(env.map(splitAssignment)), HOME: home },
    });
    return { process: child, done: settle(child) };
  }
  if (!existsSync(options.diskDir)) throw new Error(`the server's disk ${options.diskDir} does not exist`);
  // As root, the namespaces are made by `nobody`: the guest's root is then nobody on the host.
  const dropRoot = runningAsRoot() ? ['setpriv', `--reuid=${GUEST_OWNER.uid}`, `--regid=${GUEST_OWNER.gid}`, '--clear-groups', '--'] : [];
  const mounts = options.mounts ?? [];
  let child: ChildProcess;
  {
    if (mode === 'bwrap') {
      // Not as root: bubblewrap would map the guest's root to the host's (see detectConfinement).
      if (runningAsRoot()) throw new Error('bubblewrap confinement is not used as root: run the simulator with unshare (util-linux)');
      const args = [
        '--unshare-user', '--uid', '0', '--gid', '0',
        '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-ipc', '--hostname', hostnameOf(options.diskDir),
        '--die-with-parent', '--new-session',
        '--bind', options.diskDir, '/',
        ...mounts.flatMap((m) => ['--bind', m.source, m.target]),
        '--ro-bind', '/usr', '/usr',
        '--dev', '/dev',
        '--proc', '/proc',
        '--chdir', '/root',
        '--clearenv',
        '--cap-drop', 'ALL', ...GUEST_CAPABILITIES.flatMap((cap) => ['--cap-add', `CAP_${cap.toUpperCase()}`]),
      ];
      for (const [name, value] of env.map(splitAssignment)) args.push('--setenv', name, value);
      child = spawn('bwrap', [...args, '--', ...init, ...argv], { ...common, env: { PATH: HOST_PATH } });
    } else {
      const guest = [...init, '/usr/bin/env', '-i', '-C', '/root', ...env, ...argv];
      const caps = GUEST_CAPABILITIES.map((cap) => `+${cap}`).join(',');
      // As root the volumes are bound first, by root (VOLUME_SETUP); otherwise inside, by path.
      const flat = (list: readonly { source: string; target: string }[]) => list.flatMap((m) => [m.source, m.target]);
      const insideMounts = runningAsRoot() ? [] : mounts;
      const volumesFirst = runningAsRoot() && mounts.length > 0 ? ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', VOLUME_SETUP, 'sim-volumes', String(mounts.length), ...flat(mounts)] : [];
      const command = [
        ...volumesFirst,
        ...dropRoot,
        'unshare', '--user', '--map-root-user', '--mount', '--pid', '--net', '--uts', '--ipc', '--fork', '--kill-child',
        '--', '/bin/sh', '-c', UNSHARE_SETUP, 'sim-confine', String(insideMounts.length), caps, ...flat(insideMounts),
        ...guest,
      ];
      // Only PATH crosses into the setup script: the client's env is applied inside, after the
      // chroot, so e.g. LD_PRELOAD can never touch the host-side tools.
      child = spawn(command[0]!, command.slice(1), { ...common, cwd: options.diskDir, env: { PATH: HOST_PATH } });
    }
  }
  return { process: child, done: settle(child) };
}

/** The server's hostname: its disk's /etc/hostname (as systemd sets it at boot), else "localhost". */
function hostnameOf(diskDir: string): string {
  try {
    return readFileSync(path.join(diskDir, 'etc', 'hostname'), 'utf8').trim() || 'localhost';
  } catch {
    return 'localhost';
  }
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
      await giveToGuest(probeDisk);
      // As root, only unshare: bubblewrap cannot make the guest's root anyone but root on the host.
      const candidates: ConfinementMode[] = runningAsRoot() ? ['unshare'] : ['unshare', 'bwrap'];
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
