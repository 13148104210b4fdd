// Which store `--db` / `KILN_DB` names, and opening it behind the one interface (api.ts): a
// `postgres://` URL is the shared PostgreSQL store, anything else a SQLite file as before. The
// PostgreSQL client is imported only when a URL asks for it, so SQLite users do not load it.
import { dirname, resolve } from 'node:path';
import { defaultStateDir, resolveDbPath, type LockWaitListener } from './db.js';
import { isPostgresUrl } from './location.js';
import type { BuildStore } from './api.js';
import { EventStore } from './store.js';

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/**
 * The store: `--db`, else `KILN_DB`, else `<state dir>/kiln.db`. A `postgres://` (or
 * `postgresql://`) URL selects PostgreSQL, a path or a `file:` URL SQLite; libpq's environment variables (PGHOST, PGUSER,
 * PGPASSWORD…) fill in what the URL leaves out.
 */
export function resolveStoreLocation(flag?: string, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  const given = flag || env.KILN_DB;
  if (given && isPostgresUrl(given)) return { kind: 'postgres', url: given };
  // (Any other URL scheme is refused there, with the schemes kiln knows: StoreLocationError.)
  return { kind: 'sqlite', path: resolveDbPath(flag, env) };
}

/**
 * Where this machine keeps its own files (the builds' temporary SSH keys): `KILN_STATE_DIR`, else
 * the SQLite file's folder, else (a shared PostgreSQL store) the machine's state directory. A
 * SQLite file on a shared disk wants KILN_STATE_DIR on a local one.
 */
export function hostStateDir(location: StoreLocation, env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_STATE_DIR) return resolve(env.KILN_STATE_DIR);
  return location.kind === 'sqlite' ? dirname(location.path) : defaultStateDir(env);
}

export async function openStore(location: StoreLocation, options: { onLockWait?: LockWaitListener } = {}): Promise<BuildStore> {
  if (location.kind === 'sqlite') return EventStore.open(location.path, options);
  const { PgEventStore } = await import('./postgres.js');
  return PgEventStore.open(location.url);
}
