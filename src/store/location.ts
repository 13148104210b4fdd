// Telling a PostgreSQL URL from a SQLite path, without loading either database's client (the
// command-line parser asks before any command runs), and refusing what is neither: a URL of
// another scheme (`mysql://…`, a `postgress://` typo) would otherwise become a SQLite file of that
// name in the working directory, and a team would believe its history shared when it is not.
import { fileURLToPath } from 'node:url';

/** Whether `value` (`--db`, `KILN_DB`) names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** `--db` / `KILN_DB` names a store kiln cannot use (exit 2: invalid input). */
export class StoreLocationError extends Error {
  override readonly name = 'StoreLocationError';
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * The SQLite path `value` names: a path as it is, or a `file:` URL's path. Throws
 * StoreLocationError for a URL of any other scheme; `where` names the setting (`--db`, `KILN_DB`).
 */
export function sqlitePathOf(value: string, where: string): string {
  if (/^file:/i.test(value)) {
    try {
      return fileURLToPath(value);
    } catch (error) {
      throw new StoreLocationError(`${where} "${value}" is not a file: URL kiln can read (${(error as Error).message}); give a path such as file:///var/lib/kiln/kiln.db`);
    }
  }
  const scheme = SCHEME.exec(value)?.[1];
  if (scheme !== undefined) {
    const typo = /^postg/i.test(scheme) ? ' (did you mean postgres://?)' : '';
    throw new StoreLocationError(
      `${where} "${value}" is a ${scheme}:// URL${typo}, and kiln keeps its builds only in SQLite or PostgreSQL: ` +
        'give a SQLite file (a path, or a file: URL) or a postgres:// (postgresql://) URL',
    );
  }
  return value;
}
