// The soak (scripts/soak.ts) on the store it is given: what it refuses before it starts, and a
// short real run (one build, killed once and resumed, under the simulator's faults).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventStore } from '../../src/store/index.js';
import { PgEventStore } from '../../src/store/postgres.js';
import { postgresUnavailableReason, testDatabase } from '../helpers/postgres.js';

const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');
const soakEntry = fileURLToPath(new URL(`../../scripts/soak.${fromSources ? 'ts' : 'js'}`, import.meta.url));

function runSoak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(fromSources ? ['--import', 'tsx'] : []), soakEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-soak-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One build, killed once at a random moment and resumed; the soak's verdict is its exit status. */
const ONE_BUILD = ['--builds', '1', '--kill-probability', '1', '--max-kills', '1', '--seed', '5'];

test('the soak refuses a store that already holds builds (it ends with gc --force over it) and leaves it as it was', { timeout: 120_000 }, async (t) => {
  const db = join(tempDir(t), 'kiln.db');
  const store = EventStore.open(db);
  store.createBuild({ id: 'b-team', templatePath: '/t.json', templateHash: 'h', builderName: 'scaleway', spec: {}, onError: 'cleanup' }, { type: 'build.started' });
  store.close();
  const soak = await runSoak([...ONE_BUILD, '--db', db]);
  assert.equal(soak.code, 2, soak.stderr);
  assert.match(soak.stderr, /already holds builds; .*give it a new SQLite path or an empty PostgreSQL database/);
  const after = EventStore.open(db);
  t.after(() => after.close());
  assert.deepEqual(after.listBuilds().map((b) => [b.id, b.lastSeq]), [['b-team', 1]]);
});

test('the soak runs on the SQLite path it is given: one build killed and resumed ends with an image, nothing leaked', { timeout: 600_000 }, async (t) => {
  const db = join(tempDir(t), 'soak.db');
  const soak = await runSoak([...ONE_BUILD, '--db', db]);
  assert.equal(soak.code, 0, soak.stdout + soak.stderr);
  assert.match(soak.stdout, /\| successes \(build ended with an image\) \| 1 \/ 1; 1 artifacts present after gc \|/);
  assert.match(soak.stdout, /\| crashes \(kill -9\) \| 1 /);
  const store = EventStore.open(db);
  t.after(() => store.close());
  assert.deepEqual(store.listBuilds().map((b) => b.status), ['succeeded'], 'the builds went into the store the soak was given');
});

test('the soak runs every kiln it starts against the PostgreSQL URL it is given', { skip: postgresUnavailableReason(), timeout: 600_000 }, async (t) => {
  const url = await testDatabase(t);
  const soak = await runSoak([...ONE_BUILD, '--db', url]);
  const store = await PgEventStore.open(url);
  t.after(() => store.close());
  assert.equal(soak.code, 0, soak.stdout + soak.stderr);
  assert.match(soak.stdout, /\| successes \(build ended with an image\) \| 1 \/ 1; 1 artifacts present after gc \|/);
  assert.deepEqual((await store.listBuildSummaries()).map((b) => b.status), ['succeeded'], 'the builds went into the PostgreSQL store');
});
