// A throw-away PostgreSQL cluster for the tests and the bench: Debian's binaries, a temporary
// data directory, a free port on 127.0.0.1 and its unix socket inside that directory, so it
// neither needs nor disturbs a cluster the machine may already run (Debian's package starts one
// on 5432). test/helpers/postgres.ts shares one among a run's tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export const pgBinDir = process.env.KILN_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** Set by scripts/run-tests.mjs to the run's cluster: the tests need no binaries of their own then. */
export const TEST_URL_ENV = 'KILN_TEST_PG_URL';

/** Why PostgreSQL tests cannot run here, or undefined when they can. `ownCluster`: a test that starts (and stops) a cluster of its own. */
export function postgresUnavailableReason(options: { ownCluster?: boolean } = {}): string | undefined {
  if (process.env[TEST_URL_ENV] && !options.ownCluster) return undefined;
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
  /** Shuts the server down (fast: open connections are cut), keeping its data: an outage. */
  down(): void;
  /** Starts the server again after `down`, on the same port. */
  up(): void;
}

/** initdb, pg_ctl… run as the `postgres` user when we are root (they refuse root), else as ourselves. */
function runPgTool(tool: string, args: string[]): void {
  const path = join(pgBinDir, tool);
  const [command, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  const result = spawnSync(command, argv, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout || result.error?.message}`);
}

/** Starts a new cluster. `durable: false` (the default, for tests) turns fsync off: an OS crash is not what the tests exercise; the bench asks for a durable one. */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const serverOptions = [`-c listen_addresses=127.0.0.1`, `-p ${port}`, `-k ${dir}`, ...(options.durable ? [] : ['-c fsync=off', '-c full_page_writes=off'])];
  const startServer = () => runPgTool('pg_ctl', ['-D', dataDir, '-l', join(dir, 'server.log'), '-o', serverOptions.join(' '), '-w', '-t', '120', 'start']);
  const stopServer = () => runPgTool('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  try {
    // trust on loopback: a throw-away cluster reachable only from this machine.
    runPgTool('initdb', ['-D', dataDir, '-U', 'kiln', '--auth=trust', '--encoding=UTF8', '--no-instructions', '--no-sync']);
    startServer();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  let running = true;
  return {
    adminUrl: `postgres://kiln@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (running) stopServer();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    down() {
      stopServer();
      running = false;
    },
    up() {
      startServer();
      running = true;
    },
  };
}

