// A simulated server's "disk" is a plain directory holding a minimal root filesystem.
// Commands run chrooted into it (see confine.ts) with the host's /usr bind-mounted read-only
// on its empty `usr/`, so a disk holds only what a build wrote plus a few files in /etc.
// The world's disks (Disks) live under `<data dir>/disks`: one per volume, one per snapshot.
import { execFile } from 'node:child_process';
import { existsSync, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { installCloudInit } from './cloud-init.js';
import { installSudo } from './sudo.js';

const run = promisify(execFile);

export interface DiskOs {
  /** os-release ID, e.g. "ubuntu" */
  id: string;
  /** os-release VERSION_ID, e.g. "22.04" */
  versionId: string;
  /** os-release PRETTY_NAME, e.g. "Ubuntu 22.04 Jammy Jellyfish" */
  prettyName: string;
  /** x86_64, arm64, … (recorded in /etc/kiln-sim-arch for inspection; the host runs the binaries) */
  arch: string;
}

/** When the simulator runs as root, its guests' root is this user on the host: nobody (confine.ts). */
export const GUEST_OWNER = { uid: 65534, gid: 65534 } as const;

export const runningAsRoot = (): boolean => process.getuid?.() === 0;

/**
 * Makes a disk's files the guest's root's (GUEST_OWNER, when the simulator runs as root): what
 * the simulator itself writes into a disk (a base image, cloud-init's files, a machine-id) is
 * root's on the host, which the guest's root is not.
 */
export async function giveToGuest(dir: string): Promise<void> {
  if (!runningAsRoot()) return;
  const stat = await fs.lstat(dir).catch(() => undefined);
  if (stat) await giveEntryToGuest(dir, stat);
}

// In-process and only where needed: every boot does it, and most of a disk is the guest's already.
// lstat/lchown never follow a link, so a link the guest planted cannot lead outside its disk.
async function giveEntryToGuest(file: string, stat: Stats): Promise<void> {
  if (stat.uid !== GUEST_OWNER.uid || stat.gid !== GUEST_OWNER.gid) await fs.lchown(file, GUEST_OWNER.uid, GUEST_OWNER.gid);
  if (!stat.isDirectory()) return;
  await Promise.all(
    (await fs.readdir(file)).map(async (name) => {
      const child = path.join(file, name);
      const childStat = await fs.lstat(child).catch(() => undefined);
      if (childStat) await giveEntryToGuest(child, childStat);
    }),
  );
}

/** Mount points filled at run time by the confinement: empty directories on the disk. */
export const DISK_MOUNT_POINTS = ['usr', 'dev', 'proc'] as const;

/** Top-level names that point into usr/, as on a merged-/usr Debian or Ubuntu. */
const USR_SYMLINKS: ReadonlyArray<[name: string, target: string]> = [
  ['bin', 'usr/bin'],
  ['lib', 'usr/lib'],
  ['lib64', 'usr/lib64'],
  ['sbin', 'usr/sbin'],
];

/**
 * Make a minimal root filesystem in `dir` (created if missing, must be empty): enough for the host's
 * shell, coreutils, scp and sftp-server to run as root inside it.
 */
export async function createBaseDisk(dir: string, os: DiskOs): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const existing = await fs.readdir(dir);
  if (existing.length > 0) {
    throw new Error(`createBaseDisk: ${dir} is not empty (${existing.slice(0, 3).join(', ')}…); give it a fresh directory`);
  }
  const at = (...parts: string[]) => path.join(dir, ...parts);

  for (const mountPoint of DISK_MOUNT_POINTS) await fs.mkdir(at(mountPoint), { mode: 0o755 });
  for (const [name, target] of USR_SYMLINKS) await fs.symlink(target, at(name));
  for (const name of ['etc', 'var', 'var/lib', 'var/log', 'home', 'opt', 'mnt', 'srv']) {
    await fs.mkdir(at(name), { mode: 0o755 });
  }
  // mkdir's mode is filtered by the umask: set the exact modes explicitly.
  await makeDir(at('root'), 0o700);
  await makeDir(at('tmp'), 0o1777);
  await makeDir(at('var', 'tmp'), 0o1777);

  const files: Record<string, string> = {
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
    'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    'etc/hostname': `${os.id}\n`,
    'etc/hosts': `127.0.0.1\tlocalhost\n127.0.1.1\t${os.id}\n`,
    'etc/os-release': [
      `PRETTY_NAME=${quote(os.prettyName)}`,
      `NAME=${quote(os.prettyName.split(' ')[0] ?? os.id)}`,
      `ID=${os.id}`,
      `VERSION_ID=${quote(os.versionId)}`,
      '',
    ].join('\n'),
    'etc/kiln-sim-arch': `${os.arch}\n`,
    // Empty, as in Scaleway's (and most) cloud images: each server gets its own id at first boot.
    'etc/machine-id': '',
  };
  for (const [name, content] of Object.entries(files)) await fs.writeFile(at(name), content, { mode: 0o644 });

  // Linux cloud images carry cloud-init, which runs the server's user data at boot (cloud-init.ts).
  if (os.id !== 'windows') await installCloudInit(dir);
  // Templates call sudo everywhere; a simulated server's user is root already.
  if (os.id !== 'windows') await installSudo(dir);

  // Debian puts `awk`, `which`, `editor`, … behind /etc/alternatives symlinks that point into /usr.
  if (await exists('/etc/alternatives')) {
    await run('cp', ['-a', '/etc/alternatives', at('etc', 'alternatives')]);
  }
  await giveToGuest(dir);
}

