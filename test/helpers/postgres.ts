// A throw-away PostgreSQL cluster for tests: Debian's binaries, a temporary data directory, a
// free port on 127.0.0.1 and its unix socket inside that directory, so it neither needs nor
// disturbs a cluster the machine may already run (Debian's package starts one on 5432).
//
// One cluster serves a whole test run: `scripts/run-tests.mjs` starts it and hands its URL to
// every test file in KILN_TEST_PG_URL, and stops it at the end. A test file run on its own
// (`node --import tsx --test …`) starts its own, stopped when the process exits. Each test gets
// a fresh database in it (`testDatabase`), dropped after the test.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort } from './sshd.js';

export const pgBinDir = process.env.KILN_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const TEST_URL_ENV = 'KILN_TEST_PG_URL';

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailableReason(): string | undefined {
  if (process.env[TEST_URL_ENV]) return undefined;
  for (const tool of ['initdb', 'pg_ctl']) {
    if (!existsSync(join(pgBinDir, tool))) return `${join(pgBinDir, tool)} is not installed (install Debian's postgresql package, or set KILN_TEST_PG_BIN, to run the PostgreSQL store tests)`;
  }
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root, and there is no `postgres` user to run the cluster as (initdb refuses root)';
  return undefined;
}

export interface PgCluster {
  /** Connection URL of the cluster's `postgres` database, as the superuser `kiln`. */
  adminUrl: string;
  port: number;
  dataDir: string;
  /** Stops the cluster (fast shutdown) and removes its directory. Synchronous so that it can run at process exit. */
  stop(): void;
}

/** initdb, pg_ctl… run as the `postgres` user when we are root (they refuse root), else as ourselves. */
function runPgTool(tool: string, args: string[]): void {
  const path = join(pgBinDir, tool);
  const [command, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  const result = spawnSync(command, argv, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout || result.error?.message}`);
}

/** Starts a new cluster. `durable: false` (the default for tests) turns fsync off: an OS crash is not what the tests exercise. */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const dataDir = join(dir, 'data');
  const port = await freePort();
  try {
    // trust on loopback: a throw-away cluster reachable only from this machine.
    runPgTool('initdb', ['-D', dataDir, '-U', 'kiln', '--auth=trust', '--encoding=UTF8', '--no-instructions', '--no-sync']);
    const serverOptions = [`-c listen_addresses=127.0.0.1`, `-p ${port}`, `-k ${dir}`, ...(options.durable ? [] : ['-c fsync=off', '-c full_page_writes=off'])];
    runPgTool('pg_ctl', ['-D', dataDir, '-l', join(dir, 'server.log'), '-o', serverOptions.join(' '), '-w', '-t', '120', 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    adminUrl: `postgres://kiln@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        runPgTool('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The server log of a cluster, for diagnosing a failing test. */
export function serverLog(cluster: PgCluster): string {
  const path = join(cluster.dataDir, '..', 'server.log');
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

let ownCluster: Promise<PgCluster> | undefined;

/** The run's cluster (KILN_TEST_PG_URL), else one started for this process and stopped at its exit. */
async function sharedAdminUrl(): Promise<string> {
  const given = process.env[TEST_URL_ENV];
  if (given) return given;
  ownCluster ??= startPostgres().then((cluster) => {
    process.on('exit', () => cluster.stop());
    return cluster;
  });
  return (await ownCluster).adminUrl;
}

/** A fresh, empty database in the shared cluster for one test, dropped after it. Returns its URL. */
export async function testDatabase(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const adminUrl = await sharedAdminUrl();
  const name = `kiln_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  t.after(async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    try {
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await cleanup.end();
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
