// What an error of the SQLite store means for the person running kiln: which file, what is wrong
// with it, and what to do. SQLite's own words ("database disk image is malformed", "unable to open
// database file", "disk I/O error") name neither the file nor the cause.
import { accessSync, constants, existsSync, statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** The store stayed locked by another process for longer than kiln waits. */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  readonly code = 'SQLITE_BUSY';
  constructor(
    readonly path: string,
    waitedMs: number,
  ) {
    super(
      `the event store ${path} is locked by another process, still after ${Math.round(waitedMs / 1000)} s: ` +
        `something holds a write transaction open on it (\`fuser ${path}\` names the process). Let it finish or stop it, then run the command again`,
    );
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Why SQLite cannot write `path` here, from the file system: the first reason that holds. */
function whyNotWritable(path: string): string {
  const folder = dirname(path);
  const writable = (p: string) => {
    try {
      accessSync(p, constants.W_OK);
      return '';
    } catch (error) {
      return codeOf(error) === 'EROFS' ? 'the file system is mounted read-only' : 'permission denied for this user';
    }
  };
  if (!existsSync(folder)) return `its folder ${folder} does not exist`;
  if (existsSync(path) && statSync(path).isDirectory()) return 'it is a directory, not a file';
  const file = existsSync(path) ? writable(path) : '';
  if (file) return `the file is read-only: ${file}`;
  const dir = writable(folder);
  if (dir) return `its folder ${folder} is read-only (${dir}); SQLite writes ${path}-wal and -shm beside the file`;
  return 'SQLite refused to open it for writing';
}

/** Free bytes for this user on the file system holding `path`'s folder, if it can be known. */
function freeBytes(path: string): number | undefined {
  try {
    const fs = statfsSync(dirname(path));
    return fs.bavail * fs.bsize;
  } catch {
    return undefined;
  }
}

const AFTERWARDS = 'Give kiln a store it can write with --db <file> or KILN_DB (a SQLite file, or a postgres:// URL), or fix the file and run the command again';

/**
 * A sentence for a SQLite store error at `path`: what is wrong with which file and what to do; or
 * undefined when the error is not about the store file (a bug, a missing build, …).
 */
export function storeProblemMessage(error: unknown, path: string): string | undefined {
  const code = codeOf(error);
  if (error instanceof StoreLockedError) return error.message;
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_') || code === 'SQLITE_NOTADB') {
    const what = code === 'SQLITE_NOTADB' ? 'is not a SQLite database (file is not a database)' : 'is damaged (database disk image is malformed)';
    return (
      `the event store ${path} ${what}. Keep a copy of it, then either recover what it holds ` +
      `(\`sqlite3 ${path} .recover | sqlite3 ${path}.recovered\`, then --db ${path}.recovered) or move it aside to start a new history`
    );
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || (code.startsWith('SQLITE_IOERR') && freeBytes(path) === 0)) {
    return `cannot write the event store ${path}: the disk holding it is full. Free some space there (or move the store with --db / KILN_DB) and run the command again`;
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return `cannot write the event store ${path}: ${whyNotWritable(path)}. ${AFTERWARDS}`;
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return (
      `the event store ${path} could not be read or written: a disk I/O error (${code}): the disk failed, ` +
      'or the file (or its -wal file) was removed or replaced while kiln used it. Check the disk, then run the command again'
    );
  }
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) {
    return `the event store ${path} is locked by another process. Let it finish (\`fuser ${path}\` names it) and run the command again`;
  }
  return undefined;
}
