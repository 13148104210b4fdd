// Runs every compiled test file (dist/test/**/*.test.js) with Node's own test runner.
// Node 20's `--test` takes no globs, so the files are listed here; extra arguments narrow the
// set by substring, e.g. `node scripts/run-tests.mjs sim/` .
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major === 20 && minor < 14) {
  console.error(`the test runner needs Node 20.14 or later (for --test-force-exit); this is ${process.version}`);
  process.exit(1);
}

const filters = process.argv.slice(2);
const files = find('dist/test').sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || 'dist/test/**/*.test.js'}`);
  process.exit(1);
}
// Time limits are per test (each test that waits on a process, a socket or a server sets its own
// `timeout`, sized with a wide margin). No --test-timeout here: on Node 20 it limits each whole
// file, a sum of its tests that a busy machine can exceed with no test hanging.
// --test-force-exit ends a file once its tests are done, so a test that timed out while a child
// process or server it started still runs does not hold the file open forever.
// One throw-away PostgreSQL cluster for the whole run (scripts/lib/postgres-cluster.ts): each test that
// needs it creates its own database there. Where PostgreSQL is absent those tests say why they skip.
const { postgresUnavailableReason, startPostgres } = await import('../dist/scripts/lib/postgres-cluster.js');
const pgUnavailable = postgresUnavailableReason();
const cluster = pgUnavailable || process.env.KILN_TEST_PG_URL ? undefined : await startPostgres();
if (pgUnavailable) console.error(`PostgreSQL store tests will be skipped: ${pgUnavailable}`);
const env = cluster ? { ...process.env, KILN_TEST_PG_URL: cluster.adminUrl } : process.env;
let result;
try {
  result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-force-exit', ...files], { stdio: 'inherit', env });
} finally {
  cluster?.stop();
}
process.exit(result.status ?? 1);
