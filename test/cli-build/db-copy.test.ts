// `kiln db copy --to postgres://…`, `kiln ls` and `kiln show` against PostgreSQL, as a user runs them: a local
// SQLite history moves into the shared store whole, once, and reads back the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore, thisProcess, type NewBuild } from '../../src/store/index.js';
import { PgEventStore } from '../../src/store/postgres.js';
import { runKiln } from '../helpers/cli.js';
import { postgresUnavailableReason, testDatabase } from '../helpers/postgres.js';

const skip = postgresUnavailableReason();

const build = (id: string): NewBuild => ({
  id,
  templatePath: '/tmp/t.json',
  templateHash: 'sha256:abc',
  builderName: 'scaleway',
  spec: { name: 'scaleway', zone: 'fr-par-1', secretKey: '<redacted>' },
  onError: 'cleanup',
});

test('kiln db copy moves every finished build and its log into PostgreSQL once; kiln ls and kiln show read it back the same', { skip, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-db-copy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sqlitePath = join(dir, 'kiln.db');
  const url = await testDatabase(t);

  const local = EventStore.open(sqlitePath);
  local.createBuild(build('b-done'), { type: 'build.started' });
  local.append('b-done', { type: 'phase.started', phase: 'provision', attempt: 1 });
  local.appendMany('b-done', Array.from({ length: 300 }, (_, i) => ({ type: 'provision.output' as const, phase: 'provision' as const, attempt: 1, data: { lines: [`line ${i}`] } })));
  local.append('b-done', { type: 'build.succeeded', data: { artifact: { imageId: 'img-1', imageName: 'n', snapshotId: 's', snapshotName: 'sn', zone: 'fr-par-1' } } });
  local.createBuild(build('b-failed'), { type: 'build.started' });
  local.append('b-failed', { type: 'build.failed', data: { error: { name: 'X', message: 'boom', retryable: false } } });
  // A build this (live) process still drives: its log is still growing, so it waits.
  local.createBuild(build('b-live'), { type: 'build.started' });
  const me = thisProcess();
  local.acquireLease('b-live', me, 600_000);
  local.close();

  const first = await runKiln(['db', 'copy', '--db', sqlitePath, '--to', url]);
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stdout, /Copied 2 build\(s\)/);
  assert.match(first.stdout, /still running here.*b-live/);

  const source = EventStore.open(sqlitePath);
  t.after(() => source.close());
  const target = await PgEventStore.open(url);
  t.after(() => target.close());
  for (const id of ['b-done', 'b-failed']) {
    assert.deepEqual(await target.getBuild(id), source.getBuild(id), `${id}: the same record`);
    assert.deepEqual(await target.events(id), source.events(id), `${id}: the same log`);
  }
  assert.equal(await target.getBuild('b-live'), undefined);

  // Once it ends, copying again brings it and writes nothing twice.
  source.append('b-live', { type: 'build.failed', data: { error: { name: 'Y', message: 'stopped', retryable: false } } });
  source.releaseLease('b-live', me);
  const second = await runKiln(['db', 'copy', '--db', sqlitePath, '--to', url]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /Copied 1 build\(s\)/);
  assert.match(second.stdout, /2 build\(s\) were already there/);
  assert.equal((await target.events('b-done')).length, 303);
  assert.deepEqual(await target.events('b-live'), source.events('b-live'));

  const fromSqlite = await runKiln(['ls', '--json', '--db', sqlitePath]);
  const fromPostgres = await runKiln(['ls', '--json', '--db', url]);
  assert.equal(fromPostgres.code, 0, fromPostgres.stderr);
  const ids = (stdout: string) => (JSON.parse(stdout) as { id: string; status: string; imageId: string | null }[]).map((b) => [b.id, b.status, b.imageId]);
  assert.deepEqual(ids(fromPostgres.stdout), ids(fromSqlite.stdout));
  assert.deepEqual(ids(fromPostgres.stdout), [
    ['b-live', 'failed', null],
    ['b-failed', 'failed', null],
    ['b-done', 'succeeded', 'img-1'],
  ]);
  const table = await runKiln(['ls', '--db', url]);
  assert.match(table.stdout, /b-done .* img-1/);
  for (const args of [['show', 'b-done', '--json', '--events'], ['show', 'b-fa']]) {
    const [here, shared] = [await runKiln([...args, '--db', sqlitePath]), await runKiln([...args, '--db', url])];
    assert.equal(shared.code, 0, shared.stderr);
    assert.equal(shared.stdout, here.stdout, `kiln ${args.join(' ')} tells the same from either store`);
  }

  // A copied build goes on in the shared store: new events follow its copied log.
  await target.append('b-failed', { type: 'build.resumed' });
  assert.equal((await target.getBuild('b-failed'))!.lastSeq, 3);
  assert.deepEqual((await target.events('b-failed')).map((e) => e.seq), [1, 2, 3]);
});

