// Runs every compiled test file (dist/test/**/*.test.js) with Node's own test runner.
// Node 20's `--test` takes no globs, so the files are listed here; extra arguments narrow the
// set by substring, e.g. `node scripts/run-tests.mjs sim/` .
//   --times   runs each file in a process of its own instead (still N at a time) and prints each
//             file's wall time and CPU time (user + system of its whole process tree): the figures
//             behind HEAVY_FIRST below and the table in docs/development.md.
//   KILN_TEST_CONCURRENCY=N   files run at once (default 3: see CONCURRENCY below).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

// Files start in this order, then every other file alphabetically. Node's runner starts the files
// in the order given, N at a time, so a long file started last sets the run's tail (a 3-minute
// crash matrix started in the last minute adds about its length to the run). These are the files
// that took longest by `--times` (docs/development.md, "How long the tests take"), longest first,
// as substrings of dist/test paths; a file missing here only starts later, nothing is skipped.
const HEAVY_FIRST = [
  'cli-build/crash-matrix.test.js',
  'sim/world.test.js',
  'cli-build/crash-matrix-pg-2.test.js',
  'cli-build/crash-matrix-pg-1.test.js',
  'cli-build/crash-matrix-build-1.test.js',
  'cli-build/crash-matrix-cleanup.test.js',
  'cli-build/crash-matrix-build-2.test.js',
  'cli-build/resume.test.js',
  'cli-build/crash-matrix-checkpoint.test.js',
  'engine/cache.sim.test.js',
  'cli-build/packer-flags.test.js',
  'cli-build/postgres.test.js',
  'cli-build/report.browser.test.js',
  'ssh/communicator.test.js',
  'cli-build/hcl2.test.js',
  'provision/ansible.test.js',
  'engine/transient.sim.test.js',
  'cli-build/ui.browser.test.js',
  'cli-build/build.test.js',
  'engine/build.sim.test.js',
  'cli-build/resume.plugin.test.js',
  'engine/waits.sim.test.js',
  'gc/gc.sim.test.js',
  'cli-build/ansible.test.js',
  'cli-build/cache.test.js',
  'cli-build/cache-cleanup.test.js',
];

const [major, minor] = process.versions.node.split('.').map(Number);
if (major === 20 && minor < 14) {
  console.error(`the test runner needs Node 20.14 or later (for --test-force-exit); this is ${process.version}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const timesMode = args.includes('--times');
const filters = args.filter((a) => a !== '--times');
// Three files at once on 2 cores: most of a file's time is spent waiting (on simulated servers, on
// the processes it starts): by `--times` the files use 16 CPU-minutes in 68 minutes of their wall
// times added up, so 2 at a time leave the CPUs idle much of the run. On a subset of the heaviest
// files on a shared machine, 3 and 4 at a time were as fast as 2 under a heavier load and none
// failed (docs/development.md); 3 leaves a margin for the per-test time limits on a busy machine.
const CONCURRENCY = 3;
const concurrency = Number(process.env.KILN_TEST_CONCURRENCY ?? CONCURRENCY);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`KILN_TEST_CONCURRENCY must be a whole number of at least 1, not "${process.env.KILN_TEST_CONCURRENCY}"`);
  process.exit(2);
}
const rank = (f) => {
  const i = HEAVY_FIRST.findIndex((h) => f.endsWith(h));
  return i === -1 ? HEAVY_FIRST.length : i;
};
const files = find('dist/test')
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort((a, b) => rank(a) - rank(b));
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
let status;
try {
  if (timesMode) status = await timeEach();
  else status = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-force-exit', ...files], { stdio: 'inherit', env }).status ?? 1;
} finally {
  cluster?.stop();
}
process.exit(status);

/** `--times`: each file in its own `node --test`, `concurrency` at a time; bash's `times` gives the
 *  CPU its children used (the file's process and every process it waited for). */
async function timeEach() {
  const rows = [];
  let next = 0;
  let failed = 0;
  const runOne = (file) =>
    new Promise((resolve) => {
      const started = performance.now();
      const script = '"$1" --test --test-force-exit --test-reporter=dot "$2" >&2; s=$?; times; exit $s';
      const child = spawn('bash', ['-c', script, 'bash', process.execPath, file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
      child.on('close', (code) => {
        const wall = (performance.now() - started) / 1000;
        // `times` prints the shell's own user/sys, then its children's: "0m1.234s 0m0.567s".
        // (0 if bash itself was killed before printing them.)
        const seconds = (t = '') => Number(t.split('m')[0]) * 60 + Number((t.split('m')[1] ?? '').replace('s', ''));
        const [user, sys] = (out.trim().split('\n').pop() ?? '').split(' ').map(seconds);
        if (code !== 0) {
          failed += 1;
          console.error(`FAILED (${code}): ${file}\n${err}`);
        }
        const row = { file: file.replace(/^dist\/test\//, ''), wall, user, sys, code };
        rows.push(row);
        console.log(`${row.file}\t${wall.toFixed(1)} s wall\t${(user + sys).toFixed(1)} s CPU`);
        resolve();
      });
    });
  const worker = async () => {
    while (next < files.length) await runOne(files[next++]);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  rows.sort((a, b) => b.user + b.sys - (a.user + a.sys));
  const total = (k) => rows.reduce((s, r) => s + r[k], 0);
  console.log(`\n| file | wall (s) | CPU user+sys (s) |\n|---|---:|---:|`);
  for (const r of rows) console.log(`| ${r.file} | ${r.wall.toFixed(0)} | ${(r.user + r.sys).toFixed(1)} (${r.user.toFixed(1)} + ${r.sys.toFixed(1)}) |`);
  console.log(`\n${rows.length} files, ${failed} failed, ${((performance.now() - started) / 1000).toFixed(0)} s wall at ${concurrency} at a time; CPU ${total('user').toFixed(0)} s user + ${total('sys').toFixed(0)} s system`);
  return failed === 0 ? 0 : 1;
}
