import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { EventStore, LeaseHeldError, MIGRATIONS_DIR, migrate, resolveDbPath, defaultStateDir, type NewBuild } from '../../src/store/index.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const build = (id: string): NewBuild => ({
  id,
  templatePath: '/tmp/t.json',
  templateHash: 'sha256:abc',
  builderName: 'scaleway',
  spec: { name: 'scaleway', secretKey: '<redacted>' },
  onError: 'cleanup',
});

test('creates the database 0600 in a 0700 directory and applies each migration once', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state', 'kiln.db');
  const store = EventStore.open(path);
  const applied = store.db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[];
  const shipped = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
  assert.ok(shipped.includes('0001_init.sql'));
  assert.deepEqual(applied.map((r) => r.name), shipped);
  store.close();
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'state')).mode & 0o777, 0o700);
  // Reopening does not run 0001 again (it would fail: CREATE TABLE events already exists).
  const again = EventStore.open(path);
  assert.equal((again.db.pragma('journal_mode', { simple: true }) as string).toLowerCase(), 'wal');
  assert.equal(again.db.pragma('synchronous', { simple: true }), 2); // FULL
  again.close();
});

test('numbers events per build and updates the projection in the same transaction', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  const seen: string[] = [];
  store.subscribe((e) => seen.push(`${e.buildId}:${e.seq}:${e.type}`));
  store.createBuild(build('b1'), { type: 'build.started' });
  store.createBuild(build('b2'), { type: 'build.started' });
  store.append('b1', { type: 'phase.started', phase: 'server.create', attempt: 1 });
  store.append('b1', { type: 'server.create.requested', phase: 'server.create', attempt: 1, data: { name: 'kiln-x' } });
  store.append('b1', { type: 'server.created', phase: 'server.create', attempt: 1, data: { serverId: 's-1', volumeIds: ['v-1'] } });
  store.append('b2', { type: 'phase.started', phase: 'prepare', attempt: 1 });

  assert.deepEqual(store.events('b1').map((e) => [e.seq, e.type]), [
    [1, 'build.started'],
    [2, 'phase.started'],
    [3, 'server.create.requested'],
    [4, 'server.created'],
  ]);
  assert.deepEqual(store.events('b2').map((e) => e.seq), [1, 2]);
  assert.equal(seen.length, 6);
  const b1 = store.getBuild('b1')!;
  assert.equal(b1.phase, 'server.create');
  assert.equal(b1.lastSeq, 4);
  assert.equal(b1.resources.server?.id, 's-1');
  assert.deepEqual(b1.resources.volumes, [{ id: 'v-1' }]);

  store.append('b1', { type: 'server.deleted', data: { serverId: 's-1', volumesDeleted: true } });
  store.append('b1', { type: 'build.failed', data: { error: { name: 'X', message: 'boom', retryable: false } } });
  const after = store.getBuild('b1')!;
  assert.equal(after.status, 'failed');
  assert.equal(after.resources.server?.deleted, true);
  assert.equal(after.resources.volumes?.[0]?.deleted, true);
  assert.equal(after.error?.message, 'boom');
});

test('a listener that throws does not stop appends', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  store.subscribe(() => {
    throw new Error('renderer bug');
  });
  store.createBuild(build('b1'), { type: 'build.started' });
  store.append('b1', { type: 'phase.started', phase: 'prepare', attempt: 1 });
  assert.equal(store.getBuild('b1')!.lastSeq, 2);
});

test('two connections appending to one build keep seq gap-free and unique', (t) => {
  const path = join(tempDir(t), 'kiln.db');
  const a = EventStore.open(path);
  const b = EventStore.open(path);
  t.after(() => {
    a.close();
    b.close();
  });
  a.createBuild(build('b1'), { type: 'build.started' });
  for (let i = 0; i < 10; i++) (i % 2 ? a : b).append('b1', { type: 'provision.output', data: { lines: [`line ${i}`] } });
  assert.deepEqual(a.events('b1').map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});

test('reads a log without its provisioner output, and the latest event of a type', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  store.createBuild(build('b1'), { type: 'build.started' });
  store.append('b1', { type: 'phase.started', phase: 'provision', attempt: 1 });
  store.append('b1', { type: 'provision.output', phase: 'provision', attempt: 1, data: { lines: ['a'] } });
  store.append('b1', { type: 'phase.started', phase: 'provision', attempt: 2 });
  store.append('b1', { type: 'provision.output', phase: 'provision', attempt: 2, data: { lines: ['b'] } });
  assert.deepEqual(store.events('b1', { withoutOutput: true }).map((e) => [e.seq, e.type]), [
    [1, 'build.started'],
    [2, 'phase.started'],
    [4, 'phase.started'],
  ]);
  assert.equal(store.events('b1').length, 5);
  assert.equal(store.lastEvent('b1', 'phase.started')?.attempt, 2);
  assert.equal(store.lastEvent('b1', 'provision.output')?.seq, 5);
  assert.equal(store.lastEvent('b1', 'build.failed'), undefined);
});

