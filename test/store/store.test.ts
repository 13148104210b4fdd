import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  EventStore,
  LeaseHeldError,
  leaseIsLive,
  MIGRATIONS_DIR,
  migrate,
  resolveDbPath,
  defaultStateDir,
  thisProcess,
  type BuildStore,
  type LeaseOwner,
  type NewBuild,
} from '../../src/store/index.js';
import { PG_MIGRATIONS_DIR, PgEventStore, migratePostgres } from '../../src/store/postgres.js';
import { postgresUnavailableReason, testDatabase } from '../helpers/postgres.js';
import { straceUnavailable } from '../helpers/strace.js';
import { sleep } from '../../src/shared/sleep.js';

type TestContext = { after: (fn: () => void | Promise<void>) => void };

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The stores the behaviour tests below run against: one suite, both implementations of the one
 * interface. `place` makes a new empty store's location (a file path, a database URL); `open`
 * opens a store there (several may be open at once, as several processes or hosts would).
 */
const kinds: { name: string; skip: string | undefined; place(t: TestContext): Promise<string>; open(location: string): Promise<BuildStore> }[] = [
  { name: 'SQLite', skip: undefined, place: async (t) => join(tempDir(t), 'kiln.db'), open: async (path) => EventStore.open(path) },
  { name: 'PostgreSQL', skip: postgresUnavailableReason(), place: (t) => testDatabase(t), open: (url) => PgEventStore.open(url) },
];

/** Opens a store of `kind` at `location` (a new one unless given), closed after the test. */
async function openStore(t: TestContext, kind: (typeof kinds)[number], location?: string): Promise<BuildStore> {
  const store = await kind.open(location ?? (await kind.place(t)));
  t.after(() => store.close());
  return store;
}

/** A lease owner as another process would be: its own token; `pidSpace` null unless given (a pid nobody here can check). */
const owner = (pid: number, host: string, pidSpace: string | null = null): LeaseOwner => ({ token: `${pid}@${host}/${pidSpace}`, pid, host, pidSpace });

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