/** Full copy of a disk (modes, owners and symlinks kept; reflinks where the filesystem can). */
export async function copyDisk(from: string, to: string): Promise<void> {
  if (!(await exists(from))) throw new Error(`copyDisk: source disk ${from} does not exist`);
  await fs.mkdir(to, { recursive: true });
  // "from/." copies the directory's contents into `to` rather than a `to/<basename>` subdirectory.
  await run('cp', ['-a', '--reflink=auto', `${from}/.`, to]);
}

/** Remove a disk directory. Idempotent. */
export async function removeDisk(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * The disks of the world's volumes and snapshots. A volume's disk is a copy of the snapshot it was
 * made from (or empty), a snapshot's a copy of its volume's as it was when asked for; a public
 * (marketplace) snapshot gets its base disk on first use, as most runs never touch most of them.
 */
export class Disks {
  private readonly baseDisks = new Map<string, Promise<void>>();
  private readonly removals = new Set<Promise<void>>();

  constructor(
    private readonly dataDir: string,
    private readonly options: {
      /** The OS of a public snapshot's base disk; undefined for a snapshot a user took. */
      baseOf(snapshotId: string): DiskOs | undefined;
      log(message: string): void;
    },
  ) {}

  volumeDir(volumeId: string): string {
    return path.join(this.dataDir, 'disks', 'volumes', volumeId);
  }

  snapshotDir(snapshotId: string): string {
    return path.join(this.dataDir, 'disks', 'snapshots', snapshotId);
  }

  /** What a server without a root volume has for a disk: a directory that is never made. */
  get noDisk(): string {
    return path.join(this.dataDir, 'disks', 'none');
  }

  /** A new volume's disk: a copy of its snapshot's, or empty. */
  async fillVolume(volumeId: string, fromSnapshotId: string | undefined): Promise<void> {
    if (fromSnapshotId) {
      await this.ensureSnapshotDisk(fromSnapshotId);
      await copyDisk(this.snapshotDir(fromSnapshotId), this.volumeDir(volumeId));
    } else {
      await fs.mkdir(this.volumeDir(volumeId), { recursive: true });
    }
  }

  /** A snapshot's disk, copied now: the snapshot holds the volume's disk as it was when asked for. */
  takeSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    return copyDisk(this.volumeDir(volumeId), this.snapshotDir(snapshotId));
  }

  /** Removes a deleted volume's disk in the background (see discard). */
  discardVolume(volumeId: string): void {
    this.discard(this.volumeDir(volumeId));
  }

  /** Removes a deleted snapshot's disk in the background (see discard). */
  discardSnapshot(snapshotId: string): void {
    this.discard(this.snapshotDir(snapshotId));
  }

  /** Waits for the removals still running. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.removals]);
  }

  private ensureSnapshotDisk(snapshotId: string): Promise<void> {
    const base = this.options.baseOf(snapshotId);
    if (!base) return Promise.resolve();
    let made = this.baseDisks.get(snapshotId);
    if (!made) {
      const dir = this.snapshotDir(snapshotId);
      made = existsSync(dir)
        ? Promise.resolve()
        : (async () => {
            // Built aside and renamed, so a crash never leaves a half-made base disk in place.
            const partial = `${dir}.partial-${process.pid}`;
            await fs.rm(partial, { recursive: true, force: true });
            await fs.mkdir(partial, { recursive: true });
            await createBaseDisk(partial, base);
            await fs.rename(partial, dir);
          })();
      made.catch(() => this.baseDisks.delete(snapshotId));
      this.baseDisks.set(snapshotId, made);
    }
    return made;
  }

  /**
   * Removes a deleted resource's disk in the background, as Scaleway answers a DELETE before the
   * storage is reclaimed: the answer does not wait on `rm -rf`. close() waits for it.
   */
  private discard(dir: string): void {
    const removal = removeDisk(dir).catch((error: Error) => this.options.log(`removing disk ${dir}: ${error.message}`));
    this.removals.add(removal);
    void removal.finally(() => this.removals.delete(removal));
  }
}

async function makeDir(dir: string, mode: number): Promise<void> {
  await fs.mkdir(dir);
  await fs.chmod(dir, mode);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

function quote(value: string): string {
  return `"${value.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
}
