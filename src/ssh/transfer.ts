// Recursive file transfer over SFTP. Files are streamed in chunks (ssh2's fastPut/fastGet), so
// large files never sit in memory; permission bits are copied explicitly because the remote
// sftp-server applies its umask when it creates files.
import { mkdir, readdir, stat, chmod } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { posix } from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';

const permissionBits = 0o7777;

function call<T = void>(run: (callback: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T))));
}

function remoteStat(sftp: SFTPWrapper, path: string): Promise<Stats | undefined> {
  return new Promise((resolve) => sftp.stat(path, (err, stats) => resolve(err ? undefined : stats)));
}

/** `mkdir -p` on the remote side. */
export async function remoteMkdirp(sftp: SFTPWrapper, path: string): Promise<void> {
  if (path === '' || path === '/' || path === '.') return;
  const existing = await remoteStat(sftp, path);
  if (existing) {
    if (!existing.isDirectory()) throw new Error(`remote path ${path} exists and is not a directory`);
    return;
  }
  await remoteMkdirp(sftp, posix.dirname(path));
  try {
    await call((cb) => sftp.mkdir(path, cb));
  } catch (err) {
    // Another transfer may have created it meanwhile; only a missing directory is an error.
    if (!(await remoteStat(sftp, path))?.isDirectory()) {
      throw new Error(`cannot create remote directory ${path}: ${(err as Error).message}`);
    }
  }
}

/** Copies a local file or directory tree to exactly `remotePath`, keeping permission bits (a file's: `fileMode` if given). */
export async function putPath(sftp: SFTPWrapper, localPath: string, remotePath: string, fileMode?: number): Promise<void> {
  const stats = await stat(localPath);
  if (stats.isDirectory()) {
    await remoteMkdirp(sftp, remotePath);
    for (const name of await readdir(localPath)) {
      await putPath(sftp, join(localPath, name), posix.join(remotePath, name));
    }
    // Last, so that a read-only directory mode does not stop us writing its contents.
    await call((cb) => sftp.chmod(remotePath, stats.mode & permissionBits, cb));
  } else {
    const mode = (fileMode ?? stats.mode) & permissionBits;
    await call((cb) => sftp.fastPut(localPath, remotePath, { mode }, cb));
    await call((cb) => sftp.chmod(remotePath, mode, cb));
  }
}

/** Copies a remote file or directory tree to exactly `localPath`, keeping permission bits. */
export async function getPath(sftp: SFTPWrapper, remotePath: string, localPath: string): Promise<void> {
  const stats = await remoteStat(sftp, remotePath);
  if (!stats) throw new Error(`remote path ${remotePath} does not exist or cannot be read`);
  if (stats.isDirectory()) {
    await mkdir(localPath, { recursive: true });
    const entries = await call<{ filename: string }[]>((cb) => sftp.readdir(remotePath, cb));
    for (const { filename } of entries) {
      if (filename === '.' || filename === '..') continue;
      await getPath(sftp, posix.join(remotePath, filename), join(localPath, filename));
    }
  } else {
    await mkdir(dirname(localPath), { recursive: true });
    await call((cb) => sftp.fastGet(remotePath, localPath, cb));
  }
  await chmod(localPath, stats.mode & permissionBits);
}