for (const kind of kinds) {
  const { name, skip } = kind;

  test(`${name}: numbers events per build and updates the projection in the same transaction`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    const seen: string[] = [];
    store.subscribe((e) => seen.push(`${e.buildId}:${e.seq}:${e.type}`));
    await store.createBuild(build('b1'), { type: 'build.started' });
    await store.createBuild(build('b2'), { type: 'build.started' });
    await store.append('b1', { type: 'phase.started', phase: 'server.create', attempt: 1 });
    await store.append('b1', { type: 'server.create.requested', phase: 'server.create', attempt: 1, data: { name: 'kiln-x' } });
    await store.append('b1', { type: 'server.created', phase: 'server.create', attempt: 1, data: { serverId: 's-1', volumeIds: ['v-1'] } });
    await store.append('b2', { type: 'phase.started', phase: 'prepare', attempt: 1 });

    assert.deepEqual((await store.events('b1')).map((e) => [e.seq, e.type]), [
      [1, 'build.started'],
      [2, 'phase.started'],
      [3, 'server.create.requested'],
      [4, 'server.created'],
    ]);
    assert.deepEqual((await store.events('b2')).map((e) => e.seq), [1, 2]);
    assert.deepEqual((await store.events('b1', { afterSeq: 3 })).map((e) => e.seq), [4]);
    assert.equal(seen.length, 6);
    const b1 = (await store.getBuild('b1'))!;
    assert.equal(b1.phase, 'server.create');
    assert.equal(b1.lastSeq, 4);
    assert.equal(b1.resources.server?.id, 's-1');
    assert.deepEqual(b1.resources.volumes, [{ id: 'v-1' }]);
    assert.deepEqual(b1.spec, { name: 'scaleway', secretKey: '<redacted>' });

    await store.append('b1', { type: 'server.deleted', data: { serverId: 's-1', volumesDeleted: true } });
    await store.append('b1', { type: 'build.failed', data: { error: { name: 'X', message: 'boom', retryable: false } } });
    const after = (await store.getBuild('b1'))!;
    assert.equal(after.status, 'failed');
    assert.equal(after.resources.server?.deleted, true);
    assert.equal(after.resources.volumes?.[0]?.deleted, true);
    assert.equal(after.error?.message, 'boom');
  });

  test(`${name}: a batch is appended whole or not at all, and an unknown build is refused`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('b1'), { type: 'build.started' });
    const batch = await store.appendMany('b1', [
      { type: 'provision.output', phase: 'provision', attempt: 1, data: { lines: ['a'] } },
      { type: 'provision.output', phase: 'provision', attempt: 1, data: { lines: ['b'] } },
    ]);
    assert.deepEqual(batch.map((e) => e.seq), [2, 3]);
    assert.deepEqual(await store.appendMany('b1', []), []);
    await assert.rejects(async () => store.append('nope', { type: 'phase.started' }), /no build with id nope/);
    await assert.rejects(async () => store.createBuild(build('b1'), { type: 'build.started' }), 'a second build with the same id');
    assert.equal((await store.getBuild('b1'))!.lastSeq, 3, 'the refused createBuild appended nothing');
    assert.equal((await store.events('b1')).length, 3);
  });

  test(`${name}: an append that expects the log to end at a seq writes only if it does`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('b1'), { type: 'build.started' });
    const [second] = await store.appendMany('b1', [{ type: 'phase.started', phase: 'prepare' }], { afterSeq: 1 });
    assert.equal(second!.seq, 2);
    // A writer that believes the log ends at 1 (its answer for seq 2 was lost) is refused, and nothing is written.
    await assert.rejects(
      async () => store.appendMany('b1', [{ type: 'phase.started', phase: 'prepare' }], { afterSeq: 1 }),
      (error: Error) => error.name === 'LogMovedError' && /ends at event 2 where its writer expected 1/.test(error.message),
    );
    assert.equal((await store.getBuild('b1'))!.lastSeq, 2);
    assert.equal((await store.appendMany('b1', [{ type: 'key.created' }], { afterSeq: 2 }))[0]!.seq, 3);
  });

  test(`${name}: a listener that throws does not stop appends`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    store.subscribe(() => {
      throw new Error('renderer bug');
    });
    await store.createBuild(build('b1'), { type: 'build.started' });
    await store.append('b1', { type: 'phase.started', phase: 'prepare', attempt: 1 });
    assert.equal((await store.getBuild('b1'))!.lastSeq, 2);
  });

  test(`${name}: two connections appending to one build at once keep seq gap-free and unique`, { skip }, async (t) => {
    const location = await kind.place(t);
    const [a, b] = [await openStore(t, kind, location), await openStore(t, kind, location)];
    await a.createBuild(build('b1'), { type: 'build.started' });
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append('b1', { type: 'provision.output', data: { lines: [`line ${i}`] } })));
    assert.deepEqual((await a.events('b1')).map((e) => e.seq), Array.from({ length: 21 }, (_, i) => i + 1));
    assert.equal((await b.getBuild('b1'))!.lastSeq, 21);

    // Taking turns: each store's next append follows what the other wrote, never its own last view.
    await a.append('b1', { type: 'phase.started', phase: 'prepare', attempt: 1 });
    await b.append('b1', { type: 'phase.started', phase: 'server.create', attempt: 1 });
    await a.append('b1', { type: 'provision.output', data: { lines: ['after b'] } });
    await b.append('b1', { type: 'server.created', phase: 'server.create', attempt: 1, data: { serverId: 's-1', volumeIds: ['v-1'] } });
    await a.append('b1', { type: 'provision.output', data: { lines: ['after b again'] } });
    const record = (await a.getBuild('b1'))!;
    assert.equal(record.lastSeq, 26);
    assert.equal(record.phase, 'server.create', "b's phase stays: a did not write its older view back");
    assert.equal(record.resources.server?.id, 's-1');
    assert.deepEqual((await b.events('b1', { afterSeq: 21 })).map((e) => [e.seq, e.type]), [
      [22, 'phase.started'],
      [23, 'phase.started'],
      [24, 'provision.output'],
      [25, 'server.created'],
      [26, 'provision.output'],
    ]);

    // A store that read the build (as resume does) and then saw another store append goes after it too.
    assert.equal((await a.findBuild('b1')).lastSeq, 26);
    await b.append('b1', { type: 'server.deleted', data: { serverId: 's-1' } });
    await a.append('b1', { type: 'build.failed', data: { error: { name: 'X', message: 'after b', retryable: false } } });
    const last = (await b.getBuild('b1'))!;
    assert.equal(last.lastSeq, 28);
    assert.equal(last.resources.server?.deleted, true, "b's projection update stays under a's");
    assert.equal(last.status, 'failed');
  });

  test(`${name}: a batch of any size, with any characters in its data, is stored exactly as written and in order`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('b1'), { type: 'build.started' });
    const awkward = ['quote " and \\ backslash', "single ' quote", '{braces}, [brackets] and , commas', 'NULL', 'tab\tnewline\n', 'ünïcödé ✓ 🚀', ''];
    const batch = Array.from({ length: 6_001 }, (_, i) => ({
      type: 'provision.output' as const,
      phase: i % 2 ? ('provision' as const) : null,
      attempt: i % 3,
      data: { index: 0, lines: [{ stream: 'stdout', line: awkward[i % awkward.length]! + i }], nested: { z: 1, a: [null, true] } },
    }));
    const appended = await store.appendMany('b1', batch);
    assert.deepEqual(appended.map((e) => e.seq), Array.from({ length: 6_001 }, (_, i) => i + 2));
    const read = (await store.events('b1')).slice(1);
    assert.equal(read.length, batch.length);
    read.forEach((event, i) => {
      assert.deepEqual({ type: event.type, phase: event.phase, attempt: event.attempt, data: event.data }, batch[i], `event ${i + 2}`);
      // Key order too: the JSON comes back as it was written.
      assert.equal(JSON.stringify(event.data), JSON.stringify(batch[i]!.data));
    });
    assert.equal((await store.lastEvent('b1', 'provision.output'))?.seq, 6_002);
    assert.equal((await store.getBuild('b1'))!.lastSeq, 6_002);
  });

  test(`${name}: reads a log without its provisioner output, and the latest event of a type`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('b1'), { type: 'build.started' });
    await store.append('b1', { type: 'phase.started', phase: 'provision', attempt: 1 });
    await store.append('b1', { type: 'provision.output', phase: 'provision', attempt: 1, data: { lines: ['a'] } });
    await store.append('b1', { type: 'phase.started', phase: 'provision', attempt: 2 });
    await store.append('b1', { type: 'provision.output', phase: 'provision', attempt: 2, data: { lines: ['b'] } });
    assert.deepEqual((await store.events('b1', { withoutOutput: true })).map((e) => [e.seq, e.type]), [
      [1, 'build.started'],
      [2, 'phase.started'],
      [4, 'phase.started'],
    ]);
    assert.equal((await store.events('b1')).length, 5);
    assert.equal((await store.lastEvent('b1', 'phase.started'))?.attempt, 2);
    assert.equal((await store.lastEvent('b1', 'provision.output'))?.seq, 5);
    assert.equal(await store.lastEvent('b1', 'build.failed'), undefined);
  });

  test(`${name}: lists builds newest first, filters by status, and finds one by an unambiguous prefix`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('old'), { type: 'build.started' });
    await store.createBuild(build('new'), { type: 'build.started' });
    await store.createBuild(build('a_1'), { type: 'build.started' });
    await store.createBuild(build('ab1'), { type: 'build.started' });
    await store.append('old', { type: 'build.succeeded', data: { artifact: { imageId: 'i' } } });
    assert.deepEqual((await store.listBuilds()).map((b) => b.id), ['ab1', 'a_1', 'new', 'old']);
    assert.deepEqual((await store.listBuilds({ status: 'succeeded' })).map((b) => b.id), ['old']);
    assert.equal((await store.findBuild('ne')).id, 'new');
    assert.equal((await store.findBuild('a_')).id, 'a_1', 'an underscore is not a wildcard');
    await assert.rejects(async () => store.findBuild('a'), /matches several builds/);
    await assert.rejects(async () => store.findBuild('zzz'), /no build with id zzz/);
  });

  test(`${name}: the listing summaries agree with the full records on everything a listing shows`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('old'), { type: 'build.started' });
    await store.createBuild(build('new'), { type: 'build.started' });
    await store.append('new', { type: 'phase.started', phase: 'server.create', attempt: 1 });
    await store.acquireLease('new', owner(4242, 'elsewhere'), 60_000);
    await store.append('old', { type: 'build.succeeded', data: { artifact: { imageId: 'img-1', imageName: 'n', snapshotId: 's', snapshotName: 'sn', zone: 'fr-par-1' } } });
    const summaries = await store.listBuildSummaries();
    assert.deepEqual(summaries.map((b) => b.id), ['new', 'old']);
    for (const summary of summaries) {
      const full = (await store.getBuild(summary.id))!;
      const { id, templatePath, builderName, status, phase, lease, host, createdAt, updatedAt } = full;
      assert.deepEqual(summary, { id, templatePath, builderName, status, phase, lease, host, createdAt, updatedAt, artifact: full.artifact ? { imageId: full.artifact.imageId } : null });
    }
    assert.equal(summaries[1]!.artifact?.imageId, 'img-1');
    assert.equal(summaries[0]!.lease?.pid, 4242);
    assert.equal(summaries[0]!.host, 'elsewhere', 'a listing shows which host runs a build');
    assert.equal(summaries[1]!.host, null, 'never leased');
    await store.releaseLease('new', owner(4242, 'elsewhere'));
    assert.equal((await store.listBuildSummaries())[0]!.host, 'elsewhere', 'and which host ran it, once it let go');
    assert.deepEqual((await store.listBuildSummaries({ status: 'succeeded' })).map((b) => b.id), ['old']);
  });

  test(`${name}: a live lease held by another process is refused with its pid and host`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('b1'), { type: 'build.started' });
    const holder = owner(process.pid, 'other-host');
    await store.acquireLease('b1', holder, 60_000);
    await assert.rejects(
      async () => store.acquireLease('b1', owner(4242, 'this-host'), 60_000),
      (error: unknown) => error instanceof LeaseHeldError && /process \d+ on other-host/.test(error.message),
    );
    // The holder itself may take it again (renewal) and renew it.
    await store.acquireLease('b1', holder, 60_000);
    assert.equal(await store.renewLease('b1', holder, 60_000), true);
    assert.equal(await store.renewLease('b1', owner(1, 'x'), 60_000), false);
    await assert.rejects(async () => store.acquireLease('nope', holder, 60_000), /no build with id nope/);
  });

  test(`${name}: a lease expires by the store's clock, the one ls and show judge it by`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('b1'), { type: 'build.started' });
    const before = await store.clock();
    const lease = await store.acquireLease('b1', owner(1, 'elsewhere'), 60_000);
    const after = await store.clock();
    // Taken between the two readings, for 60 s of the same clock.
    assert.ok(lease.expiresAt >= before + 60_000 && lease.expiresAt <= after + 60_000, `${lease.expiresAt} against ${before}..${after}`);
    assert.equal(leaseIsLive(lease, after), true, 'live by the store clock');
    assert.equal(leaseIsLive(lease, lease.expiresAt), false, 'and over once that clock reaches its expiry');
  });

  test(`${name}: an expired lease, or one held by a dead process on this host, is taken over`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('b1'), { type: 'build.started' });
    const far = await store.acquireLease('b1', owner(1, 'far'), 1);
    // The holder stopped heart-beating: once its lease's time is past, it is free.
    while (Date.now() <= far.expiresAt + 1) await sleep(5);
    const taken = await store.acquireLease('b1', owner(2, 'near'), 60_000);
    assert.equal(taken.host, 'near');
    assert.equal(await store.renewLease('b1', owner(1, 'far'), 60_000), false, 'the old holder learns it lost the lease');

    // A process that has exited: its pid no longer exists.
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    await store.createBuild(build('b2'), { type: 'build.started' });
    const here = thisProcess().pidSpace;
    assert.ok(here, 'this Linux records where its pids are (boot id and pid namespace)');
    await store.acquireLease('b2', owner(dead, 'samehost', here), 60_000);
    const over = await store.acquireLease('b2', owner(process.pid, 'samehost', here), 60_000);
    assert.equal(over.pid, process.pid);
    await store.releaseLease('b2', owner(process.pid, 'samehost', here));
    assert.equal((await store.getBuild('b2'))!.lease, null);
  });

  test(`${name}: a holder whose pid cannot be checked here keeps its lease until it expires, whatever its pid and host name`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    await store.createBuild(build('b1'), { type: 'build.started' });
    const here = thisProcess();
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    // Another container on this machine: the same host name and boot, another pid namespace. Its
    // pid is dead here, or (pid 1 in both, or this very pid) alive here: neither says anything.
    const otherNamespace = `${here.pidSpace}-other`;
    for (const pid of [dead, 1, process.pid]) {
      const holder = owner(pid, here.host, otherNamespace);
      const lease = await store.acquireLease('b1', holder, 60_000);
      await assert.rejects(async () => store.acquireLease('b1', here, 60_000), LeaseHeldError, `pid ${pid} in another pid namespace`);
      assert.equal(await store.renewLease('b1', here, 60_000), false, 'nor renewed as if it were this process\'s');
      assert.deepEqual((await store.getBuild('b1'))!.lease, lease);
      // An older kiln's lease (no pid space recorded) is the same.
      await store.releaseLease('b1', holder);
      await store.acquireLease('b1', owner(pid, here.host), 60_000);
      await assert.rejects(async () => store.acquireLease('b1', here, 60_000), LeaseHeldError, `pid ${pid}, no pid space`);
      await store.releaseLease('b1', owner(pid, here.host));
    }
  });

  test(`${name}: two hosts racing for one build's lease: exactly one wins, the other is told who holds it`, { skip }, async (t) => {
    const location = await kind.place(t);
    const [a, b] = [await openStore(t, kind, location), await openStore(t, kind, location)];
    await a.createBuild(build('b1'), { type: 'build.started' });
    for (let round = 0; round < 5; round++) {
      const hosts = [`host-a-${round}`, `host-b-${round}`];
      // async: a synchronous store's refusal becomes a rejection like the other store's.
      const results = await Promise.allSettled([a, b].map(async (store, i) => store.acquireLease('b1', owner(100 + i, hosts[i]!), 60_000)));
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      assert.equal(won.length, 1, `round ${round}: exactly one winner`);
      assert.ok(lost[0] instanceof LeaseHeldError && lost[0].holder.host === won[0]!.host, `round ${round}: the loser names the winner's host`);
      assert.equal((await b.getBuild('b1'))!.lease?.host, won[0]!.host);
      await a.releaseLease('b1', won[0]!);
    }
  });

  test(`${name}: waitHistory reads the recent wait.finished events of every build, oldest first, and nothing else`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    for (const id of ['b-1', 'b-2']) {
      await store.createBuild(build(id), { type: 'build.started' });
      await store.append(id, { type: 'provision.output', phase: 'provision', attempt: 1, data: { index: 0, lines: [] } });
      await store.append(id, { type: 'wait.finished', phase: 'server.wait_running', attempt: 1, data: { durationMs: id === 'b-1' ? 1 : 2 } });
      await store.append(id, { type: 'wait.finished', phase: 'image.wait', attempt: 1, data: { durationMs: id === 'b-1' ? 3 : 4 } });
    }
    assert.deepEqual((await store.waitHistory()).map((d) => d.durationMs), [1, 3, 2, 4]);
    assert.deepEqual((await store.waitHistory(2)).map((d) => d.durationMs), [2, 4], 'the most recent ones');
  });

  test(`${name}: the answer cache returns a value until it expires, and forgets on demand`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    const key = 'api fr-par-1 products/servers';
    await store.cache(key, { 'DEV1-S': { arch: 'x86_64' } }, 60_000);
    assert.deepEqual(await store.cached(key), { 'DEV1-S': { arch: 'x86_64' } });
    assert.equal(await store.cached('api nl-ams-1 products/servers'), undefined);
    await store.cache(key, { 'GP1-S': {} }, 60_000);
    assert.deepEqual(await store.cached(key), { 'GP1-S': {} }, 'a newer answer replaces the old one');
    await store.uncache(key);
    assert.equal(await store.cached(key), undefined);
    await store.cache(key, { 'GP1-S': {} }, 1);
    await sleep(20);
    assert.equal(await store.cached(key), undefined, 'expired');
  });

  test(`${name}: a gc run is recorded as it starts and completed as it ends`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    const id = await store.startGcRun({ dryRun: false, host: 'runner-7', pid: 42, zones: ['fr-par-1', 'nl-ams-1'], olderThanMs: 3_600_000, buildFilter: undefined });
    const killed = await store.startGcRun({ dryRun: true, host: 'runner-8', pid: 43, zones: ['fr-par-2'], olderThanMs: 0, buildFilter: 'b-1' });
    await store.finishGcRun(id, { found: [{ type: 'server', id: 's-1' }], removed: [{ type: 'server', id: 's-1' }], notRemoved: [], cleanedBuilds: ['b-9'], exitCode: 0 });
    const [done, unfinished] = await store.gcRuns();
    assert.ok(done && unfinished);
    assert.deepEqual({ ...done, startedAt: undefined, finishedAt: undefined }, {
      id,
      startedAt: undefined,
      finishedAt: undefined,
      dryRun: false,
      host: 'runner-7',
      pid: 42,
      zones: ['fr-par-1', 'nl-ams-1'],
      olderThanMs: 3_600_000,
      buildFilter: undefined,
      found: [{ type: 'server', id: 's-1' }],
      removed: [{ type: 'server', id: 's-1' }],
      notRemoved: [],
      cleanedBuilds: ['b-9'],
      exitCode: 0,
    });
    assert.match(done.finishedAt ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(unfinished.id, killed);
    assert.equal(unfinished.finishedAt, null, 'a run never finished is one that was killed');
    assert.equal(unfinished.exitCode, null);
    assert.equal(unfinished.dryRun, true);
    assert.equal(unfinished.buildFilter, 'b-1');
  });

  test(`${name}: phaseHistory: how long each phase took in other builds of the same template and builder`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    const builds = { mine: build('b-mine'), same: build('b-same'), other: { ...build('b-other'), templateHash: 'sha256:other' } };
    for (const b of Object.values(builds)) {
      await store.createBuild(b, { type: 'build.started' });
      await store.append(b.id, { type: 'phase.succeeded', phase: 'prepare', attempt: 1, data: { durationMs: b.id.length } });
      await store.append(b.id, { type: 'phase.succeeded', phase: 'provision', attempt: 1, data: { provisionerIndex: 1, durationMs: 700 } });
      await store.append(b.id, { type: 'phase.succeeded', phase: 'ssh.connect', attempt: 1, data: {} });
    }
    assert.deepEqual(
      (await store.phaseHistory({ templateHash: 'sha256:abc', builderName: 'scaleway', excludeBuildId: 'b-mine' })).sort((a, b) => a.durationMs - b.durationMs),
      [
        { phase: 'prepare', durationMs: 'b-same'.length },
        { phase: 'provision', provisionerIndex: 1, durationMs: 700 },
      ],
    );
  });

  test(`${name}: the cache secret is made once, and every store opened on the database reads the same`, { skip }, async (t) => {
    const location = await kind.place(t);
    const [a, b] = [await openStore(t, kind, location), await openStore(t, kind, location)];
    const [first, second] = await Promise.all([a.cacheSecret(), b.cacheSecret()]);
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.equal(second, first);
    assert.equal(await a.cacheSecret(), first);
  });

  test(`${name}: a checkpoint is claimed by one build, completed by it only, taken over from a dead claimer, and forgotten`, { skip }, async (t) => {
    const store = await openStore(t, kind);
    const claim = (buildId: string, key = 'k1') => ({
      key,
      buildId,
      apiUrl: 'http://sim',
      zone: 'fr-par-1',
      templatePath: '/t.json',
      builderName: 'scaleway',
      provisionerIndex: 1,
      provisionerType: 'shell',
      manifest: [{ name: 'source image', hash: 'sha256:1' }],
    });
    const made = { imageId: 'img-1', snapshots: [{ id: 'snap-1' }, { id: 'snap-2', api: 'block' as const }], sizeBytes: 20_000_000_000, reachMs: 61_000 };
    const first = await store.claimCheckpoint(claim('b-1'));
    assert.equal(first.status, 'claimed');
    assert.equal(first.buildId, 'b-1');
    assert.deepEqual(first.manifest, [{ name: 'source image', hash: 'sha256:1' }]);
    // Another build reaching the key sees the claim, and cannot complete it.
    assert.equal((await store.claimCheckpoint(claim('b-2'))).buildId, 'b-1');
    assert.equal(await store.completeCheckpoint('k1', 'b-2', made), false);
    // Taken over only from the build that holds it.
    assert.equal((await store.claimCheckpoint(claim('b-2'), 'b-9')).buildId, 'b-1');
    assert.equal((await store.claimCheckpoint(claim('b-2'), 'b-1')).buildId, 'b-2');
    assert.equal(await store.completeCheckpoint('k1', 'b-1', made), false, 'the old claimer lost it');
    assert.equal(await store.completeCheckpoint('k1', 'b-2', made), true);
    const [done] = await store.checkpoints(['k1']);
    assert.deepEqual({ ...done, claimedAt: undefined, createdAt: undefined }, {
      ...claim('b-2'),
      status: 'available',
      imageId: 'img-1',
      snapshots: made.snapshots,
      sizeBytes: made.sizeBytes,
      reachMs: made.reachMs,
      claimedAt: undefined,
      createdAt: undefined,
      hits: 0,
      lastHitAt: null,
      lastHitBuild: null,
    });
    // An available checkpoint cannot be taken over or claimed again.
    assert.equal((await store.claimCheckpoint(claim('b-3'), 'b-2')).status, 'available');
    await store.recordCheckpointHit('k1', 'b-3');
    await store.recordCheckpointHit('k1', 'b-4');
    const [hit] = await store.checkpoints(['k1']);
    assert.equal(hit!.hits, 2);
    assert.equal(hit!.lastHitBuild, 'b-4');
    // A teammate's, found in the cloud: recorded available; a known key is left as it is.
    await store.importCheckpoint(claim('b-7', 'k2'), { ...made, imageId: 'img-2', createdAt: '2030-01-01T00:00:00.000Z' });
    await store.importCheckpoint(claim('b-8', 'k1'), { ...made, imageId: 'img-other' });
    assert.deepEqual((await store.checkpoints()).map((c) => [c.key, c.status, c.imageId]).sort(), [['k1', 'available', 'img-1'], ['k2', 'available', 'img-2']]);
    assert.equal((await store.checkpoints(['k2']))[0]!.createdAt, '2030-01-01T00:00:00.000Z');
    // A claim given up is dropped only while unfinished and held by that build.
    await store.claimCheckpoint(claim('b-5', 'k3'));
    await store.dropCheckpoint('k1', 'b-2');
    await store.dropCheckpoint('k3', 'b-6');
    assert.deepEqual((await store.checkpoints(['k1', 'k3'])).map((c) => c.key).sort(), ['k1', 'k3']);
    await store.dropCheckpoint('k3', 'b-5');
    await store.dropCheckpoint('k2');
    assert.deepEqual((await store.checkpoints()).map((c) => c.key), ['k1']);
  });

  test(`${name}: two hosts claiming one key at once: exactly one makes the checkpoint`, { skip }, async (t) => {
    const location = await kind.place(t);
    const [a, b] = [await openStore(t, kind, location), await openStore(t, kind, location)];
    for (let round = 0; round < 5; round++) {
      const claims = await Promise.all(
        [a, b].map(async (store, i) =>
          store.claimCheckpoint({ key: `race-${round}`, buildId: `b-${i}`, apiUrl: 'u', zone: 'z', templatePath: 't', builderName: 'n', provisionerIndex: 0, provisionerType: 'shell', manifest: [] }),
        ),
      );
      assert.equal(claims[0]!.buildId, claims[1]!.buildId, `round ${round}: both see the same claimer`);
    }
  });
}

