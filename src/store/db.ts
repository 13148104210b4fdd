// Opens kiln's SQLite database: where it lives, how it is configured for crash safety, and the
// migrations runner that brings its schema up to date.
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPostgresUrl } from './location.js';

export type Db = Database.Database;

/** kiln's state directory: `$XDG_STATE_HOME/kiln`, else `~/.local/state/kiln`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.length > 0 ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'kiln');
}

/**
 * The SQLite database path: `--db`, else `KILN_DB`, else `<state dir>/kiln.db`. A PostgreSQL URL
 * is refused with a clear error (rather than taken for a file named `postgres:`) where a SQLite
 * file is needed (`kiln db copy`'s source); `resolveStoreLocation` (open.ts) serves the commands
 * that read either store.
 */
export function resolveDbPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = flag || env.KILN_DB;
  if (given && isPostgresUrl(given)) {
    throw new Error(`${flag ? '--db' : 'KILN_DB'} names a PostgreSQL database where a SQLite file is needed; give a SQLite path with --db`);
  }
  if (flag) return resolve(flag);
  if (env.KILN_DB) return resolve(env.KILN_DB);
  return join(defaultStateDir(env), 'kiln.db');
}

/** The package root (the folder holding package.json and migrations/), from sources or dist. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('kiln: cannot find the migrations/ folder next to package.json; reinstall kiln');
    dir = parent;
  }
}

export const MIGRATIONS_DIR = join(packageRoot(), 'migrations');

/** The `NNNN_name.sql` migrations of `dir`, in order: the last is the schema version this kiln brings a store to. */
export function migrationFiles(dir: string = MIGRATIONS_DIR): string[] {
  return readdirSync(dir).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
}

/** Applies every `NNNN_name.sql` not yet recorded, in order, each in its own transaction. */
export function migrate(db: Db, dir: string = MIGRATIONS_DIR): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((r) => r.name));
  const files = migrationFiles(dir);
  const ran: string[] = [];
  for (const file of files) {
    if (applied.has(file)) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    db.transaction(() => {
      // Another process may have applied it between our read and this write lock.
      if (db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?').get(file)) return;
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(file, new Date().toISOString());
      ran.push(file);
    }).immediate();
  }
  return ran;
}

/** Opens (creating if needed, dir 0700 / file 0600) and migrates the database at `path`. */
export function openDatabase(path: string): Db {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const isNew = !existsSync(path);
  const db = new Database(path);
  if (isNew) chmodSync(path, 0o600);
  db.pragma('busy_timeout = 10000');
  db.pragma('journal_mode = WAL');
  // FULL: a commit survives power loss, not only a process crash (an append of events that
  // need not, see mustReachDisk, lowers it to NORMAL for its own commit).
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
  }
  return db;
}
