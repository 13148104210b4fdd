// Which store `--db` / `KILN_DB` names, and opening it behind the one interface (api.ts): a
// `postgres://` URL is the shared PostgreSQL store, anything else a SQLite file as before. The
// PostgreSQL client is imported only when a URL asks for it, so SQLite users do not load it.
import { dirname } from 'node:path';
import { defaultStateDir, resolveDbPath } from './db.js';
import { isPostgresUrl } from './location.js';
import type { BuildStore } from './api.js';
import { EventStore } from './store.js';

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/**
 * The store: `--db`, else `KILN_DB`, else `<state dir>/kiln.db`. A `postgres://` (or
 * `postgresql://`) URL selects PostgreSQL; libpq's environment variables (PGHOST, PGUSER,
 * PGPASSWORD…) fill in what the URL leaves out.
 */
export function resolveStoreLocation(flag?: string, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  const given = flag || env.KILN_DB;
  if (given && isPostgresUrl(given)) return { kind: 'postgres', url: given };
  return { kind: 'sqlite', path: resolveDbPath(flag, env) };
}

export async function openStore(location: StoreLocation): Promise<BuildStore> {
  if (location.kind === 'sqlite') return EventStore.open(location.path);
  const { PgEventStore } = await import('./postgres.js');
  return PgEventStore.open(location.url);
}

/**
 * Where this machine keeps what is not in the store (a build's temporary SSH key): beside a SQLite
 * file, as always; with a shared PostgreSQL store, this machine's state directory.
 */
export function localStateDir(location: StoreLocation, env: NodeJS.ProcessEnv = process.env): string {
  return location.kind === 'sqlite' ? dirname(location.path) : defaultStateDir(env);
}