const noStrace = straceUnavailable('which commits call fsync');

test('SQLite: an intent and a lifecycle event wait for the disk (fsync); the events between them do not', { skip: noStrace, timeout: 60_000 }, (t) => {
  const path = join(tempDir(t), 'kiln.db');
  const fromSources = import.meta.url.endsWith('.ts');
  const storeModule = new URL(fromSources ? '../../src/store/index.ts' : '../../src/store/index.js', import.meta.url).href;
  // Marks between the appends go to stderr, so the trace shows which append each fsync belongs to.
  const script = `
    import { EventStore } from ${JSON.stringify(storeModule)};
    const mark = (name) => process.stderr.write('MARK ' + name + '\\n');
    const store = EventStore.open(${JSON.stringify(path)});
    mark('created');
    store.createBuild(${JSON.stringify(build('b1'))}, { type: 'build.started' });
    mark('transitions');
    store.append('b1', { type: 'phase.started', phase: 'server.create', attempt: 1 });
    store.appendMany('b1', [{ type: 'provision.output', phase: 'server.create', attempt: 1, data: { index: 0, lines: [] } }]);
    mark('intent');
    store.append('b1', { type: 'server.create.requested', phase: 'server.create', attempt: 1, data: { name: 'kiln-x' } });
    mark('result');
    store.append('b1', { type: 'server.created', phase: 'server.create', attempt: 1, data: { serverId: 's1' } });
    store.append('b1', { type: 'phase.succeeded', phase: 'server.create', attempt: 1 });
    mark('end');
    store.append('b1', { type: 'build.succeeded', phase: null, attempt: 0 });
    mark('closed');
    store.close();
  `;
  const trace = join(tempDir(t), 'trace');
  const node = [process.execPath, ...(fromSources ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script];
  const run = spawnSync('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync,write', '-o', trace, ...node], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  // fsyncs per stretch between two marks.
  const syncs: Record<string, number> = {};
  let stretch = 'open';
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const marked = /write\(2, "MARK (\w+)/.exec(line);
    if (marked) stretch = marked[1]!;
    else if (/\b(fsync|fdatasync)\(/.test(line)) syncs[stretch] = (syncs[stretch] ?? 0) + 1;
  }
  assert.ok((syncs.created ?? 0) > 0, `build.started reaches the disk: ${JSON.stringify(syncs)}`);
  assert.equal(syncs.transitions ?? 0, 0, `a phase transition and provisioner output do not wait for it: ${JSON.stringify(syncs)}`);
  assert.ok((syncs.intent ?? 0) > 0, `the intent reaches the disk before the call it announces: ${JSON.stringify(syncs)}`);
  assert.equal(syncs.result ?? 0, 0, `the result and the transition after it do not wait: ${JSON.stringify(syncs)}`);
  assert.ok((syncs.end ?? 0) > 0, `build.succeeded reaches the disk: ${JSON.stringify(syncs)}`);
  // Every event is there, in order, for the next process to read.
  const reopened = EventStore.open(path);
  try {
    assert.deepEqual(
      reopened.events('b1').map((e) => e.type),
      ['build.started', 'phase.started', 'provision.output', 'server.create.requested', 'server.created', 'phase.succeeded', 'build.succeeded'],
    );
  } finally {
    reopened.close();
  }
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

test('PostgreSQL: each dialect ships the same migrations, applied once, even by hosts opening the store at once', { skip: kinds[1]!.skip }, async (t) => {
  const names = (dir: string) => readdirSync(dir).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
  assert.deepEqual(names(PG_MIGRATIONS_DIR), names(MIGRATIONS_DIR), 'one migration per version in both dialects');
  const url = await testDatabase(t);
  const stores = await Promise.all([PgEventStore.open(url), PgEventStore.open(url), PgEventStore.open(url)]);
  t.after(() => Promise.all(stores.map((s) => s.close())).then(() => undefined));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const applied = (await client.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).rows.map((r) => r.name);
    assert.deepEqual(applied, names(PG_MIGRATIONS_DIR));
  } finally {
    await client.end();
  }
  assert.equal(stores[0]!.location, url, 'no password in this URL to hide');
});

test('PostgreSQL: the migrations runner applies new files in order, each once, and rolls a failing one back whole', { skip: kinds[1]!.skip }, async (t) => {
  const dir = tempDir(t);
  // Ended here, before the database is dropped (after-hooks run in the order they were added).
  const pool = new pg.Pool({ connectionString: await testDatabase(t) });
  try {
    writeFileSync(join(dir, '0002_b.sql'), 'ALTER TABLE a ADD COLUMN y INTEGER;');
    writeFileSync(join(dir, '0001_a.sql'), 'CREATE TABLE a (x INTEGER);');
    writeFileSync(join(dir, 'notes.txt'), 'not a migration');
    assert.deepEqual(await migratePostgres(pool, dir), ['0001_a.sql', '0002_b.sql']);
    assert.deepEqual(await migratePostgres(pool, dir), []);
    writeFileSync(join(dir, '0003_bad.sql'), 'CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);');
    await assert.rejects(migratePostgres(pool, dir), /migration 0003_bad\.sql failed: .*nowhere/);
    assert.deepEqual((await pool.query("SELECT 1 FROM pg_tables WHERE tablename = 'c'")).rows, []);
    assert.deepEqual((await pool.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).rows.map((r) => r.name), ['0001_a.sql', '0002_b.sql']);
  } finally {
    await pool.end();
  }
});

test("PostgreSQL: a running store's prepared statements survive another host's newer kiln adding columns", { skip: kinds[1]!.skip }, async (t) => {
  const url = await testDatabase(t);
  const [running, newer] = [await PgEventStore.open(url), await PgEventStore.open(url)];
  t.after(() => Promise.all([running.close(), newer.close()]).then(() => undefined));
  await running.createBuild(build('b1'), { type: 'build.started' });
  await running.append('b1', { type: 'phase.started', phase: 'prepare', attempt: 1 });
  assert.equal((await running.getBuild('b1'))!.lastSeq, 2);
  assert.equal((await running.events('b1', { withoutOutput: true })).length, 2);
  assert.equal((await running.lastEvent('b1', 'phase.started'))?.seq, 2);
  // A later migration, applied by another host while this store's connections stay open.
  await newer.pool.query('ALTER TABLE builds ADD COLUMN later_column TEXT; ALTER TABLE events ADD COLUMN later_column TEXT');
  await running.append('b1', { type: 'phase.started', phase: 'server.create', attempt: 1 });
  await newer.append('b1', { type: 'provision.output', data: { lines: ['from the newer host'] } });
  await running.append('b1', { type: 'phase.succeeded', phase: 'server.create', attempt: 1 });
  assert.equal((await running.getBuild('b1'))!.lastSeq, 5);
  assert.deepEqual((await running.events('b1')).map((e) => e.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual((await running.events('b1', { withoutOutput: true })).map((e) => e.seq), [1, 2, 3, 5]);
  assert.equal((await running.lastEvent('b1', 'phase.started'))?.seq, 3);
});
