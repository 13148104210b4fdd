// PostgreSQL for tests. One throw-away cluster (scripts/lib/postgres-cluster.ts) serves a whole
// test run: `scripts/run-tests.mjs` starts it and hands its URL to every test file in
// KILN_TEST_PG_URL, and stops it at the end. A test file run on its own
// (`node --import tsx --test …`) starts its own, stopped when the process exits. Each test gets
// a fresh database in it (`testDatabase`), dropped after the test.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPostgres, TEST_URL_ENV, type PgCluster } from '../../scripts/lib/postgres-cluster.js';

export { postgresUnavailableReason } from '../../scripts/lib/postgres-cluster.js';

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
