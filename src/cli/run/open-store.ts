// Opening the event store `--db` / `KILN_DB` names (a SQLite file or a postgres:// URL) for a
// command, with the one message when it cannot be opened.
import { openStore, resolveStoreLocation, type BuildStore } from '../../store/index.js';

/** The store, or undefined after telling the user why it could not be opened. */
export async function openStoreFor(command: string, db: string | undefined, err: NodeJS.WritableStream = process.stderr): Promise<BuildStore | undefined> {
  try {
    return await openStore(resolveStoreLocation(db));
  } catch (error) {
    err.write(`kiln ${command}: cannot open the event store: ${(error as Error).message}\n`);
    return undefined;
  }
}
