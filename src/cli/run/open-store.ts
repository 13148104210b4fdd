// Opening the event store `--db` / `KILN_DB` names (a SQLite file or a postgres:// URL) for a
// command, with the one message when it cannot be opened, and what a store error met later means.
import { EXIT } from './exit.js';
import {
  openStore,
  resolveStoreLocation,
  storeProblemMessage,
  StoreLocationError,
  type BuildStore,
  type StoreLocation,
} from '../../store/index.js';

/** The SQLite files this process opened: a store error met later is explained for them (storeFailure). */
const openedFiles = new Set<string>();

/**
 * The store and where it is, or the exit code after telling the user why it could not be opened:
 * 2 for a --db / KILN_DB kiln cannot use, 1 for a store that is there but unusable (damaged,
 * read-only, on a full disk, unreachable). A write that waits for another process's lock says so.
 */
export async function openStoreFor(
  command: string,
  db: string | undefined,
  err: NodeJS.WritableStream = process.stderr,
): Promise<{ store: BuildStore; location: StoreLocation } | { exitCode: number }> {
  let location: StoreLocation;
  try {
    location = resolveStoreLocation(db);
  } catch (error) {
    if (!(error instanceof StoreLocationError)) throw error;
    err.write(`kiln ${command}: ${error.message}\n`);
    return { exitCode: EXIT.invalid };
  }
  let waitNoticed = false;
  const onLockWait = (path: string) => {
    if (waitNoticed) return;
    waitNoticed = true;
    err.write(`kiln ${command}: the event store ${path} is locked by another process; waiting for it (up to 30 s)…\n`);
  };
  try {
    const store = await openStore(location, { onLockWait });
    if (location.kind === 'sqlite') openedFiles.add(location.path);
    return { store, location };
  } catch (error) {
    const problem = location.kind === 'sqlite' ? storeProblemMessage(error, location.path) : undefined;
    err.write(`kiln ${command}: ${problem ?? `cannot open the event store: ${(error as Error).message}`}\n`);
    return { exitCode: EXIT.failed };
  }
}

/** What an error a command met means, when it is about a store this process opened (else undefined). */
export function storeFailure(error: unknown): string | undefined {
  for (const path of openedFiles) {
    const problem = storeProblemMessage(error, path);
    if (problem) return problem;
  }
  return undefined;
}