test('lists builds newest first and filters by status', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  store.createBuild(build('old'), { type: 'build.started' });
  store.createBuild(build('new'), { type: 'build.started' });
  store.append('old', { type: 'build.succeeded', data: { artifact: { imageId: 'i' } } });
  assert.deepEqual(store.listBuilds().map((b) => b.id), ['new', 'old']);
  assert.deepEqual(store.listBuilds({ status: 'succeeded' }).map((b) => b.id), ['old']);
  assert.equal(store.findBuild('ne').id, 'new');
  assert.throws(() => store.findBuild('zzz'), /no build with id zzz/);
});

test('the listing summaries agree with the full records on everything a listing shows', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  store.createBuild(build('old'), { type: 'build.started' });
  store.createBuild(build('new'), { type: 'build.started' });
  store.append('new', { type: 'phase.started', phase: 'server.create', attempt: 1 });
  store.acquireLease('new', { pid: 4242, host: 'elsewhere' }, 60_000);
  store.append('old', { type: 'build.succeeded', data: { artifact: { imageId: 'img-1', imageName: 'n', snapshotId: 's', snapshotName: 'sn', zone: 'fr-par-1' } } });
  const summaries = store.listBuildSummaries();
  assert.deepEqual(summaries.map((b) => b.id), ['new', 'old']);
  for (const summary of summaries) {
    const full = store.getBuild(summary.id)!;
    const { id, templatePath, builderName, status, phase, lease, createdAt, updatedAt } = full;
    assert.deepEqual(summary, { id, templatePath, builderName, status, phase, lease, createdAt, updatedAt, artifact: full.artifact ? { imageId: full.artifact.imageId } : null });
  }
  assert.equal(summaries[1]!.artifact?.imageId, 'img-1');
  assert.equal(summaries[0]!.lease?.pid, 4242);
  assert.deepEqual(store.listBuildSummaries({ status: 'succeeded' }).map((b) => b.id), ['old']);
});

test('a live lease held by another process is refused with its pid and host', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  store.createBuild(build('b1'), { type: 'build.started' });
  const holder = { pid: process.pid, host: 'other-host' };
  store.acquireLease('b1', holder, 60_000);
  assert.throws(
    () => store.acquireLease('b1', { pid: 4242, host: 'this-host' }, 60_000),
    (error: unknown) => error instanceof LeaseHeldError && /process \d+ on other-host/.test(error.message),
  );
  // The holder itself may take it again (renewal) and renew it.
  store.acquireLease('b1', holder, 60_000);
  assert.equal(store.renewLease('b1', holder, 60_000), true);
  assert.equal(store.renewLease('b1', { pid: 1, host: 'x' }, 60_000), false);
});

test('an expired lease, or one held by a dead process on this host, is taken over', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  store.createBuild(build('b1'), { type: 'build.started' });
  const now = Date.now();
  store.acquireLease('b1', { pid: 1, host: 'far' }, 1_000, now - 5_000);
  const taken = store.acquireLease('b1', { pid: 2, host: 'near' }, 60_000, now);
  assert.equal(taken.host, 'near');

  // A process that has exited: its pid no longer exists.
  const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
  store.createBuild(build('b2'), { type: 'build.started' });
  store.acquireLease('b2', { pid: dead, host: 'samehost' }, 60_000);
  const over = store.acquireLease('b2', { pid: process.pid, host: 'samehost' }, 60_000);
  assert.equal(over.pid, process.pid);
  store.releaseLease('b2', { pid: process.pid, host: 'samehost' });
  assert.equal(store.getBuild('b2')!.lease, null);
});

