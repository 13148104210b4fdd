// The files the simulator itself reads and writes on a guest's disk, host side and as root (at
// boot: the machine-id, cloud-init's instance records). The guest owns its disk and may have
// planted links in it: inside the server a link means the guest's own root, but followed here it
// would lead to the host's files. So no component of such a path may be a link, and the file
// itself is opened with O_NOFOLLOW. (At boot no process of the guest runs, so nothing can swap a
// directory for a link between the check and the open.)
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { lstat, mkdir, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A path on a guest's disk that the simulator will not follow: a link, or a file where a directory should be. */
export class GuestPathError extends Error {
  override name = 'GuestPathError';
}

/** The most the simulator reads of a guest's file: its own small records. */
const READ_LIMIT_BYTES = 64 * 1024;

/** `relDir` under `diskDir`, every component a real directory (made when `create`), or undefined when one is missing. */
async function guestDir(diskDir: string, relDir: string, create: boolean): Promise<string | undefined> {
  let at = diskDir;
  for (const part of relDir.split('/').filter((p) => p !== '' && p !== '.')) {
    if (part === '..') throw new GuestPathError(`${relDir}: '..' is not allowed in a guest path`);
    at = join(at, part);
    const stat = await lstat(at).catch(() => undefined);
    if (!stat) {
      if (!create) return undefined;
      await mkdir(at).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      continue;
    }
    if (stat.isSymbolicLink() || !stat.isDirectory()) {
      throw new GuestPathError(`/${relDir.replace(/^\/+/, '')} on the guest's disk is not a directory (${stat.isSymbolicLink() ? 'a link' : 'a file'} at ${at.slice(diskDir.length)}): the simulator does not follow it`);
    }
  }
  return at;
}

/** Writes `content` to `rel` on the disk (its directories made as needed), never through a link. */
export async function writeGuestFile(diskDir: string, rel: string, content: string, mode = 0o644): Promise<void> {
  const dir = (await guestDir(diskDir, dirname(rel), true))!;
  const file = join(dir, basename(rel));
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ELOOP' ? new GuestPathError(`/${rel.replace(/^\/+/, '')} on the guest's disk is a link: the simulator does not write through it`) : error;
  });
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

/** Makes directory `rel` (and its parents) on the disk, never through a link. */
export async function makeGuestDir(diskDir: string, rel: string): Promise<void> {
  await guestDir(diskDir, rel, true);
}

/** The text of regular file `rel` on the disk; undefined when it is missing, a link or not a regular file. */
export async function readGuestFile(diskDir: string, rel: string): Promise<string | undefined> {
  const dir = await guestDir(diskDir, dirname(rel), false).catch(() => undefined);
  if (!dir) return undefined;
  // O_NONBLOCK: a FIFO the guest left there must not hang the simulator's boot.
  const handle = await open(join(dir, basename(rel)), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return undefined;
    const buffer = Buffer.alloc(Math.min(stat.size, READ_LIMIT_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Removes `rel` (a file, or a directory with what it holds) from the disk; a link is removed, never followed. */
export async function removeGuestPath(diskDir: string, rel: string): Promise<void> {
  const dir = await guestDir(diskDir, dirname(rel), false);
  if (!dir) return;
  // rm deletes a link itself, and walks a directory without following the links inside it.
  await rm(join(dir, basename(rel)), { recursive: true, force: true });
}

/** readGuestFile, synchronously (for the SSH endpoint's authentication callback). */
export function readGuestFileSync(diskDir: string, rel: string): string | undefined {
  let at = diskDir;
  for (const part of dirname(rel).split('/').filter((p) => p !== '' && p !== '.')) {
    if (part === '..') return undefined;
    at = join(at, part);
    const stat = lstatSyncOrUndefined(at);
    if (!stat || stat.isSymbolicLink() || !stat.isDirectory()) return undefined;
  }
  let fd: number;
  try {
    fd = openSync(join(at, basename(rel)), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return undefined;
    const buffer = Buffer.alloc(Math.min(stat.size, READ_LIMIT_BYTES));
    const bytesRead = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function lstatSyncOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