test('kiln db copy and the commands refuse bad stores with a clear error and create nothing', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-db-copy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const noTo = await runKiln(['db', 'copy', '--db', join(dir, 'kiln.db')], { cwd: dir });
  assert.equal(noTo.code, 2);
  assert.match(noTo.stderr, /needs --to postgres:\/\//);
  const notUrl = await runKiln(['db', 'copy', '--db', join(dir, 'kiln.db'), '--to', join(dir, 'other.db')], { cwd: dir });
  assert.equal(notUrl.code, 2);
  assert.match(notUrl.stderr, /is not one/);
  const noSource = await runKiln(['db', 'copy', '--db', join(dir, 'missing.db'), '--to', 'postgres://nobody@127.0.0.1:1/none'], { cwd: dir });
  assert.equal(noSource.code, 1);
  assert.match(noSource.stderr, /no kiln database at .*missing\.db/);
  assert.equal(existsSync(join(dir, 'missing.db')), false, 'a missing source is not created');
  // build, resume and gc take a PostgreSQL store too: an unreachable one is said so, nothing is created.
  for (const command of [['gc'], ['resume', 'some-build']]) {
    const result = await runKiln([...command, '--db', 'postgres://nobody:secret-pw@127.0.0.1:1/none'], {
      cwd: dir,
      // (gc checks its Scaleway settings before it opens the store.)
      env: { ...process.env, SCW_SECRET_KEY: '7c0ffee0-1234-4abc-8def-0123456789ab', SCW_DEFAULT_PROJECT_ID: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /cannot open the PostgreSQL store postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none/);
    assert.doesNotMatch(result.stderr, /secret-pw/, 'no password in messages');
  }
  const unreachable = await runKiln(['ls', '--db', 'postgres://nobody:secret-pw@127.0.0.1:1/none'], { cwd: dir });
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot open the PostgreSQL store postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none/);
  assert.doesNotMatch(unreachable.stderr, /secret-pw/, 'no password in messages');
  assert.equal(existsSync(join(dir, 'postgres:')), false, 'a URL is never taken for a file name');
});

test("KILN_DB=postgres:// with libpq's PG* variables reaches the same store as the whole URL", { skip, timeout: 60_000 }, async (t) => {
  const url = new URL(await testDatabase(t));
  const store = await PgEventStore.open(url.toString());
  await store.createBuild(build('b-libpq'), { type: 'build.started' });
  await store.close();
  // The URL says only "PostgreSQL"; host, port, user and database come from the environment, as psql takes them.
  const env = {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    KILN_DB: 'postgres://',
    PGHOST: url.hostname,
    PGPORT: url.port,
    PGUSER: decodeURIComponent(url.username),
    PGDATABASE: url.pathname.slice(1),
    ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}),
  };
  const ls = await runKiln(['ls', '--json'], { env });
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual((JSON.parse(ls.stdout) as { id: string }[]).map((b) => b.id), ['b-libpq']);
});