test('the database path: --db, then KILN_DB, then $XDG_STATE_HOME/kiln/kiln.db, then ~/.local/state', () => {
  assert.equal(resolveDbPath('/x/flag.db', { KILN_DB: '/x/env.db' }), '/x/flag.db');
  assert.equal(resolveDbPath(undefined, { KILN_DB: '/x/env.db' }), '/x/env.db');
  assert.equal(resolveDbPath(undefined, { XDG_STATE_HOME: '/xdg' }), '/xdg/kiln/kiln.db');
  assert.match(defaultStateDir({ HOME: '/h' }), /\.local\/state\/kiln$/);
});

test('the migrations runner applies new files in order, each once, and rolls a failing one back whole', (t) => {
  const dir = tempDir(t);
  const db = new Database(join(dir, 'm.db'));
  t.after(() => db.close());
  writeFileSync(join(dir, '0002_b.sql'), 'ALTER TABLE a ADD COLUMN y INTEGER;');
  writeFileSync(join(dir, '0001_a.sql'), 'CREATE TABLE a (x INTEGER);');
  writeFileSync(join(dir, 'notes.txt'), 'not a migration');
  assert.deepEqual(migrate(db, dir), ['0001_a.sql', '0002_b.sql']);
  assert.deepEqual(migrate(db, dir), []);
  writeFileSync(join(dir, '0003_bad.sql'), 'CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);');
  assert.throws(() => migrate(db, dir), /nowhere/);
  // Neither table c nor the record of 0003 survived the failed transaction.
  assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").all(), []);
  assert.deepEqual((db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[]).map((r) => r.name), ['0001_a.sql', '0002_b.sql']);
});

test('waitHistory reads the recent wait.finished events of every build, oldest first, and nothing else', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  for (const id of ['b-1', 'b-2']) {
    store.createBuild(build(id), { type: 'build.started' });
    store.append(id, { type: 'provision.output', phase: 'provision', attempt: 1, data: { index: 0, lines: [] } });
    store.append(id, { type: 'wait.finished', phase: 'server.wait_running', attempt: 1, data: { durationMs: id === 'b-1' ? 1 : 2 } });
    store.append(id, { type: 'wait.finished', phase: 'image.wait', attempt: 1, data: { durationMs: id === 'b-1' ? 3 : 4 } });
  }
  assert.deepEqual(store.waitHistory().map((d) => d.durationMs), [1, 3, 2, 4]);
  assert.deepEqual(store.waitHistory(2).map((d) => d.durationMs), [2, 4], 'the most recent ones');
});

test('the answer cache returns a value until it expires, and forgets on demand', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  store.cache('api fr-par-1 products/servers', { 'DEV1-S': { arch: 'x86_64' } }, 1_000, 10_000);
  assert.deepEqual(store.cached('api fr-par-1 products/servers', 10_500), { 'DEV1-S': { arch: 'x86_64' } });
  assert.equal(store.cached('api fr-par-1 products/servers', 11_000), undefined, 'expired');
  assert.equal(store.cached('api nl-ams-1 products/servers', 10_500), undefined);
  store.cache('api fr-par-1 products/servers', { 'GP1-S': {} }, 1_000, 20_000);
  assert.deepEqual(store.cached('api fr-par-1 products/servers', 20_001), { 'GP1-S': {} }, 'a newer answer replaces the old one');
  store.uncache('api fr-par-1 products/servers');
  assert.equal(store.cached('api fr-par-1 products/servers', 20_001), undefined);
});

test('phaseHistory: how long each phase took in other builds of the same template and builder', (t) => {
  const store = EventStore.open(join(tempDir(t), 'kiln.db'));
  t.after(() => store.close());
  const builds = { mine: build('b-mine'), same: build('b-same'), other: { ...build('b-other'), templateHash: 'sha256:other' } };
  for (const b of Object.values(builds)) {
    store.createBuild(b, { type: 'build.started' });
    store.append(b.id, { type: 'phase.succeeded', phase: 'prepare', attempt: 1, data: { durationMs: b.id.length } });
    store.append(b.id, { type: 'phase.succeeded', phase: 'provision', attempt: 1, data: { provisionerIndex: 1, durationMs: 700 } });
    store.append(b.id, { type: 'phase.succeeded', phase: 'ssh.connect', attempt: 1, data: {} });
  }
  assert.deepEqual(
    store.phaseHistory({ templateHash: 'sha256:abc', builderName: 'scaleway', excludeBuildId: 'b-mine' }).sort((a, b) => a.durationMs - b.durationMs),
    [
      { phase: 'prepare', durationMs: 'b-same'.length },
      { phase: 'provision', provisionerIndex: 1, durationMs: 700 },
    ],
  );
});
